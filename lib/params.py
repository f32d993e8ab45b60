"""The schema of a parameter file, and validation messages that name file, key and rule.

A parameter file (YAML) holds a profile name, a data section and one section per stage:
`grid` (lists swept as a Cartesian product), `params` (fixed values) and `uses` (which
upstream runs a stage consumes, selected by their grid values). Everything is validated
before any run starts; an error is one line: `FILE: KEY.PATH: what is wrong (allowed ...)`.
"""
from __future__ import annotations

import difflib
import itertools
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import models

STAGE_ORDER = ("autoencode", "interpolate", "correlate", "transfer", "theory")


class ParamsError(ValueError):
    """A parameter file is missing, malformed or invalid; the message is one line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class DataSpec(_Strict):
    dataset: Literal["mnist", "fashion_mnist"] = "mnist"
    data_dir: str = "data"
    train_size: int | None = Field(default=None, ge=1, description="seeded subset of the train split")
    test_size: int | None = Field(default=None, ge=1, description="seeded subset of the test split")


class AutoencodeParams(_Strict):
    latent_dim: int = Field(10, ge=1)
    num_conv: int = Field(2, ge=1)
    c_factor: int = Field(8, ge=1)
    kernel_size: int = Field(3, ge=1)
    fc_hidden: int = Field(256, ge=1)
    epochs: int = Field(3, ge=1)
    batch_size: int = Field(64, ge=1)
    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float = Field(1e-3, gt=0)
    seed: int = 0
    device: str = "auto"

    @model_validator(mode="after")
    def _buildable(self):
        models.check_config(models.AEConfig(self.latent_dim, self.num_conv, self.c_factor,
                                            self.kernel_size, self.fc_hidden))
        return self


class InterpolateParams(_Strict):
    pairs: list[tuple[int, int]] = [(1, 5), (3, 6), (0, 4)]
    steps: int = Field(11, ge=2)
    seed: int = 0
    n_reference: int = Field(5000, ge=1, description="training images the a=0.5 decodes are compared with")

    @field_validator("pairs")
    @classmethod
    def _digits(cls, pairs):
        for a, b in pairs:
            if not (0 <= a <= 9 and 0 <= b <= 9):
                raise ValueError(f"digits must be in 0..9, got ({a}, {b})")
        return pairs


class CorrelateParams(_Strict):
    n_images: int = Field(8000, ge=2)
    seed: int = 0


class TransferParams(_Strict):
    latent_dim: int = Field(10, ge=1)
    h1: list[int] = [200, 650, 1000]
    modes: list[Literal["frozen", "finetune", "scratch"]] = ["frozen", "finetune", "scratch"]
    seeds: list[int] = [0, 1, 2]
    n_labels: int = Field(100, ge=10, description="at least one image per class")
    balanced: bool = True
    steps: int = Field(100, ge=1)
    lr: float = Field(1e-3, gt=0)
    baselines: bool = True
    device: str = "auto"

    @field_validator("h1")
    @classmethod
    def _positive(cls, h1):
        if not h1 or min(h1) < 1:
            raise ValueError("h1 must be a non-empty list of widths >= 1")
        return h1


class TheoryParams(_Strict):
    seed: int = 0
    n_samples: int = Field(20001, ge=101)


STAGE_PARAMS: dict[str, type[_Strict]] = {
    "autoencode": AutoencodeParams, "interpolate": InterpolateParams,
    "correlate": CorrelateParams, "transfer": TransferParams, "theory": TheoryParams}
DATA_STAGES = ("autoencode", "interpolate", "correlate", "transfer")
Scalar = int | float | str | bool


class StageSpec(_Strict):
    grid: dict[str, list[Any]] = {}
    params: dict[str, Any] = {}
    uses: dict[str, dict[str, Scalar | list[Scalar]]] = {}


class StudySpec(_Strict):
    profile: str = Field("default", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    data: DataSpec = DataSpec()
    stages: dict[Literal[STAGE_ORDER], StageSpec]  # type: ignore[valid-type]


class Study:
    """A validated parameter file: its spec, its source path and text (for provenance)."""

    def __init__(self, spec: StudySpec, path: Path, text: str):
        self.spec, self.path, self.text = spec, path, text

    @property
    def profile(self) -> str:
        return self.spec.profile

    def stages(self) -> list[str]:
        return [s for s in STAGE_ORDER if s in self.spec.stages]

    def grid_points(self, stage: str) -> list[dict]:
        """Each grid point merged over the fixed params, validated: plain dicts."""
        st = self.spec.stages[stage]
        keys = list(st.grid)
        points = [dict(zip(keys, vals)) for vals in itertools.product(*st.grid.values())] or [{}]
        return [{"grid": p, "params": _validated(STAGE_PARAMS[stage], {**st.params, **p})} for p in points]


def _validated(model: type[_Strict], values: dict) -> dict:
    return model(**values).model_dump(mode="json")


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def _fmt_error(where: str, err: dict, model: type[BaseModel] | None = None, known=()) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        name = str(err["loc"][-1])
        msg = f"unknown key '{name}'{_suggest(name, known)} (allowed: {', '.join(map(str, known))})"
    elif err["type"] == "missing":
        msg = "required key is missing"
    elif err.get("loc") and "got" not in msg:
        msg = f"{msg} (got {err.get('input')!r})"
    return f"{where}: {msg}"


def _loc(loc) -> str:
    return ".".join(str(p) for p in loc)


def load_study(path: str | Path) -> Study:
    """Read, parse and validate a parameter file; raise ParamsError with a one-line message."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: parameter file not found")
    text = path.read_text()
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParamsError(f"{path}: malformed YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: top level must be a mapping with keys profile, data, stages")
    # unknown stage names get a suggestion before pydantic's generic message
    for name in (raw.get("stages") or {}):
        if name not in STAGE_ORDER:
            raise ParamsError(f"{path}: stages.{name}: unknown stage{_suggest(name, STAGE_ORDER)} "
                              f"(allowed: {', '.join(STAGE_ORDER)})")
    try:
        spec = StudySpec(**raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        known = ()
        if err["type"] == "extra_forbidden":
            parent = {(): StudySpec, ("data",): DataSpec}.get(tuple(loc[:-1]))
            known = tuple(parent.model_fields) if parent else tuple(StageSpec.model_fields)
        raise ParamsError(f"{path}: " + _fmt_error(_loc(loc), err, known=known)) from None
    study = Study(spec, path, text)
    for stage in study.stages():
        _check_stage(study, stage)
    return study


def _check_stage(study: Study, stage: str) -> None:
    st, model, path = study.spec.stages[stage], STAGE_PARAMS[stage], study.path
    fields = tuple(model.model_fields)
    for section in ("grid", "params"):
        for key, value in getattr(st, section).items():
            if key not in fields:
                raise ParamsError(f"{path}: stages.{stage}.{section}.{key}: unknown key"
                                  f"{_suggest(key, fields)} (allowed: {', '.join(fields)})")
            if section == "grid" and len(value) == 0:
                raise ParamsError(f"{path}: stages.{stage}.grid.{key}: must list at least one value")
    for key in st.grid:
        if key in st.params:
            raise ParamsError(f"{path}: stages.{stage}: '{key}' is both in grid and params; keep one")
    st_grid = st.grid
    for vals in itertools.product(*st_grid.values()) if st_grid else [()]:
        point = dict(zip(st_grid, vals))
        try:
            model(**{**st.params, **point})
        except ValidationError as exc:
            err = exc.errors()[0]
            field = str(err["loc"][0]) if err["loc"] else ""
            if field:
                section = "grid" if field in point else "params"
                where = f"stages.{stage}.{section}.{_loc(err['loc'])}"
            else:  # a whole-model rule (e.g. num_conv too large for the kernel): name the grid point
                where = f"stages.{stage}" + (f" (grid point {point})" if point else "")
            raise ParamsError(f"{path}: " + _fmt_error(where, err)) from None
    for up, selection in st.uses.items():
        if up not in study.spec.stages:
            raise ParamsError(f"{path}: stages.{stage}.uses.{up}: stage '{up}' is not in this file")
        if STAGE_ORDER.index(up) >= STAGE_ORDER.index(stage):
            raise ParamsError(f"{path}: stages.{stage}.uses.{up}: can only use an earlier stage")
        up_fields = tuple(STAGE_PARAMS[up].model_fields)
        for key in selection:
            if key not in up_fields:
                raise ParamsError(f"{path}: stages.{stage}.uses.{up}.{key}: unknown key"
                                  f"{_suggest(key, up_fields)} (allowed: {', '.join(up_fields)})")
