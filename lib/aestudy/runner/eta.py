"""The sweep's ETA: each run weighted by what it is expected to cost, not counted as one.

A run's expected cost, in seconds of one worker, is the first of
1. the seconds it took this sweep (once it is done);
2. the seconds its last record says (`complete.json` or `failed.json` in its folder: the same run
   id, made by an earlier command on this profile);
   then, for a run in flight whose own loop has gone a tenth of its way while watched (`InFlight`),
   its seconds so far plus what its loop has left at that loop's own pace (`projected_seconds`):
   the first minutes of a sweep know nothing else of its long runs;
3. where the stage's package declares what a run costs relative to its siblings (a module `cost`
   with `relative_cost(params)`: autoencode's counts the multiply-accumulates of its training), the
   seconds of the stage's runs known so far (done this sweep or recorded on disk) fitted as a power
   of that cost (seconds = a * cost^k, k between 0 and 1: a larger model does more arithmetic per
   second; k drawn toward K_PRIOR until finished runs outweigh it), so a num_conv = 3 model is
   expected to take what the smaller models' seconds and its arithmetic say before any num_conv = 3
   model has finished; else the mean
   of the known runs that share the most telling grid values with it, each grid key weighted by how
   much the known runs' seconds differ between its values: `autoencode/d20-nc3-s1` is expected to
   cost what `d20-nc3-s0` did, not what `d20-nc1-s1` did; and for a stage none of whose runs is
   known yet, whose cost model counts in a unit another stage's shares (`cost.UNIT`), the same power
   over that stage's known runs: semisup's one run (the forward multiply-accumulates of its
   training, as autoencode's) is scaled from the autoencoders' seconds; only where the known runs'
   costs span a factor of 2 (the smoke profile's autoencoders, all one size and 2 s of mostly
   kernel start, would make its 3-s semisup run 71 s);
4. the stage's declared cost (`expected_seconds` on its study declaration, when it has one);
5. the mean of the runs known so far of the stages without a cost model where the run's stage has
   none (the long autoencoders and semisup's run say nothing of a transfer run), else of every run
   known, of any stage (nothing better is known yet), or one second on a sweep that knows none;
   and, for the scheduler's order alone (`order_prior`), times, for a stage whose cost model counts
   in a unit, its runs' median cost over the median of the sweep's runs in that unit, to the power
   K_PRIOR (`_prior_factor`): the priorities are computed once, before any run is known, and so
   weigh semisup's one run as its arithmetic says.
The runs in flight also count among the known runs of 3 by their projection. Cached runs cost
nothing. The ETA is the expected cost left (runs not started, and the part of the
runs in flight not done yet) at the pace of this sweep: the wall time so far per second of
expected cost done; but never less than the longest chain of runs left (a run waits for the runs
it uses, so a long run that starts late ends the sweep on one worker, whatever the others do).
"""

from __future__ import annotations

import functools
import importlib
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

from ..files import CorruptArtifact, read_json
from ..ondisk import RECORDS


def recorded_seconds(run_dir) -> float | None:
    """The seconds a run's last execution took, from its record; None when there is none."""
    for name in RECORDS:
        path = Path(run_dir) / name
        if path.is_file():
            try:
                seconds = read_json(path).get("seconds")
            except (CorruptArtifact, OSError, AttributeError):
                continue
            if isinstance(seconds, (int, float)) and seconds > 0:
                return float(seconds)
    return None


