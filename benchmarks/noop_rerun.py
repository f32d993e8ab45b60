"""Where the seconds of a no-op `python -m lib run` go (figures printed, never asserted).

First completes the profile (`python -m lib run PARAMS --no-render`: trains whatever is
missing, so point REPORTS_DIR at a scratch folder or use a profile already run), then times
the same command again `--repeat` times (every run must come back "cached"), and breaks the
no-op down in this process: imports, the dataset check, its checksum, planning and keys,
and verifying every run's artifacts (sha256 of each file listed in complete.json).

    DATA_DIR=../shared/data REPORTS_DIR=/tmp/r .venv/bin/python benchmarks/noop_rerun.py [params/smoke.yaml]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def cli(params: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "lib", "run", params, "--no-render"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    summary = [ln for ln in done.stderr.splitlines() if ln and ("cached" in ln or " ok" in ln)]
    return wall, (summary[-1].strip() if summary else done.stderr.strip()[-300:])


def breakdown(params: str) -> list[tuple[str, float]]:
    t = [time.perf_counter()]
    out = []

    def lap(name):
        t.append(time.perf_counter())
        out.append((name, t[-1] - t[-2]))

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
    from aestudy.runner import records, sweep  # torch, via the dataset checksum's module
    from aestudy.runner.paramfile import load_study
    from aestudy.runner.plan import plan

    lap("import the runner")
    study = load_study(params)
    lap("load and validate the parameter file")
    checksum = sweep.data_checksum(study)
    lap("dataset checksum (sha256 of the raw files)")
    rows = sweep.status(study)
    lap(
        f"plan {len(plan(study))} runs and check their inputs, modules and artifacts "
        f"({sum(r['state'] == 'complete' for r in rows)} complete)"
    )
    del records, checksum
    import pandas  # noqa: F401  (write_tables)
    import tqdm.auto  # noqa: F401

    lap("import pandas, tqdm (tables, progress)")
    for name in ("papermill", "torchvision"):
        if name in sys.modules:
            out.append((f"(note: {name} was imported)", 0.0))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("params", nargs="?", default="params/smoke.yaml")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    params = str(Path(args.params).resolve())

    wall, summary = cli(params)
    print(f"completing the profile first: {wall:.1f} s ({summary})", flush=True)
    walls = []
    for _ in range(args.repeat):
        wall, summary = cli(params)
        walls.append(wall)
        print(f"  no-op `python -m lib run {args.params} --no-render`: {wall:.2f} s ({summary})", flush=True)
    print(f"best of {len(walls)}: {min(walls):.2f} s (rendering not included)\n")
    print("in-process breakdown of the same no-op:")
    for name, seconds in breakdown(params):
        print(f"  {seconds:6.2f} s  {name}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())
