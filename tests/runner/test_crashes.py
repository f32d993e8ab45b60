"""A disk that refuses a write, and a runner killed at random moments: nothing half written counts,
every run completed before stays complete, and nothing the runner started outlives it.

Writes fail for real where they can: a file size limit (RLIMIT_FSIZE; CPython ignores SIGXFSZ, so a
write past the limit fails with EFBIG), set in a kernel or for a runner process of its own. Where
the file must be one chosen file of the runner (a table, runs.json), `os.replace` raises ENOSPC for
that path only. The stand-in `theory` notebooks are those of test_faults.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
from test_faults import notebooks, params_file, run_cli, stand_in  # noqa: F401 (notebooks is a fixture)

from aestudy import config, files
from aestudy.runner import records

REPO = Path(__file__).resolve().parents[2]
RUNNER = """import pathlib, resource, sys
sys.path.insert(0, "lib")
from aestudy import config
config.NOTEBOOKS = pathlib.Path(sys.argv[1])  # the stand-in notebooks
if sys.argv[2] != "-":
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.RLIM_INFINITY))
from aestudy.cli import main
sys.exit(main(sys.argv[3:]))
"""
MARK = "AESTUDY_TEST_LAUNCH"  # in the environment of a runner and so of every process it starts


def runner(nb_dir: Path, *argv, fsize: int | None = None) -> list[str]:
    """`python -m lib ARGV` as a process of its own, executing the stand-in notebooks of `nb_dir`;
    with `fsize`, it and its kernels cannot write a file past that many bytes."""
    return [sys.executable, "-c", RUNNER, str(nb_dir), str(fsize or "-"), *map(str, argv)]


def run_dir(run_id: str) -> Path:
    return config.profile_dir("faults") / "runs" / "theory" / run_id


def leftovers(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*.tmp")]


# ------------------------------------------------------------------ the atomic writer (fast)


def test_a_write_past_the_file_size_limit_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "complete.json"
    target.write_text("the old record")
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.RLIM_INFINITY))\n"
        "from aestudy.files import WriteFailed, atomic_write_bytes\n"
        "try:\n"
        "    atomic_write_bytes(sys.argv[1], b'x' * 5000)\n"
        "except WriteFailed as exc:\n"
        "    print(exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO / "lib")},
    )
    assert proc.stdout.strip() == f"cannot write {target}: [Errno {errno.EFBIG}] File too large", proc.stderr
    assert target.read_text() == "the old record" and leftovers(tmp_path) == []


def test_a_rename_the_disk_refuses_is_one_line_naming_the_file(tmp_path, monkeypatch):
    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    files.write_json(tmp_path / "runs.json", {"old": True})
    monkeypatch.setattr(files.os, "replace", full)
    with pytest.raises(files.WriteFailed) as caught:
        files.write_json(tmp_path / "runs.json", {"new": True})
    assert str(caught.value) == f"cannot write {tmp_path / 'runs.json'}: [Errno 28] No space left on device"
    assert isinstance(caught.value, OSError) and caught.value.errno == errno.ENOSPC
    assert json.loads((tmp_path / "runs.json").read_text()) == {"old": True} and leftovers(tmp_path) == []


# ------------------------------------------------------------------ write failures in a sweep (slow)


@pytest.mark.slow
def test_an_artifact_the_notebook_cannot_write_fails_its_run_only(tmp_path, notebooks, capsys):
    stand_in(
        notebooks,
        """\
             import pathlib, resource
             from aestudy.files import atomic_write_bytes
             if seed == 1:  # this kernel cannot write a file past 1000 bytes
                 resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.RLIM_INFINITY))
             atomic_write_bytes(pathlib.Path(out_dir) / "big.bin", b"x" * 5000)
             """,
    )
    params = params_file(tmp_path, [0, 1, 2])
    code, err, runs = run_cli(["run", params, "--no-render"], capsys)
    assert code == 1
    assert [runs[r]["status"] for r in ("s0", "s1", "s2")] == ["ok", "failed", "ok"]
    line = f"cannot write {run_dir('s1') / 'big.bin'}: [Errno {errno.EFBIG}] File too large"
    assert runs["s1"]["error"] == line and f"failed: theory/s1: {line}" in err
    assert not (run_dir("s1") / records.COMPLETE).exists() and leftovers(run_dir("s1")) == []
    assert json.loads((run_dir("s1") / records.FAILED).read_text())["kind"] == "error"
    code, err, runs = run_cli(["run", params, "--no-render"], capsys)
    assert (runs["s0"]["status"], runs["s2"]["status"]) == ("cached", "cached")


@pytest.mark.slow
def test_a_completion_record_the_disk_refuses_fails_its_run_and_the_others_stay_complete(tmp_path, notebooks):
    """A runner that cannot write a file past 16 KiB: the run listing 400 artifacts cannot write
    its complete.json (EFBIG, for real); the next command without the limit re-executes it only."""
    stand_in(
        notebooks,
        """\
             import pathlib
             for i in range(400 if seed == 1 else 1):
                 (pathlib.Path(out_dir) / f"part-{i:03d}.txt").write_text(str(i))
             """,
    )
    params = params_file(tmp_path, [0, 1, 2])
    first = subprocess.run(
        runner(notebooks, "run", params, "--no-render", fsize=16384),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 1, first.stderr[-3000:]
    line = f"cannot write {run_dir('s1') / records.COMPLETE}: [Errno {errno.EFBIG}] File too large"
    assert f"  failed: theory/s1: {line}  (" in first.stderr, first.stderr[-3000:]
    assert "Traceback" not in first.stderr
    assert not (run_dir("s1") / records.COMPLETE).exists() and leftovers(run_dir("s1")) == []
    for run_id in ("s0", "s2"):
        assert records.verify_completion(run_dir(run_id))[0] is not None
    status = subprocess.run(
        runner(notebooks, "status", params), cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert [ln.split()[1] for ln in status.stdout.splitlines()] == ["complete", "failed", "complete"], (
        status.stdout
    )
    again = subprocess.run(
        runner(notebooks, "run", params, "--no-render"), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr[-3000:]
    statuses = {
        r["run_id"]: r["status"]
        for r in json.loads((config.profile_dir("faults") / "runs.json").read_text())["runs"]
    }
    assert statuses == {"s0": "cached", "s1": "ok", "s2": "cached"}


@pytest.mark.slow
@pytest.mark.parametrize("refused", ["tables/theory.csv", "runs.json", "s1/complete.json s1/failed.json"])
def test_a_file_the_disk_refuses_is_one_line_exit_1_and_loses_no_run(
    tmp_path, notebooks, capsys, monkeypatch, refused
):
    """ENOSPC on renaming the chosen files into place: a table or runs.json (every run completes,
    the command says which file, once, and exits 1), or a run's complete.json and then its
    failed.json too (that run fails, the other completes, nothing crashes)."""
    stand_in(notebooks)
    params = params_file(tmp_path, [0, 1])
    real = os.replace

    def replace(src, dst):
        if any(str(dst).endswith("/" + name) for name in refused.split()):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)
    code, err, runs = run_cli(["run", params, "--no-render"], capsys)
    monkeypatch.setattr(files.os, "replace", real)
    pdir = config.profile_dir("faults")
    assert code == 1 and "Traceback" not in err
    assert leftovers(pdir) == []
    if refused.startswith("s1"):
        line = f"cannot write {run_dir('s1') / records.COMPLETE}: [Errno 28] No space left on device"
        assert f"  failed: theory/s1: {line}  (" in err and runs["s0"]["status"] == "ok"
        assert (
            not (run_dir("s1") / records.COMPLETE).exists() and not (run_dir("s1") / records.FAILED).exists()
        )
        expect = {"s0": "cached", "s1": "ok"}
    else:
        assert (
            err.strip().splitlines()[-1]
            == f"error: cannot write {pdir / refused}: [Errno 28] No space left on device"
        )
        for run_id in ("s0", "s1"):
            assert records.verify_completion(run_dir(run_id))[0] is not None
        expect = {"s0": "cached", "s1": "cached"}
    code, err, runs = run_cli(["run", params, "--no-render"], capsys)
    assert code == 0 and {r: runs[r]["status"] for r in runs} == expect
    assert (pdir / "tables" / "theory.csv").exists()


# ------------------------------------------------------------------ random kills (slow)


def marked(mark: str) -> list[str]:
    """Live processes (not zombies) whose environment holds MARK=mark: a runner's descendants."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if f"{MARK}={mark}".encode() in env and stat.rsplit(")", 1)[1].split()[0] not in "ZX":
            found.append(f"{pid} {stat.split(')')[0].split('(', 1)[1]}")
    return found