class Costs:
    """Expected seconds of each run of a sweep. `runs`: objects with `name`, `stage`, `grid` and
    `dir` (runner.plan.Run); `declared`: {stage: seconds} for stages with a declared cost."""

    def __init__(
        self, runs, declared: dict | None = None, recorded: dict | None = None, order_prior: bool = False
    ):
        self.runs = {r.name: r for r in runs}
        self.order_prior = order_prior  # weigh stages by their cost models before any run is known
        self.declared = (
            dict(declared) if declared is not None else _declared({r.stage for r in self.runs.values()})
        )
        # what earlier commands recorded (read once: they do not change while the sweep runs)
        self.recorded = (
            dict(recorded)
            if recorded is not None
            else {r.name: s for r in runs if (s := recorded_seconds(r.dir)) is not None}
        )
        self.actual: dict[str, float] = {}  # seconds of the runs executed this sweep
        self.projected: dict[str, float] = {}  # the runs in flight, by their own pace (`eta` sets it)
        self.cached: set[str] = set()
        self._relative: dict[str, float | None] = {}  # each run's cost by its stage's model (fixed)
        self._factor: dict[str, float] = {}  # each stage's `_prior_factor` (fixed)

    def finished(self, name: str, status: str, seconds: float) -> None:
        if status in ("ok", "failed"):
            self.actual[name] = float(seconds)
        else:  # cached or skipped: no work was done, none is left
            self.cached.add(name)

    def expected(self, name: str) -> float:
        if name in self.cached:
            return 0.0
        if name in self.actual:
            return self.actual[name]
        if name in self.recorded:
            return self.recorded[name]
        if name in self.projected:
            return self.projected[name]
        run = self.runs[name]
        siblings = self._known(run.stage)
        scaled = self._scaled(run, siblings)
        if scaled is not None:
            return scaled
        if siblings:
            weights = _weights({n: self.runs[n].grid for n in siblings}, siblings)
            score = {n: _shared(run.grid, self.runs[n].grid, weights) for n in siblings}
            best = max(score.values())
            near = [siblings[n] for n in siblings if score[n] == best]
            return sum(near) / len(near)
        pooled = self._scaled(run, self._known_in_unit(run.stage), span=2.0)  # no sibling known yet
        if pooled is not None:
            return pooled
        if run.stage in self.declared:
            return float(self.declared[run.stage])
        seen = {n: s for n, s in {**self.recorded, **self.actual}.items() if n not in self.cached}
        alike = [s for n, s in seen.items() if n in self.runs and cost_model(self.runs[n].stage) is None]
        known = alike if alike and cost_model(run.stage) is None else list(seen.values())
        mean = sum(known) / len(known) if known else 1.0
        return mean * self._prior_factor(run) if self.order_prior else mean

    def _prior_factor(self, run) -> float:
        """What a run of `run`'s stage costs against a typical run before any run of its unit is
        known: the median cost of its stage's runs by their cost model over the median of the
        sweep's runs counted in the same unit, to the power K_PRIOR; 1 without a cost model or a
        unit. One factor per stage, so a fresh sweep expects semisup's one run to cost what its
        arithmetic says against the autoencoders' and the scheduler starts it early, while the
        autoencoders keep their plan order among themselves (the costliest first made the early
        ETA worse: benchmarks/README.md). For the scheduler's order alone (`order_prior`): in
        seconds it would mislead the ETA where a run's seconds are mostly its kernel's start (the
        smoke profile's semisup run, 35 autoencoders' worth of arithmetic, takes 3 s)."""
        unit = cost_unit(run.stage)
        if unit is None or self._relative_cost(run.name) is None:
            return 1.0
        if run.stage in self._factor:
            return self._factor[run.stage]
        costs = {
            r.name: c
            for r in self.runs.values()
            if cost_unit(r.stage) == unit and (c := self._relative_cost(r.name))
        }
        own = [c for n, c in costs.items() if self.runs[n].stage == run.stage]
        self._factor[run.stage] = (statistics.median(own) / statistics.median(costs.values())) ** K_PRIOR
        return self._factor[run.stage]

    def _scaled(self, run, siblings: dict[str, float], span: float = 1.0) -> float | None:
        """`run`'s seconds from its siblings' by the stage's cost model (None without one, or
        without a sibling whose cost it knows, or where the known costs are not `span` times apart):
        log seconds = log a + k log cost through the
        siblings' means, k their least-squares slope (held between 0 and 1) drawn toward K_PRIOR
        as if K_WEIGHT runs had shown it, so that the first few runs, slowed by their workers'
        start, do not make it steep; the fit takes over as finished runs accumulate. On the default
        profile's records (2-core CPU) k comes out near 0.7: 11, 21 and 81 s for models of 35, 88
        and 593 billion multiply-accumulates (benchmarks/README.md)."""
        own = self._relative_cost(run.name)
        if own is None:
            return None
        known = {
            n: (c, s) for n, s in siblings.items() if (c := self._relative_cost(n)) is not None and s > 0
        }
        costs = [c for c, _ in known.values()]
        if not known or max(costs) < span * min(costs):  # `span`: how far apart the costs must be
            return None
        logs = [(math.log(c), math.log(s)) for c, s in known.values()]
        mc, ms = sum(c for c, _ in logs) / len(logs), sum(s for _, s in logs) / len(logs)
        sxx = sum((c - mc) ** 2 for c, _ in logs)
        fitted = sum((c - mc) * (s - ms) for c, s in logs) / sxx if sxx > 1e-12 else K_PRIOR
        seen = sum(1 for n in known if n not in self.projected)  # finished or recorded: not guessed
        k = (K_WEIGHT * K_PRIOR + seen * min(max(fitted, 0.0), 1.0)) / (K_WEIGHT + seen)
        return math.exp(ms + k * (math.log(own) - mc))

    def _relative_cost(self, name: str) -> float | None:
        """The run's cost by its stage's model, computed once (the ETA asks every few seconds)."""
        if name not in self._relative:
            run = self.runs[name]
            self._relative[name] = _cost(cost_model(run.stage), run)
        return self._relative[name]

    def _known_in_unit(self, stage: str) -> dict[str, float]:
        """The known runs of every stage whose cost model counts in the unit of `stage`'s (`cost_unit`):
        the runs a stage with no known run of its own is scaled from ({} where it declares no unit)."""
        unit = cost_unit(stage)
        if unit is None:
            return {}
        stages = {r.stage for r in self.runs.values()}
        return {n: s for st in stages if cost_unit(st) == unit for n, s in self._known(st).items()}

    def _known(self, stage: str) -> dict[str, float]:
        return {
            n: s
            for n, s in {**self.projected, **self.recorded, **self.actual}.items()
            if n in self.runs and self.runs[n].stage == stage and n not in self.cached
        }

    def eta(self, elapsed: float, done: set, flight: dict, projected: dict | None = None) -> float | None:
        """Seconds left: `done` names the finished runs, `flight` maps each run in flight to the
        fraction of it done, `projected` some of them to their whole seconds by their own pace
        (`projected_seconds`). None until a fifth of a run's worth of expected cost is done."""
        self.projected = {n: s for n, s in (projected or {}).items() if n in flight and n not in self.actual}
        costs = {n: self.expected(n) for n in self.runs}
        spent = sum(costs[n] for n in done if n in costs) + sum(
            costs[n] * f for n, f in flight.items() if n in costs
        )
        left = sum(c for n, c in costs.items() if n not in done) - sum(
            costs[n] * f for n, f in flight.items() if n in costs
        )
        paced = pace_eta(elapsed, spent, left, unit=min((c for c in costs.values() if c > 0), default=1.0))
        return None if paced is None else max(paced, self.longest_chain(costs, done, flight))

    def longest_chain(self, costs: dict, done: set, flight: dict) -> float:
        """Seconds of the longest chain of runs left, each waiting for the runs it uses (`upstream`;
        the runs are in plan order, upstream first)."""
        finish: dict[str, float] = {}
        for name, run in self.runs.items():
            if name in done:
                continue
            before = max((finish.get(u, 0.0) for u in getattr(run, "upstream", ())), default=0.0)
            finish[name] = before + costs[name] * (1.0 - flight.get(name, 0.0))
        return max(finish.values(), default=0.0)


