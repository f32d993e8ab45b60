"""Peak resident memory of the runs of a profile (figures printed, never asserted).

Every notebook writes `resources.json` with `peak_rss_mb`: the peak resident memory of its
kernel (the process that loads data and trains). This prints the largest value per stage and
over the whole profile, against the target of 2 GiB per run.

    .venv/bin/python benchmarks/peak_memory.py [reports/<profile> | <profile>]   (default: default)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_MB = 2048.0


def peaks(profile_dir: Path) -> list[tuple[str, float]]:
    """("stage/run_id", peak_rss_mb) of every run under `profile_dir`/runs that recorded one."""
    out = []
    for res in sorted((Path(profile_dir) / "runs").glob("*/*/resources.json")):
        try:
            value = json.loads(res.read_text()).get("peak_rss_mb")
        except (OSError, ValueError):
            continue
        if isinstance(value, (int, float)):
            out.append((f"{res.parent.parent.name}/{res.parent.name}", float(value)))
    return out


def report(profile_dir: Path, out=sys.stdout) -> float | None:
    """Print per-stage and overall maxima; return the overall maximum (None: no run recorded one)."""
    rows = peaks(profile_dir)
    if not rows:
        print(f"{profile_dir}: no run has a resources.json with peak_rss_mb", file=out)
        return None
    by_stage: dict[str, list[tuple[str, float]]] = {}
    for name, mb in rows:
        by_stage.setdefault(name.split("/")[0], []).append((name, mb))
    print(f"peak resident memory per run, {profile_dir} ({len(rows)} runs):", file=out)
    for stage, items in by_stage.items():
        name, mb = max(items, key=lambda t: t[1])
        print(f"  {stage:<12} {len(items):3d} runs, largest {mb:7.0f} MiB ({name})", file=out)
    name, mb = max(rows, key=lambda t: t[1])
    verdict = "within" if mb <= TARGET_MB else "OVER"
    print(
        f"  largest over the profile: {mb:.0f} MiB ({name}); {verdict} the {TARGET_MB:.0f} MiB target",
        file=out,
    )
    return mb


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("where", nargs="?", default="default", help="reports/<profile> folder or a profile name")
    args = ap.parse_args(argv)
    path = Path(args.where)
    if not (path / "runs").is_dir():
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
        from aestudy.config import reports_dir

        path = reports_dir() / args.where
    report(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
