"""A runner killed with SIGKILL at random moments, resumed after each kill (figures printed, never asserted).

First an uninterrupted `python -m lib run PARAMS --no-render --workers W` into a scratch
REPORTS_DIR, then the same sweep into another one, SIGKILLing the runner process alone (as a
crash would: not its process group) at `--kills` seeded random moments and starting the same
command again after each. Printed: kills, resumes, runs interrupted and executed again, complete
runs executed again (should be 0), processes of a killed runner (kernels, pool workers) still
alive 10 s after its kill (should be 0) and how long the last took to go, whether every run is
complete at the end, and whether each table equals the uninterrupted sweep's byte for byte
(compared after one more command, when every run of both is cached: the `status` and `seconds`
columns of a table say how the runs went in that command). Linux (reads /proc).

    DATA_DIR=../shared/data .venv/bin/python benchmarks/random_kills.py [--kills 8] [--workers 2] [params/smoke.yaml]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
MARK = "AESTUDY_KILL_BENCH"  # in a runner's environment, so in every process it starts


def launch(params: str, reports: Path, workers: int, log: Path, mark: str) -> subprocess.Popen:
    env = {**os.environ, "REPORTS_DIR": str(reports), MARK: mark}
    with open(log, "w") as err:  # a file, not a pipe: a process left alive would hold a pipe open
        return subprocess.Popen(
            [sys.executable, "-m", "lib", "run", params, "--no-render", "--workers", str(workers)],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def marked(mark: str) -> list[int]:
    """Live processes (not zombies) whose environment holds MARK=mark."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"{MARK}={mark}".encode() in env and state not in "ZX":
            found.append(int(pid))
    return found


def records(pdir: Path) -> dict[str, bytes]:
    """complete.json of every run on disk, by run."""
    return {
        p.parent.relative_to(pdir / "runs").as_posix(): p.read_bytes()
        for p in (pdir / "runs").glob("*/*/complete.json")
    }


def started(pdir: Path) -> set[tuple[str, int]]:
    """(run, its folder's modification time) of every run begun: between two kills only the
    command killed second writes, so a folder modified since the last kill was executed again."""
    return {
        (p.relative_to(pdir / "runs").as_posix(), p.stat().st_mtime_ns)
        for p in (pdir / "runs").glob("*/*")
        if p.is_dir()
    }


def complete_sweep(params: str, reports: Path, workers: int, log: Path) -> float:
    start = time.perf_counter()
    code = launch(params, reports, workers, log, uuid.uuid4().hex).wait()
    if code != 0:
        sys.exit(f"`python -m lib run {params}` exited {code}:\n{log.read_text()[-3000:]}")
    return time.perf_counter() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("params", nargs="?", default="params/smoke.yaml")
    ap.add_argument("--kills", type=int, default=8)
    ap.add_argument(
        "--workers", type=int, default=2, help="the same for every command (threads per run follow it)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folders")
    args = ap.parse_args(argv)
    params = str(Path(args.params).resolve())
    profile = yaml.safe_load(Path(params).read_text())["profile"]
    scratch = Path(tempfile.mkdtemp(prefix="random-kills-"))
    base, killed, log = scratch / "uninterrupted", scratch / "killed", scratch / "stderr.txt"
    rng = random.Random(args.seed)

    wall = complete_sweep(params, base, args.workers, log)
    noop = complete_sweep(params, base, args.workers, log)
    print(
        f"uninterrupted sweep: {wall:.1f} s; no-op command: {noop:.1f} s (workers {args.workers})", flush=True
    )

    pdir = killed / profile
    kills = resumes = leftover = finished_early = 0
    slowest_exit, kept, spent, interrupted = 0.0, {}, 0.0, set()
    while kills < args.kills:
        at = rng.uniform(0.3, noop + 2 * (wall - noop) / args.kills)
        mark, start = uuid.uuid4().hex, time.perf_counter()
        proc = launch(params, killed, args.workers, log, mark)
        resumes += kills > 0
        try:
            code = proc.wait(timeout=at)
            spent += time.perf_counter() - start
            finished_early = 1
            print(f"  command {kills + 1} finished before its kill at {at:.1f} s (exit {code})", flush=True)
            break
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        spent += time.perf_counter() - start
        kills += 1
        killed_at = time.perf_counter()
        while marked(mark) and time.perf_counter() - killed_at < 10:
            time.sleep(0.05)
        gone = time.perf_counter() - killed_at
        alive = marked(mark)
        leftover += len(alive)
        for pid in alive:  # not left behind
            os.kill(pid, signal.SIGKILL)
        slowest_exit = max(slowest_exit, gone)
        done = records(pdir) if pdir.exists() else {}
        half = {(run, mtime) for run, mtime in started(pdir) if run not in done} if pdir.exists() else set()
        interrupted |= half
        kept.update({k: v for k, v in done.items() if k not in kept})
        print(
            f"  kill {kills} at {at:5.1f} s: {len(done)} runs complete, {len(half)} begun but not complete, "
            f"{len(alive)} processes left after 10 s (all gone after {gone:.2f} s)",
            flush=True,
        )
    start = time.perf_counter()
    complete_sweep(params, killed, args.workers, log)
    spent += time.perf_counter() - start
    final = records(pdir)
    redone = sorted(k for k, v in kept.items() if final.get(k) != v)
    complete_sweep(params, killed, args.workers, log)  # every run cached in both: comparable tables
    status = subprocess.run(
        [sys.executable, "-m", "lib", "status", params],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "REPORTS_DIR": str(killed)},
    )
    states = [ln.split()[1] for ln in status.stdout.splitlines() if ln.strip()]

    print(
        f"kills: {kills}; resumes: {resumes}{' (the last finished before its kill)' if finished_early else ''}"
    )
    print(f"runs interrupted by a kill (executed again): {len(interrupted)}")
    print(
        f"runs complete at a kill and executed again afterwards: {len(redone)} {redone if redone else ''}".rstrip()
    )
    print(
        f"processes of a killed runner alive 10 s after the kill: {leftover} "
        f"(slowest to go: {slowest_exit:.2f} s after the kill)"
    )
    print(
        f"every run complete at the end: {'yes' if states and set(states) == {'complete'} else 'no'} "
        f"({states.count('complete')}/{len(states)})"
    )
    print(f"wall time of all the killed and resumed commands: {spent:.1f} s (uninterrupted: {wall:.1f} s)")
    same = True
    for table in sorted((base / profile / "tables").glob("*.csv")):
        other = pdir / "tables" / table.name
        equal = other.exists() and other.read_bytes() == table.read_bytes()
        same &= equal
        print(f"  tables/{table.name}: {'identical' if equal else 'DIFFERENT'}")
    print(f"tables identical to the uninterrupted sweep's: {'yes' if same else 'no'}")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        print(f"kept: {scratch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
