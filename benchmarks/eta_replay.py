"""The sweep's ETA replayed from a finished sweep's records: what `runner.eta.Costs` would have
shown, every 5 s, had the sweep started with no records (costs learned as it goes), against the
time that was really left. Each run's start and end are read from its record (`finished` less
`seconds`); a run in flight reports the fraction of its training loop done, taken as linear in its
time after a kernel start of KERNEL_S seconds (the display reads the run's own progress file).

No sweep is run, so estimators are compared on the same sweep in seconds (figures printed, never
asserted):

    .venv/bin/python benchmarks/eta_replay.py params/default.yaml     # the profile's runs on disk
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from aestudy.files import read_json  # noqa: E402
from aestudy.ondisk import RECORDS  # noqa: E402
from aestudy.runner.eta import Costs, InFlight, recorded_seconds  # noqa: E402
from aestudy.runner.paramfile import load_study  # noqa: E402
from aestudy.runner.plan import plan  # noqa: E402

KERNEL_S = 5.0  # a run's fraction stays 0 while its kernel starts and imports
FRACTIONS = (0.05, 0.10, 0.25, 0.50, 0.75)
STEP_S = 5.0


def spans(runs) -> dict[str, tuple[float, float]]:
    """{run: (start, end)} in seconds since the sweep's first start, from the runs' records."""
    out = {}
    for r in runs:
        for name in RECORDS:
            path = Path(r.dir) / name
            if path.is_file():
                rec = read_json(path)
                end = dt.datetime.fromisoformat(rec["finished"]).timestamp()
                out[r.name] = (end - rec["seconds"], end)
                break
    t0 = min(s for s, _ in out.values())
    return {n: (s - t0, e - t0) for n, (s, e) in out.items()}


def replay(runs, span: dict, project: bool = True, step: float = STEP_S) -> list[tuple[float, float | None]]:
    """[(elapsed, eta)] every `step` seconds, as the display would have computed it (`project`:
    with the runs in flight projected by their own pace, as the display does; else without)."""
    costs = Costs(runs, declared=None, recorded={})
    watched = {n: InFlight(s) for n, (s, _) in span.items()}  # as the display watches each run
    first = min(s for s, _ in span.values())
    wall = max(e for _, e in span.values())
    reported: set[str] = set()
    samples, t = [], step
    while t < wall:
        for n, (s, e) in span.items():
            if e <= t and n not in reported:
                costs.finished(n, "ok", e - s)
                reported.add(n)
        done = {n for n, (_, e) in span.items() if e <= t}
        flight = {
            n: max(0.0, min(1.0, (t - s - KERNEL_S) / max(e - s - KERNEL_S, 1e-9)))
            for n, (s, e) in span.items()
            if s <= t < e
        }
        for n, f in flight.items():
            watched[n].update(t, f)
        projected = {n: p for n in flight if project and (p := watched[n].projected(t)) is not None}
        samples.append((t, costs.eta(t - first, done, flight, projected)))
        t += step
    return samples


def errors(samples, wall: float, fractions=FRACTIONS) -> list[tuple[float, float | None]]:
    out = []
    for f in fractions:
        shown = [(t, e) for t, e in samples if t <= f * wall and e is not None]
        out.append((f, None if not shown else (shown[-1][1] - (wall - shown[-1][0])) / (wall - shown[-1][0])))
    return out


def early_error(samples, wall: float, until: float = 0.25) -> float:
    """The mean |error| of the ETAs shown in the first `until` of the sweep (unknown ETAs left out)."""
    errs = [abs(e - (wall - t)) / (wall - t) for t, e in samples if t <= until * wall and e is not None]
    return sum(errs) / len(errs) if errs else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("params")
    args = parser.parse_args()
    runs = plan(load_study(args.params))
    runs = [r for r in runs if recorded_seconds(r.dir) is not None]
    span = spans(runs)
    wall = max(e for _, e in span.values())
    print(f"{len(runs)} runs, wall {wall / 60:.1f} min (from their records)")
    print(
        "| runs in flight | "
        + " | ".join(f"error at {f:.0%}" for f in FRACTIONS)
        + " | mean abs. error, first quarter |"
    )
    print("| --- " * (len(FRACTIONS) + 2) + "|")
    for project in (False, True):
        samples = replay(runs, span, project=project)
        cells = " | ".join("-" if e is None else f"{e:+.0%}" for _, e in errors(samples, wall))
        label = "projected by their own pace" if project else "costed as their siblings"
        print(f"| {label} | {cells} | {early_error(samples, wall):.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
