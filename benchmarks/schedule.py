"""Wall time of one sweep scheduled as a dependency graph against stage by stage (figures
printed, never asserted).

Runs `python -m lib run PARAMS --force --no-render --workers N` twice in one go, into fresh
temporary REPORTS_DIRs: once as the runner does (a run starts when the runs it uses are done)
and once with every run waiting for the whole previous stage (`schedule="stages"`, the old
behaviour), then prints both wall times, their ratio, and for the graph run how many downstream
runs started before the last autoencoder finished.

    DATA_DIR=../shared/data .venv/bin/python benchmarks/schedule.py [params/smoke.yaml] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

DRIVER = """
import sys
sys.path.insert(0, {lib!r})
from aestudy.runner.paramfile import load_study
from aestudy.runner.sweep import run_study
run_study(load_study({params!r}), workers={workers}, force=True, progress=False, schedule={schedule!r})
"""


def sweep(params: Path, workers: int, schedule: str) -> dict:
    reports = Path(tempfile.mkdtemp(prefix=f"schedule-{schedule}-"))
    env = {k: v for k, v in os.environ.items() if k not in ("LIB_THREADS", "OMP_NUM_THREADS")}
    env["REPORTS_DIR"] = str(reports)
    code = DRIVER.format(lib=str(REPO_ROOT / "lib"), params=str(params), workers=workers, schedule=schedule)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{schedule} sweep failed:\n{done.stderr[-3000:]}")
    profile = next(p for p in reports.iterdir() if p.is_dir())
    runs = json.loads((profile / "runs.json").read_text())["runs"]
    finished = {}
    for r in runs:
        record = json.loads((Path(r["dir"]) / "complete.json").read_text()) if r["status"] == "ok" else {}
        end = time.mktime(time.strptime(record["finished"], "%Y-%m-%dT%H:%M:%S%z")) if record else None
        finished[f"{r['stage']}/{r['run_id']}"] = (end, r["seconds"])
    last_ae = max(e for n, (e, _) in finished.items() if n.startswith("autoencode/") and e)
    early = sum(
        1 for n, (e, s) in finished.items() if not n.startswith("autoencode/") and e and e - s < last_ae
    )
    return {"wall": wall, "n": len(runs), "early": early, "statuses": sorted({r["status"] for r in runs})}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("params", nargs="?", default=str(REPO_ROOT / "params" / "smoke.yaml"))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    params = Path(args.params).resolve()
    graph = sweep(params, args.workers, "graph")
    stages = sweep(params, args.workers, "stages")
    print(f"{params.name}, {graph['n']} runs, --workers {args.workers} (statuses {graph['statuses']}):")
    print(
        f"  dependency graph : {graph['wall']:7.1f} s wall; {graph['early']} downstream runs started "
        "before the last autoencoder finished"
    )
    print(f"  stage by stage   : {stages['wall']:7.1f} s wall; {stages['early']} started early")
    print(f"  graph / stages   : {graph['wall'] / stages['wall']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
