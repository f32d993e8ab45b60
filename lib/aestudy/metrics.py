"""What every stage's run hands to the report: its declared products and the keys of its
`metrics.json`, as pydantic models (the contract between a run and the report). Each stage's
model is its experiment's `metrics.py` (`aestudy.experiments.<stage>.metrics`); the machinery
that checks and reads them is here.

A run notebook builds its metrics; the runner checks, before it writes `complete.json`, that
every declared product exists and that `metrics.json` has every key these models name, with the
right type (`check_run`). A renamed key therefore fails the run with one line naming the file
and the key, not the report weeks later. The models list the keys the tables and the report read;
a stage may write more (extra keys are kept), so a new measure needs no change here until the
report reads it.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import StudyError
from .ondisk import METRICS  # noqa: F401 (the file's name, spelled in aestudy.ondisk)


class Metrics(BaseModel):
    """Keys the report reads must be present and typed; other keys are kept as written."""

    model_config = ConfigDict(extra="allow")


class Record(Metrics):
    """One row of a run's `records` list (a row of `tables/<stage>.csv`)."""


class ContractBroken(StudyError):
    """A run finished its notebook but not its contract: a declared product is missing or its
    metrics lack a key the report reads. One line, naming the file and the key."""


def read(path, model: type[BaseModel] | None) -> dict | None:
    """A run's metrics.json as the report reads it: validated against the stage's model (every key
    the report reads is there, with its type), as a dict; None when missing, unreadable or not
    matching (the report treats that run's per-run figures as absent)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if model is None:
        return data
    try:
        return model.model_validate(data).model_dump()
    except ValidationError:
        return None


def _where(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def check_run(run_dir, products: tuple[str, ...], model: type[BaseModel] | None, shown: str = "") -> None:
    """Raise ContractBroken unless every product in `products` exists in `run_dir` and its
    metrics.json validates against `model`. `shown` is how messages name the folder."""
    run_dir = Path(run_dir)
    shown = shown or str(run_dir)
    for name in products:
        if not (run_dir / name).is_file():
            raise ContractBroken(f"{shown}/{name}: declared product missing")
    if model is None:
        return
    try:
        data = json.loads((run_dir / METRICS).read_text())
    except (OSError, ValueError) as exc:
        raise ContractBroken(f"{shown}/{METRICS}: unreadable ({exc})") from None
    try:
        model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ContractBroken(f"{shown}/{METRICS}: {_where(first['loc'])}: {first['msg'].lower()}") from None