KILL_CELL = """\
import pathlib, time
time.sleep(0.2 + 0.1 * seed)
(pathlib.Path(out_dir) / "data.bin").write_bytes(bytes(range(256)) * (100 + seed))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_runner_killed_at_random_moments_resumes_to_the_same_tables(tmp_path, notebooks):
    """SIGKILL of the runner process alone, as a crash would, at 3 seeded random moments of a
    6-run sweep (2 workers, then 1, then 2); after each kill no kernel or pool worker of it is
    alive 10 s later, and every complete.json on disk is intact; the next command takes the
    dead runner's lock over and resumes. At the end every run is complete and the tables (after
    one more command, when every run is cached) equal an uninterrupted sweep's, value for value
    (but the runs' seconds), and so do the runs' metrics, byte for byte."""
    stand_in(notebooks, KILL_CELL)
    params = params_file(tmp_path, range(6))

    log = tmp_path / "stderr.txt"  # a file, not a pipe: a process left alive would hold a pipe open

    def launch(reports: Path, workers: int, mark: str = "") -> subprocess.Popen:
        env = {**os.environ, "REPORTS_DIR": str(reports), MARK: mark or uuid.uuid4().hex}
        with open(log, "w") as err:
            return subprocess.Popen(
                runner(notebooks, "run", params, "--no-render", "--workers", workers),
                cwd=REPO,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def finish(reports: Path, workers: int = 2) -> str:
        proc = launch(reports, workers)
        assert proc.wait(timeout=300) == 0, log.read_text()[-3000:]
        return log.read_text()

    base, killed = tmp_path / "uninterrupted", tmp_path / "killed"
    start = time.perf_counter()
    finish(base)
    wall = time.perf_counter() - start
    rng, kills, took_over = random.Random(20261127), 0, 0
    for workers in (2, 1, 2):
        mark = uuid.uuid4().hex
        proc = launch(killed, workers, mark)
        try:
            code = proc.wait(timeout=rng.uniform(0.5, wall))
            assert code == 0, log.read_text()[-3000:]  # finished before its kill (not refused: exit 2)
            continue
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        kills += 1
        deadline = time.monotonic() + 10
        while marked(mark) and time.monotonic() < deadline:
            time.sleep(0.2)
        alive = marked(mark)
        for line in alive:  # not left behind for the next tests
            os.kill(int(line.split()[0]), signal.SIGKILL)
        assert alive == [], "left alive 10 s after the runner was killed"
        pdir = killed / "faults"
        for d in (pdir / "runs" / "theory").glob("*"):  # a completion record on disk is never torn or stale
            if (d / records.COMPLETE).exists():
                assert records.verify_completion(d)[0] is not None, d
        owner = pdir / ".lock.json"
        took_over += owner.exists() and json.loads(owner.read_text())["pid"] == proc.pid
    finish(killed)
    assert "6 cached" in finish(killed) and "6 cached" in finish(base)
    assert kills >= 2 and took_over >= 1, (kills, took_over)
    tables = sorted(p.name for p in (base / "faults" / "tables").glob("*.csv"))
    assert tables == ["theory.csv"]
    for name in tables:  # every column but `seconds`, each run's own execution time (a cached run's recorded)
        same = [pd.read_csv(d / "faults" / "tables" / name).drop(columns="seconds") for d in (killed, base)]
        pd.testing.assert_frame_equal(*same, check_exact=True)
    for d in (base / "faults" / "runs" / "theory").iterdir():
        for name in ("metrics.json", "data.bin"):
            assert (killed / "faults" / "runs" / "theory" / d.name / name).read_bytes() == (
                d / name
            ).read_bytes()
    assert leftovers(killed) == []
