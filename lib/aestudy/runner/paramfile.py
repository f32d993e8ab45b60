"""Reading a parameter file: YAML in, a validated `ParamFile` out, or one line naming file and key.

A parameter file holds a profile name (its runs' folder under reports/; the file's own name when it
gives none), a `data` section and one section per stage: `grid`
(lists swept as a Cartesian product), `params` (fixed values), `uses` (which upstream runs a
stage consumes, selected by their parameters) and `for_each` (one run per selected upstream
run). Stages and their parameters come from the study declaration (`aestudy.study`).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from .. import bounded_yaml, messages, schema
from ..cluster_params import ClusterParams
from ..report_params import PROFILE_NAME, ReportParams
from ..schema import ParamsError
from ..study import STAGES

# the notebook parameter listing the runs trained with the leading one (runner.plan.Job)
CELL_RUNS = "cell_runs"

Scalar = int | float | str | bool
MAX_GRID_POINTS = 10_000  # runs of one stage's grid (the committed profiles make at most a few dozen)


def _seconds(value):
    if value is not None and (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError("must be a positive number of seconds")
    return value


Seconds = Annotated[float | None, BeforeValidator(_seconds)]


class StageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grid: dict[str, list[Any]] = {}
    params: dict[str, Any] = {}
    uses: dict[str, dict[str, Scalar | list[Scalar]]] = {}
    for_each: str | None = None
    timeout: Seconds = None  # seconds one run may take (the file's `timeout` when unset)


class StudySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: str = Field(pattern=PROFILE_NAME, max_length=100)  # a folder name
    data: dict[str, Any] = {}
    report: dict[str, Any] = {}
    cluster: dict[str, Any] = {}  # where runs execute (`--executor slurm`): aestudy.cluster_params
    timeout: Seconds = None  # every stage's time limit, unless the stage has its own
    stages: dict[str, StageSpec]


class ParamFile:
    """A validated parameter file: its spec, its source path and text (for provenance)."""

    def __init__(self, spec: StudySpec, path: Path, text: str):
        self.spec, self.path, self.text = spec, path, text
        self.data = schema.DataParams(**spec.data).model_dump(mode="json")

    @property
    def profile(self) -> str:
        return self.spec.profile

    def timeout(self, stage: str) -> float | None:
        """Seconds one run of `stage` may take (None: no limit)."""
        own = self.spec.stages[stage].timeout
        return own if own is not None else self.spec.timeout

    def stages(self) -> list[str]:
        """The file's stages in the declaration's order (upstream before downstream)."""
        return [s for s in STAGES if s in self.spec.stages]

    def grid_points(self, stage: str) -> list[dict]:
        """Each grid point merged over the fixed params, validated: {"grid": ..., "params": ...}."""
        st = self.spec.stages[stage]
        keys = list(st.grid)
        points = [dict(zip(keys, vals)) for vals in itertools.product(*st.grid.values())] or [{}]
        where = f"{self.path}: stages.{stage}"
        out = []
        for p in points:
            section = _section(p, f" (grid point {messages.shown(p)})" if p else "")
            try:
                values = messages.validate(STAGES[stage].params, {**st.params, **p}, where, section)
            except ParamsError as exc:
                raise _at_axis(exc, where, p) from None
            if STAGES[stage].reads_data:  # the rules between its values and the data section
                schema.check_data(STAGES[stage].params(**values), self.data, where, section)
            out.append({"grid": {k: _as_validated(v, values.get(k)) for k, v in p.items()}, "params": values})
        return out


def _as_validated(given, validated):
    """A grid value as its run id and tables name it: a whole float where the field is an integer
    (`latent_dim: [5.0]`) as that integer, as its `params` already are, so that `5.0` is the run `5`
    (and its cache), not a run `d5.0` of its own."""
    whole = isinstance(given, float) and isinstance(validated, int) and not isinstance(validated, bool)
    return validated if whole and given == validated else given


def _section(point: dict, whole: str):
    return lambda field: (".grid" if field in point else ".params") if field else whole


def _at_axis(exc: ParamsError, where: str, point: dict) -> ParamsError:
    """The error at a grid axis, named by the axis: a stage that takes a list (`modes`) turns each
    grid value into a list of one, so the path inside it ('grid.modes.0') would point at the first
    value of the axis, not at the value that is wrong (its `got` says which)."""
    said = str(exc)
    for key, value in point.items():
        head = f"{where}.grid.{key}."
        if said.startswith(head) and not isinstance(value, (list, dict)):
            return ParamsError(f"{where}.grid.{key}:" + said[len(head) :].split(":", 1)[1])
    return exc


def load_study(path: str | Path) -> ParamFile:
    """Read, parse and validate a parameter file; raise ParamsError with a one-line message."""
    path = Path(path)
    text, raw = bounded_yaml.load(path)  # at most 1 MB, 20 levels deep, no alias: else one line
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: top level must be a mapping with keys profile, data, stages")
    for key in raw:
        if not isinstance(key, str):
            raise ParamsError(
                f"{path}: {messages.clip(repr(key))}: a top-level key must be a name "
                f"(allowed: {', '.join(StudySpec.model_fields)})"
            )
    stages = raw.get("stages")
    if stages is not None and not isinstance(stages, dict):
        raise ParamsError(
            f"{path}: stages: must be a mapping of stage names to their sections "
            f"(got {type(stages).__name__} {messages.clip(repr(stages))}; stages: {{theory: {{}}}}, say)"
        )
    for name in raw.get("stages") or {}:
        if name not in STAGES:
            raise ParamsError(
                f"{path}: stages.{messages.clip(name)}: unknown stage"
                f"{messages.suggest(name, STAGES)} (allowed: {', '.join(STAGES)})"
            )
    named = "profile" in raw
    raw = {"profile": path.stem, **raw}  # no `profile:`: the file's own name
    try:
        spec = StudySpec(**raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = messages.loc(err["loc"])
        if not named and err["loc"] == ("profile",):
            raise ParamsError(
                f"{path}: profile: none given, and the file's name {messages.clip(repr(path.stem))} is not a "
                "folder name (letters, digits, '_', '.', '-'; at most 100); add `profile: <name>`"
            ) from None
        known = tuple(StudySpec.model_fields) if len(err["loc"]) == 1 else tuple(StageSpec.model_fields)
        raise ParamsError(f"{path}: " + messages.error_line(where, err, known=known)) from None
    if not spec.stages:
        raise ParamsError(f"{path}: stages: none given (allowed: {', '.join(STAGES)})")
    messages.validate(schema.DataParams, spec.data, f"{path}: data")
    messages.validate(ReportParams, spec.report, f"{path}: report")
    messages.validate(ClusterParams, spec.cluster, f"{path}: cluster")
    study = ParamFile(spec, path, text)
    for stage in study.stages():
        _check_stage(study, stage)
    return study


def _degenerate_lists(value, where: str):
    """(where, why) for each list in `value` (a stage's params, nested) that is empty or repeats a
    value: no parameter of the study takes none (modes, label seeds, pairs, a search space's values),
    and a repeated one would count the same draw, mode or candidate twice."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _degenerate_lists(inner, f"{where}.{messages.clip(str(key))}")
    elif isinstance(value, list):
        if not value:
            yield where, "an empty list (it needs at least one value)"
        seen = []
        for item in value:
            if item in seen:
                yield where, f"{messages.clip(repr(item))} is given twice"
                return
            seen.append(item)


def _check_stage(study: ParamFile, stage: str) -> None:
    st, path = study.spec.stages[stage], study.path
    fields = tuple(STAGES[stage].params.model_fields)
    for section in ("grid", "params"):
        for key, value in getattr(st, section).items():
            if key not in fields:
                raise messages.unknown_key(f"{path}: stages.{stage}.{section}", key, fields)
            if section == "grid" and len(value) == 0:
                raise ParamsError(f"{path}: stages.{stage}.grid.{key}: must list at least one value")
    for section in ("grid", "params"):
        if CELL_RUNS in getattr(st, section):
            raise ParamsError(
                f"{path}: stages.{stage}.{section}.{CELL_RUNS}: filled by the runner (--seeds-together), "
                "never by a parameter file: its out_dir entries would write into other runs' folders"
            )
    for where, why in _degenerate_lists(st.params, f"stages.{stage}.params"):
        raise ParamsError(f"{path}: {where}: {why}")
    for key, values in st.grid.items():  # a grid value that is itself a list (`modes: [[], finetune]`)
        for value in values:
            for where, why in _degenerate_lists(value, f"stages.{stage}.grid.{messages.clip(str(key))}"):
                raise ParamsError(f"{path}: {where}: {why}")
    for key in st.grid:
        if key in st.params:
            raise ParamsError(f"{path}: stages.{stage}: '{key}' is both in grid and params; keep one")
    points = 1
    for values in st.grid.values():  # counted before any is made: a grid of 40 axes of 2 is 10**12 runs
        points *= len(values)
        if points > MAX_GRID_POINTS:
            raise ParamsError(
                f"{path}: stages.{stage}.grid: more than {MAX_GRID_POINTS:,} grid points "
                "(the product of the lists' lengths); split the study"
            )
    study.grid_points(stage)  # every grid point validated now, before anything runs
    order = list(STAGES)
    for up, selection in st.uses.items():
        where = f"{path}: stages.{stage}.uses.{messages.clip(up)}"
        if up not in study.spec.stages:
            raise ParamsError(f"{where}: stage '{messages.clip(up)}' is not in this file")
        if order.index(up) >= order.index(stage):
            raise ParamsError(f"{where}: can only use an earlier stage")
        if not STAGES[up].produces or not STAGES[stage].receiver(up):
            raise ParamsError(f"{where}: {up} produces nothing that {stage} receives")
        up_fields = tuple(STAGES[up].params.model_fields)
        for key in selection:
            if key not in up_fields:
                raise messages.unknown_key(where, key, up_fields)
    for up in study.stages():  # what it receives from a stage the file plans, it must name in uses
        if up != stage and STAGES[stage].receiver(up) and up not in st.uses:
            raise ParamsError(
                f"{path}: stages.{stage}.uses: names no {up} runs, though the file plans them and {stage} "
                f"receives their {STAGES[up].produces} (without them its notebook trains stand-in models of "
                f"its own, meant for a notebook run by hand); add `{up}: {{}}` (every run) or a selection"
            )
    if st.for_each is not None and st.for_each not in st.uses:
        raise ParamsError(
            f"{path}: stages.{stage}.for_each: '{messages.clip(st.for_each)}' must be one of the "
            f"stages in uses ({messages.clip(', '.join(st.uses) or 'none', 200)})"
        )
