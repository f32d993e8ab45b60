"""The plan: every run of a study, its parameters, its folder and the upstream runs it consumes.

A Run is one papermill execution of a stage's notebook into
`reports/<profile>/runs/<stage>/<run-id>/`. Grids expand into one run per point; `uses`
selects upstream runs by their parameters; `for_each` makes one run per selected upstream run
(the run inherits that run's grid and id), otherwise one run consumes every selected run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import config, ondisk
from ..schema import ParamsError
from ..study import OUT_DIR, STAGES
from .paramfile import CELL_RUNS, ParamFile  # noqa: F401 (CELL_RUNS: its readers import it from here)


@dataclass
class Run:
    stage: str
    run_id: str
    grid: dict  # what tells this run from its siblings (inherited grid included)
    params: dict  # injected into the notebook
    upstream: list[str] = field(default_factory=list)  # "stage/run_id" of the runs it consumes
    dir: str = ""
    notebook: str = ""  # the notebook it executes (fixed when planned)
    inputs: dict | None = None  # set once its upstream runs are done (see records.inputs)

    @property
    def name(self) -> str:
        return f"{self.stage}/{self.run_id}"


@dataclass
class Job:
    """Runs of one stage that differ only in the parameter their stage trains together (its
    `Stage.together`: autoencode's seeds), executed as one notebook execution that writes each
    run's folder (`execute.execute_job`). It stands in the dependency graph for its runs: it waits
    for what any of them uses, and a run that uses one of them waits for it. The first run leads:
    the notebook executes with its parameters and the others' (`CELL_RUNS`)."""

    runs: list[Run]

    @property
    def stage(self) -> str:
        return self.runs[0].stage

    @property
    def run_id(self) -> str:
        return self.runs[0].run_id

    @property
    def name(self) -> str:
        return f"{self.stage}/{self.run_id}+{len(self.runs) - 1}"

    @property
    def dir(self) -> str:
        return self.runs[0].dir

    @property
    def upstream(self) -> list[str]:
        return list(dict.fromkeys(u for r in self.runs for u in r.upstream))


def jobs(runs: list[Run]) -> list[Run | Job]:
    """The units the executors schedule: each stage that declares `together` has its runs that
    differ only in that parameter (and their folder) grouped into one Job (in plan order, where
    its first run stood); every other run stays itself."""
    groups: dict[tuple, list[Run]] = {}
    units: list[Run | Job | tuple] = []
    for r in runs:
        over = STAGES[r.stage].together
        if not over or over not in r.params:
            units.append(r)
            continue
        rest = {k: v for k, v in r.params.items() if k not in (over, OUT_DIR)}
        key = (r.stage, repr(sorted(rest.items())), repr(sorted(r.upstream)))
        if key not in groups:
            groups[key] = []
            units.append(key)
        groups[key].append(r)
    return [
        u if isinstance(u, Run) else (groups[u][0] if len(groups[u]) == 1 else Job(groups[u])) for u in units
    ]


def safe_id(text: str) -> str:
    """A path component that cannot climb out of its folder."""
    s = re.sub(r"[^A-Za-z0-9._=-]+", "_", str(text)).strip("._") or "run"
    return s[:120]


def _fmt(v) -> str:
    return "_".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)


def run_id_for(stage: str, grid: dict, prefix: str = "") -> str:
    abbrev = STAGES[stage].abbrev
    own = "-".join(f"{abbrev.get(k, k)}{_fmt(v)}" for k, v in grid.items())
    return safe_id("-".join(p for p in (prefix, own) if p)) if (prefix or own) else "all"


def _same(value, want) -> bool:
    """Equal, and true/false only for true/false (Python's `True == 1` would select num_conv 1)."""
    return value == want and isinstance(value, bool) == isinstance(want, bool)


def selects(selection: dict, params: dict) -> bool:
    return all(
        any(_same(params.get(k), w) for w in (want if isinstance(want, list) else [want]))
        for k, want in selection.items()
    )


def _selected(study: ParamFile, stage: str, up: str, runs: list[Run]) -> list[Run]:
    selection = study.spec.stages[stage].uses[up]
    chosen = [u for u in runs if selects(selection, u.params)]
    # a value no run has is named (in a grid, every combination of the values its runs have exists)
    for k, want in selection.items():
        for v in want if isinstance(want, list) else [want]:
            if not any(_same(u.params.get(k), v) for u in runs):
                raise ParamsError(
                    f"{study.path}: stages.{stage}.uses.{up}.{k}: {v!r} matches no {up} run "
                    f"(the {up} runs have {k} in {sorted({u.params.get(k) for u in runs})})"
                )
    if not chosen:  # an empty list selects nothing: the notebook would train stand-ins of its own
        raise ParamsError(
            f"{study.path}: stages.{stage}.uses.{up}: selects no {up} run "
            f"(`{up}: {{}}` uses every one; an empty list selects none)"
        )
    return chosen


def _check_takes_one(study: ParamFile, stage: str, groups: list) -> None:
    """A stage whose run takes one product of an upstream stage (transfer: one encoder) gets one
    per run: ParamsError naming `uses`, before any run, not a failure inside each run."""
    for up in STAGES[stage].takes_one:
        for _, _, ups in groups:
            n = sum(u.stage == up for u in ups)
            if n > 1:
                raise ParamsError(
                    f"{study.path}: stages.{stage}.uses.{up}: gives each {stage} run {n} {up} runs, and "
                    f"a {stage} run takes one ({STAGES[stage].receiver(up)}); select one or set `for_each: {up}`"
                )


def plan(study: ParamFile) -> list[Run]:
    """Every run of the study, upstream before downstream; ParamsError when a notebook is missing,
    a selection is empty or two runs of a stage would share a folder."""
    out_root = ondisk.runs_dir(config.profile_dir(study.profile))
    by_stage: dict[str, list[Run]] = {}
    for stage in study.stages():
        decl, st = STAGES[stage], study.spec.stages[stage]
        notebook = decl.notebook_path()
        if not notebook.is_file():
            raise ParamsError(f"{notebook}: notebook for stage '{stage}' is missing")
        chosen = {up: _selected(study, stage, up, by_stage[up]) for up in st.uses}
        if st.for_each:  # one group per upstream run of for_each, with every run of the other stages
            others = [u for up, us in chosen.items() if up != st.for_each for u in us]
            groups = [(u.grid, u.run_id, [u, *others]) for u in chosen[st.for_each]]
        else:
            groups = [({}, "", [u for us in chosen.values() for u in us])]
        runs = []
        for inherited, prefix, ups in groups:
            for point in study.grid_points(stage):
                params = {**(study.data if decl.reads_data else {}), **point["params"]}
                run = Run(
                    stage,
                    run_id_for(stage, point["grid"], prefix),
                    {**inherited, **point["grid"]},
                    params,
                    [u.name for u in ups],
                )
                run.dir, run.notebook = str(out_root / stage / run.run_id), str(notebook)
                for u in ups:  # each upstream product into the parameter that receives its stage's
                    params.setdefault(decl.receiver(u.stage), []).append(
                        str(Path(u.dir) / STAGES[u.stage].produces)
                    )
                params[OUT_DIR] = run.dir
                runs.append(run)
        _check_takes_one(study, stage, groups)
        ids = [r.run_id for r in runs]
        if len(set(ids)) != len(ids):
            raise ParamsError(
                f"{study.path}: stages.{stage}: two runs get the same run id "
                f"({sorted({i for i in ids if ids.count(i) > 1})[0]})"
            )
        by_stage[stage] = runs
    return [r for s in study.stages() for r in by_stage[s]]
