"""A profile's sweep replayed on N simulated workers under each priority rule (figures printed,
never asserted): how long a fresh sweep's schedule takes, from the seconds a finished sweep
recorded, when the scheduler knows nothing (each run counts one), when it knows the stages' cost
models (`eta.Costs` on a fresh sweep: semisup's arithmetic against the autoencoders'), and when it
knows every run's recorded seconds (what a second command on the profile knows); and on a fresh
sweep, the cost models without the scouts (`sweep._critical_path_first` alone: no run of a stage
that nothing tells goes first). With `--eta`, the fresh sweep's ETA on each fresh order's simulated
schedule (`eta_replay.replay`: error at 5-75 % of the wall time, mean over the first quarter).

The replay is the executors' rule (`executors._ready`): whenever a worker is free, the ready run
with the highest priority starts; a run is ready when the runs it uses are done. It counts no
kernel start and no sharing of the cores, so it measures the order, not the machine. The lower
bound is the larger of the total seconds over N and the longest chain.

    DATA_DIR=../shared/data .venv/bin/python benchmarks/schedule_replay.py [params/large.yaml] [--workers 2 8] [--eta]
"""

from __future__ import annotations

import argparse
import heapq
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "lib"))

from aestudy.runner.eta import Costs, recorded_seconds  # noqa: E402
from aestudy.runner.paramfile import load_study  # noqa: E402
from aestudy.runner.plan import plan  # noqa: E402
from aestudy.runner.sweep import _critical_path_first, _priority, _wait_for  # noqa: E402


def replay(runs, seconds: dict, priority: dict, workers: int) -> tuple[float, dict]:
    """Makespan and each run's end time of list scheduling on `workers` workers."""
    wait_for = _wait_for(runs, "graph")
    pending = list(runs)
    ends: dict[str, float] = {}
    running: list[tuple[float, str]] = []
    now = 0.0
    while pending or running:
        ready = [r for r in pending if all(u in ends for u in wait_for[r.name])]
        ready.sort(key=lambda r: -priority.get(r.name, 0))  # stable: plan order breaks ties
        for r in ready[: workers - len(running)]:
            pending.remove(r)
            heapq.heappush(running, (now + seconds[r.name], r.name))
        now, name = heapq.heappop(running)
        ends[name] = now
    return now, ends


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("params", nargs="?", default="params/large.yaml")
    ap.add_argument("--workers", type=int, nargs="+", default=[2, 8])
    ap.add_argument("--eta", action="store_true", help="the fresh sweep's ETA on each fresh order's schedule")
    args = ap.parse_args()
    runs = plan(load_study(args.params))
    seconds = {r.name: recorded_seconds(r.dir) for r in runs}
    missing = [n for n, s in seconds.items() if s is None]
    if missing:
        sys.exit(
            f"{args.params}: {len(missing)} runs have no record (run the profile first), e.g. {missing[0]}"
        )
    rules = {
        "one each (before)": _priority(runs, Costs(runs, declared={}, recorded={})),
        "cost models (fresh)": _priority(runs, Costs(runs, declared={}, recorded={}, order_prior=True)),
        "fresh, no scouts": _critical_path_first(
            runs, Costs(runs, declared={}, recorded={}, order_prior=True)
        ),
        "recorded seconds": _priority(runs, Costs(runs, declared={}, recorded=seconds)),
    }
    chain = Costs(runs, declared={}, recorded=seconds).longest_chain(seconds, set(), {})
    total = sum(seconds.values())
    print(f"{args.params}: {len(runs)} runs, {total:.0f} s of work, longest chain {chain:.0f} s")
    for n in args.workers:
        bound = max(total / n, chain)
        print(f"\n{n} workers: lower bound {bound:.0f} s")
        for rule, priority in rules.items():
            span, ends = replay(runs, seconds, priority, n)
            last = max(ends, key=ends.get)
            semi = {k: v for k, v in ends.items() if k.startswith("semisup/")}
            where = ", ".join(f"{k} ends at {v:.0f} s" for k, v in semi.items())
            print(f"  {rule:22s} {span:7.0f} s  ({span / bound:.2f} x bound; last: {last}; {where})")
            if args.eta and rule in ("cost models (fresh)", "fresh, no scouts"):
                print("  " + " " * 22 + " ETA " + eta_words(runs, seconds, ends, span))


def eta_words(runs, seconds: dict, ends: dict, wall: float) -> str:
    """The fresh sweep's ETA on this simulated schedule, as `eta_replay` replays a recorded one."""
    from eta_replay import early_error, errors
    from eta_replay import replay as eta_replay

    samples = eta_replay(runs, {n: (ends[n] - seconds[n], ends[n]) for n in ends}, project=True)
    cells = ", ".join(f"{f:.0%}: {e:+.0%}" for f, e in errors(samples, wall) if e is not None)
    return f"{cells}; first quarter {early_error(samples, wall):.0%}"


if __name__ == "__main__":
    main()
