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

import re
import typing
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from .messages import ParamsError, error_line, loc, suggest, unknown_key, validate  # noqa: F401 (one-line messages)
from .vocabulary import (
    DATASET_SIZES,
    DATASETS,
    MODES,
    OPTIMIZERS,
    OUTPUT_BIASES,
    PRECISIONS,
    SCHEDULES,
    dataset_name,
)

Dataset = Literal[tuple(DATASETS)]  # type: ignore[valid-type]
Mode = Literal[MODES]  # type: ignore[valid-type]
Optimizer = Literal[OPTIMIZERS]  # type: ignore[valid-type]
Precision = Literal[PRECISIONS]  # type: ignore[valid-type]
Schedule = Literal[SCHEDULES]  # type: ignore[valid-type]
OutputBias = Literal[OUTPUT_BIASES]  # type: ignore[valid-type]

# numpy's global seed (science.training.setup) takes [0, 2**32): every seed a run is given stays there
Seed = Annotated[int, Field(ge=0, lt=2**32)]
# a label draw's seed: negative ones name draws kept apart (semisup's search draw, -1)
LabelSeed = Annotated[int, Field(gt=-(2**31), lt=2**31)]

DEVICE = re.compile(r"auto|cpu|mps|cuda(:[0-9]+)?")


def _device(value: str) -> str:
    if not DEVICE.fullmatch(value):
        raise ValueError("must be auto, cpu, cuda, cuda:N or mps")
    return value


Device = Annotated[str, AfterValidator(_device)]


def device_field():
    """Every training stage's `device`: where it computes; outside the cache key."""
    return Field("auto", json_schema_extra={"unkeyed": True}, description="auto: cuda when present, else cpu")


def precision_field():
    """Every training stage's `precision`: float32, bfloat16 autocast, or auto (bfloat16 only where
    the hardware has bf16 units: elsewhere autocast is slower than float32)."""
    return Field(
        "float32",
        description=(
            "bfloat16: training and prediction under torch.autocast (weights, optimiser state and losses stay "
            "float32); float32 changes nothing; auto: bfloat16 on a CPU with avx512_bf16 or AMX or on a GPU "
            "that supports it, float32 elsewhere (science.training.resolved_precision)"
        ),
    )


class Params(BaseModel):
    """Unknown keys are errors; every field has a default, so a notebook runs on its own, and every
    rule holds for a default too (pydantic skips a field's validators on its default unless told).
    A number is never true/false (YAML's `true` would read as 1) nor infinite or NaN."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value, info: ValidationInfo):
        if _holds_bool(value) and not _takes_bool(cls.model_fields[info.field_name].annotation):
            raise ValueError("true/false where a number or a name is expected")
        return value

    def against_data(self, data: DataParams) -> dict[str, str]:
        """What is wrong with these values given the `data` section: {field: message}, checked
        by the runner for every run of a parameter file and by the notebook (`check_data`)."""
        return {}


def _holds_bool(value) -> bool:
    if isinstance(value, bool):
        return True
    return isinstance(value, (list, tuple)) and any(_holds_bool(v) for v in value)


def _takes_bool(annotation) -> bool:
    if annotation is bool or annotation is Any:
        return True
    return any(_takes_bool(a) for a in typing.get_args(annotation))


class DataParams(Params):
    dataset: Dataset = "mnist"
    data_dir: str = Field("data", json_schema_extra={"unkeyed": True})  # DATA_DIR wins over this
    train_size: int | None = Field(None, ge=1, description="seeded subset of the train split")
    test_size: int | None = Field(None, ge=1, description="seeded subset of the test split")
    data_seed: Seed = Field(
        0,
        description=(
            "draws the subsets of both splits (train_size, test_size) for every stage and every model "
            "seed alike: a model's own seed sets its initialisation and batch order only"
        ),
    )

    @field_validator("train_size", "test_size")
    @classmethod
    def _within_the_dataset(cls, size, info: ValidationInfo):
        dataset = info.data.get("dataset", "mnist")
        n = DATASET_SIZES[dataset][info.field_name == "test_size"]
        if size is not None and size > n:
            split = "test" if info.field_name == "test_size" else "training"
            raise ValueError(f"{size:,} is more than {dataset_name(dataset)}'s {n:,} {split} images")
        return size

    def train_images(self) -> int:
        """How many training images the stages draw from."""
        return self.train_size or DATASET_SIZES[self.dataset][0]


NUM_CLASSES = 10  # of every dataset in DATASETS


def labels_within(n_labels: int, data: DataParams) -> dict[str, str]:
    """The rule of every stage that draws `n_labels` labelled images from the training images."""
    n = data.train_images()
    if n_labels > n:
        return {
            "n_labels": f"{n_labels:,} labelled images drawn from {n:,} training images (data.train_size)"
        }
    return {}


def folds_rule():
    """The `folds` validator of a stage that cross-validates over its `n_labels` labelled images
    (declared after `n_labels`): a fold with no image of some class would score nothing."""

    def every_class_in_every_fold(cls, folds, info: ValidationInfo):
        n_labels = info.data.get("n_labels", NUM_CLASSES)
        if folds > n_labels // NUM_CLASSES:
            raise ValueError(
                f"at most {n_labels // NUM_CLASSES}: n_labels {n_labels} gives {n_labels // NUM_CLASSES} labelled "
                "images per class, and every fold validates on at least one of each"
            )
        return folds

    return field_validator("folds")(classmethod(every_class_in_every_fold))


def check_data(params: Params, data: dict, where: str, section_of=lambda field: "") -> None:
    """`params.against_data(data)` as one line naming the field: `WHERE.FIELD: what is wrong`."""
    for field, message in params.against_data(DataParams(**data)).items():
        raise ParamsError(f"{where}{section_of(field)}.{field}: {message}")


def unkeyed(model: type[BaseModel]) -> tuple[str, ...]:
    """Fields that locate things or pick hardware rather than change results: not in cache keys."""
    return tuple(k for k, f in model.model_fields.items() if (f.json_schema_extra or {}).get("unkeyed"))
