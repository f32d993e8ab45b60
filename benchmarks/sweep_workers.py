"""Wall time of a small autoencode sweep with 1 and with 2 workers (figures printed, never asserted).

Runs `python -m lib run PARAMS --force --no-render --workers N` on a 4-run sweep
(d in {5, 10} x num_conv in {1, 2}) into a fresh temporary REPORTS_DIR per setting, then
prints each wall time, the ratio to one worker, and the largest peak resident memory of
the runs (benchmarks/peak_memory.py). Each run is one papermill execution: a kernel start
and `import torch` (about 4 s on 2 cores) plus its training, so workers overlap both.

    DATA_DIR=../shared/data .venv/bin/python benchmarks/sweep_workers.py [--workers 1 2] [--dask]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from peak_memory import report as peak_report  # noqa: E402  (benchmarks/peak_memory.py)

SWEEP = """\
profile: sweep
data: {{dataset: mnist, data_dir: data, train_size: {train_size}, test_size: {test_size}}}
stages:
  autoencode:
    grid: {{latent_dim: [5, 10], num_conv: [1, 2]}}
    params: {{c_factor: 8, kernel_size: 3, fc_hidden: 256, epochs: {epochs}, batch_size: 64,
             optimizer: adam, lr: 1.0e-3, seed: 0}}
"""


def sweep(params: Path, workers: int, executor: str, keep: Path | None) -> dict:
    reports = Path(tempfile.mkdtemp(prefix=f"sweep-w{workers}-{executor}-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LIB_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    }
    env["REPORTS_DIR"] = str(reports)
    cmd = [
        sys.executable,
        "-m",
        "lib",
        "run",
        str(params),
        "--force",
        "--no-render",
        "--workers",
        str(workers),
        "--executor",
        executor,
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    runs = json.loads((reports / "sweep" / "runs.json").read_text())
    out = {
        "workers": workers,
        "executor": executor,
        "wall": wall,
        "sweep": runs["wall_seconds"],
        "run_seconds": sum(r["seconds"] for r in runs["runs"]),
        "n": len(runs["runs"]),
        "statuses": sorted({r["status"] for r in runs["runs"]}),
        "dir": reports / "sweep",
    }
    if keep:
        shutil.copytree(reports, keep / reports.name)
    return out


def main(argv=None) -> int:
    from aestudy.runner.executors import threads_per_worker

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument(
        "--dask", action="store_true", help="also time the largest --workers on a Dask LocalCluster"
    )
    ap.add_argument("--train-size", type=int, default=2000)
    ap.add_argument("--test-size", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="copy each REPORTS_DIR under this folder")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="sweep-params-"))
    params = tmp / "sweep.yaml"
    params.write_text(SWEEP.format(train_size=args.train_size, test_size=args.test_size, epochs=args.epochs))
    settings = [(w, "local") for w in args.workers] + ([(max(args.workers), "dask")] if args.dask else [])
    print(
        f"4 autoencode runs (train {args.train_size}, test {args.test_size}, {args.epochs} epoch), "
        f"{os.cpu_count()} cores, DATA_DIR={os.environ.get('DATA_DIR', '(unset)')}",
        flush=True,
    )
    results = []
    for workers, executor in settings:
        res = sweep(params, workers, executor, args.keep)
        results.append(res)
        print(
            f"  workers={workers} ({executor}): {res['wall']:.1f} s wall "
            f"({res['n']} runs: {', '.join(res['statuses'])})",
            flush=True,
        )

    base = results[0]["wall"]
    print(
        "\n| workers | executor | threads per run | wall s (command) | sweep s (runs.json) | "
        "sum of run s | speed-up vs first |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['workers']} | {r['executor']} | {threads_per_worker(r['workers'])} | {r['wall']:.1f} | "
            f"{r['sweep']:.1f} | {r['run_seconds']:.1f} | {base / r['wall']:.2f} |"
        )
    print()
    for r in results:
        peak_report(r["dir"])
        shutil.rmtree(r["dir"].parent, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
