"""What every stage's parameters share: the base model (`Params`: unknown keys are errors), the
`data` section (`DataParams`), the value types and the rule of which fields stay out of cache keys.
Each stage's own model is its experiment's `params.py` (`aestudy.experiments.<stage>.params`):
the one source of truth for its types, defaults and rules.

The runner validates a parameter file against these models, and each run notebook validates its
own parameter cell against the same models right after papermill's injected cell
(`aestudy.study.check_parameters`), so both give the same one-line message:
`WHERE: KEY.PATH: what is wrong (allowed ...)`. A test pins every notebook's parameter cell
(names and defaults) to these models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .messages import ParamsError, error_line, loc, suggest, unknown_key, validate  # noqa: F401 (one-line messages)
from .vocabulary import DATASETS, MODES, OPTIMIZERS, PRECISIONS, SCHEDULES

Dataset = Literal[tuple(DATASETS)]  # type: ignore[valid-type]
Mode = Literal[MODES]  # type: ignore[valid-type]
Optimizer = Literal[OPTIMIZERS]  # type: ignore[valid-type]
Precision = Literal[PRECISIONS]  # type: ignore[valid-type]
Schedule = Literal[SCHEDULES]  # type: ignore[valid-type]


def precision_field():
    """Every training stage's `precision`: float32, or bfloat16 autocast for speed on a bf16 CPU."""
    return Field(
        "float32",
        description=(
            "bfloat16: training and prediction under torch.autocast (weights, optimiser state and losses stay "
            "float32); float32 changes nothing"
        ),
    )


class Params(BaseModel):
    """Unknown keys are errors; every field has a default, so a notebook runs on its own."""

    model_config = ConfigDict(extra="forbid")


class DataParams(Params):
    dataset: Dataset = "mnist"
    data_dir: str = Field("data", json_schema_extra={"unkeyed": True})  # DATA_DIR wins over this
    train_size: int | None = Field(None, ge=1, description="seeded subset of the train split")
    test_size: int | None = Field(None, ge=1, description="seeded subset of the test split")
    data_seed: int = Field(
        0,
        description=(
            "draws the subsets of both splits (train_size, test_size) for every stage and every model "
            "seed alike: a model's own seed sets its initialisation and batch order only"
        ),
    )


def unkeyed(model: type[BaseModel]) -> tuple[str, ...]:
    """Fields that locate things or pick hardware rather than change results: not in cache keys."""
    return tuple(k for k, f in model.model_fields.items() if (f.json_schema_extra or {}).get("unkeyed"))
