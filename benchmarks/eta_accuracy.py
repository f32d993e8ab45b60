"""How good the sweep's ETA is: the ETA the display showed at 25 % and 50 % of the sweep's wall
time against the time that was really left (figures printed, never asserted).

Runs `python -m lib run PARAMS [RUN ARGS]` with $AESTUDY_ETA_LOG set (the display appends an
`elapsed eta` sample every 5 s, and `elapsed end` when the sweep ends), its output passed through,
then reads the samples. Or reads a log an earlier command wrote (`--log FILE`, no run).

    # a fresh default sweep (every run executed), then a rerun after editing transfer.py
    DATA_DIR=../shared/data .venv/bin/python benchmarks/eta_accuracy.py params/default.yaml --workers 2 --force --no-render
    echo "# touched" >> lib/aestudy/experiments/transfer/run.py
    DATA_DIR=../shared/data .venv/bin/python benchmarks/eta_accuracy.py params/default.yaml --workers 2 --no-render
    git checkout lib/aestudy/experiments/transfer/run.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FRACTIONS = (0.25, 0.5, 0.75)


def read_log(path) -> tuple[list[tuple[float, float | None]], float]:
    """([(elapsed, eta or None)], wall seconds of the sweep)."""
    samples, end = [], None
    for line in Path(path).read_text().splitlines():
        elapsed, value = line.split()
        if value == "end":
            end = float(elapsed)
        else:
            samples.append((float(elapsed), None if value == "?" else float(value)))
    if end is None:
        raise SystemExit(f"{path}: no 'end' line: the sweep did not finish")
    return samples, end


def accuracy(samples, wall: float, fractions=FRACTIONS) -> list[dict]:
    """For each fraction f of the wall time: the last ETA shown by then against the time left."""
    rows = []
    for f in fractions:
        shown = [(t, e) for t, e in samples if t <= f * wall and e is not None]
        if not shown:
            rows.append({"fraction": f, "at": None})
            continue
        t, e = shown[-1]
        true = wall - t
        rows.append(
            {"fraction": f, "at": t, "eta": e, "true": true, "error": (e - true) / true if true else 0.0}
        )
    return rows


def clock(s: float) -> str:
    s = int(round(s))
    return f"{s // 60}:{s % 60:02d}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("params", nargs="?", help="parameter file to run")
    parser.add_argument("--log", help="read this ETA log instead of running a sweep")
    args, run_args = parser.parse_known_args()
    if args.log:
        log = args.log
    else:
        if not args.params:
            parser.error("give a parameter file, or --log FILE")
        log = os.path.join(tempfile.mkdtemp(prefix="eta-"), "eta.log")
        env = {**os.environ, "AESTUDY_ETA_LOG": log}
        code = subprocess.call(
            [sys.executable, "-m", "lib", "run", args.params, *run_args], cwd=REPO_ROOT, env=env
        )
        print(f"run exited {code}; ETA samples in {log}")
    samples, wall = read_log(log)
    print(f"sweep wall time {clock(wall)} ({len(samples)} samples)")
    print("| at | time | ETA shown | really left | error |\n| --- | --- | --- | --- | --- |")
    for r in accuracy(samples, wall):
        if r["at"] is None:
            print(f"| {r['fraction']:.0%} | - | no ETA yet | | |")
        else:
            print(
                f"| {r['fraction']:.0%} | {clock(r['at'])} | {clock(r['eta'])} | {clock(r['true'])} | "
                f"{r['error']:+.0%} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