# The exponent of seconds on cost before runs show theirs (the default's records on a 2-core CPU),
# and how many finished runs it counts as (chosen on one sweep's replay: benchmarks/README.md).
K_PRIOR = 0.7
K_WEIGHT = 10
MIN_SEEN = 0.1  # the part of a run's loop watched before its own pace is trusted


@dataclass
class InFlight:
    """A run in flight as the display watches it: since when, how far its loop has gone, and when
    that loop was first seen moving (a fraction that falls is the run's next loop: watched afresh)."""

    since: float
    fraction: float = 0.0
    moved_at: float | None = None
    moved_from: float = 0.0

    def update(self, now: float, fraction: float) -> None:
        if (self.moved_at is None and fraction > 0) or fraction < self.fraction:
            self.moved_at, self.moved_from = now, fraction
        self.fraction = fraction

    def projected(self, now: float) -> float | None:
        """Its whole seconds by its own pace (`projected_seconds`); None before it has one."""
        if self.moved_at is None:
            return None
        return projected_seconds(now - self.since, now - self.moved_at, self.fraction, self.moved_from)


def projected_seconds(running: float, watched: float, fraction: float, moved_from: float) -> float | None:
    """A run in flight's whole seconds by its own pace: the `running` seconds so far, plus the part
    of its loop left (1 - `fraction`) at the pace seen since its loop first reported progress,
    `watched` seconds ago at `moved_from` (its kernel's start and imports are no part of that pace;
    what the run does after its loop is not foreseen). None until MIN_SEEN of the loop was watched."""
    seen = fraction - moved_from
    if seen < MIN_SEEN or watched <= 0:
        return None
    return running + (1.0 - fraction) * watched / seen


def pace_eta(elapsed: float, done: float, remaining: float, unit: float = 1.0) -> float | None:
    """Seconds left at the pace so far: `done` worth of work took `elapsed` seconds, `remaining`
    worth is left. None until a fifth of `unit` is done (no pace yet)."""
    if remaining <= 0:
        return 0.0
    if done < 0.2 * unit or elapsed <= 0:
        return None
    return elapsed * remaining / done


@functools.cache
@functools.cache
def cost_model(stage: str):
    """The stage package's `cost.relative_cost(params)`, or None where it declares none: found by
    name (`aestudy.experiments.<stage>.cost`), as the report finds each package's `report`; looked up
    once per stage (the ETA asks it of every known run every few seconds, and a stage without the
    module would search the import path each time)."""
    try:
        module = importlib.import_module(f"aestudy.experiments.{stage}.cost")
    except ImportError:
        return None
    return getattr(module, "relative_cost", None)


@functools.cache
def cost_unit(stage: str) -> str | None:
    """The unit the stage package's cost model counts in (its `cost.UNIT`), or None: stages that
    share one are scaled from each other's runs where a stage knows none of its own."""
    if cost_model(stage) is None:
        return None
    unit = getattr(importlib.import_module(f"aestudy.experiments.{stage}.cost"), "UNIT", None)
    return unit if isinstance(unit, str) else None


def _cost(model, run) -> float | None:
    """The run's relative cost by `model`; None without a model, parameters or a positive cost."""
    if model is None or not isinstance(getattr(run, "params", None), dict):
        return None
    try:
        c = model(run.params)
    except Exception:  # an estimate must never stop a sweep
        return None
    return float(c) if isinstance(c, (int, float)) and c > 0 else None


def _declared(stages) -> dict:
    """{stage: seconds} of the stages whose declaration names an `expected_seconds`."""
    from ..study import STAGES

    return {
        s: STAGES[s].expected_seconds
        for s in stages
        if s in STAGES and isinstance(getattr(STAGES[s], "expected_seconds", None), (int, float))
    }


def _weights(grids: dict, seconds: dict) -> dict:
    """How much each grid key tells about the cost: the spread (max - min) of the mean seconds of
    the known runs grouped by that key's value (a seed's groups cost alike; a model size's do not)."""
    out = {}
    for k in {k for g in grids.values() for k in g}:
        groups: dict = {}
        for n, g in grids.items():
            groups.setdefault(repr(g.get(k)), []).append(seconds[n])
        means = [sum(v) / len(v) for v in groups.values()]
        out[k] = max(means) - min(means)
    return out


def _shared(a: dict, b: dict, weights: dict) -> float:
    return sum(weights.get(k, 0.0) for k, v in a.items() if k in b and b[k] == v)
