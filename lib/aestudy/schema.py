"""The parameters of every stage, with their types, defaults and rules: the one source of truth.

The runner validates a parameter file against these models, and each run notebook validates its
own parameter cell against the same models right after papermill's injected cell
(`aestudy.study.check_parameters`), so both give the same one-line message:
`WHERE: KEY.PATH: what is wrong (allowed ...)`. A test pins every notebook's parameter cell
(names and defaults) to these models.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .messages import ParamsError, error_line, loc, suggest, unknown_key, validate  # noqa: F401 (one-line messages)
from .science.names import DATASETS, MODES, OPTIMIZERS, PRECISIONS, SCHEDULES

Dataset = Literal[tuple(DATASETS)]  # type: ignore[valid-type]
Mode = Literal[MODES]  # type: ignore[valid-type]
Optimizer = Literal[OPTIMIZERS]  # type: ignore[valid-type]
Precision = Literal[PRECISIONS]  # type: ignore[valid-type]
Schedule = Literal[SCHEDULES]  # type: ignore[valid-type]


def precision_field():
    """Every training stage's `precision`: float32, or bfloat16 autocast for speed on a bf16 CPU."""
    return Field("float32", description=(
        "bfloat16: training and prediction under torch.autocast (weights, optimiser state and losses stay "
        "float32); float32 changes nothing"))


class Params(BaseModel):
    """Unknown keys are errors; every field has a default, so a notebook runs on its own."""
    model_config = ConfigDict(extra="forbid")


class DataParams(Params):
    dataset: Dataset = "mnist"
    data_dir: str = Field("data", json_schema_extra={"unkeyed": True})  # DATA_DIR wins over this
    train_size: int | None = Field(None, ge=1, description="seeded subset of the train split")
    test_size: int | None = Field(None, ge=1, description="seeded subset of the test split")
    data_seed: int = Field(0, description=(
        "draws the subsets of both splits (train_size, test_size) for every stage and every model "
        "seed alike: a model's own seed sets its initialisation and batch order only"))


class AutoencodeParams(Params):
    latent_dim: int = Field(10, ge=1)
    num_conv: int = Field(2, ge=1)
    c_factor: int = Field(8, ge=1)
    kernel_size: int = Field(3, ge=1)
    fc_hidden: int = Field(256, ge=1)
    epochs: int = Field(1, ge=1)
    epoch_test_size: int | None = Field(None, ge=1, description=(
        "test images (a fixed seeded subset) the error is measured on after each epoch but the "
        "last; the last epoch always uses the whole test set. None: the whole test set every epoch"))
    val_size: int = Field(1000, ge=0, description=(
        "held-out training images (outside train_size's subset) measured after every epoch: how far "
        "training converged, judged without the test set"))
    batch_size: int = Field(64, ge=1)
    optimizer: Optimizer = "adam"
    lr: float = Field(1e-3, gt=0)
    schedule: Schedule = Field("constant", description="the rate after the warm-up: constant, or a cosine decay to 0")
    warmup_steps: int = Field(100, ge=0, description=(
        "steps over which the learning rate rises linearly to lr: without it, up to 88 % of the encoder's "
        "hidden ReLU units die in the first steps for some seeds (benchmarks/outlier.py)"))
    precision: Precision = precision_field()  # about 1.6x faster for num_conv = 3 on an avx512_bf16 CPU
    seed: int = 0
    device: str = Field("auto", json_schema_extra={"unkeyed": True})

    @model_validator(mode="after")
    def _buildable(self):
        from .science import models  # imported only where an autoencoder is validated

        models.check_config(models.AEConfig.from_params(self.model_dump()))
        return self


class ReferenceParams(Params):
    """Experiment 2's reference classifier (science.reference): a small CNN trained on the
    profile's training images (`data.train_size`); its confidence on a decode is 'digit-like'."""
    epochs: int = Field(2, ge=1)
    batch_size: int = Field(128, ge=1)
    lr: float = Field(3e-3, gt=0)
    channels: int = Field(16, ge=1, description="channels of the first conv layer (the second has twice as many)")
    hidden: int = Field(128, ge=1)
    calibration_size: int = Field(1000, ge=10, description=(
        "training images held out from its training to fit its softmax temperature (calibration)"))
    seed: int = 0
    device: str = Field("auto", json_schema_extra={"unkeyed": True})


class InterpolateParams(Params):
    pairs: list[tuple[int, int]] = [(1, 5), (3, 6), (0, 4)]
    steps: int = Field(11, ge=2)
    image_seed: int = 0
    pairs_per_digit_pair: int = Field(30, ge=1, description=(
        "test image pairs drawn per digit pair and autoencoder seed (from image_seed and the model's seed; "
        "the models of one seed share them) and measured; the first seed's first pair is the figure's"))
    n_reference: int = Field(5000, ge=1, description="training images the a=0.5 decodes are compared with")

    @field_validator("pairs")
    @classmethod
    def _digits(cls, pairs):
        for a, b in pairs:
            if not (0 <= a <= 9 and 0 <= b <= 9):
                raise ValueError(f"digits must be in 0..9, got ({a}, {b})")
        return pairs


class CorrelateParams(Params):
    n_images: int = Field(8000, ge=2)
    image_seed: int = 0


class SearchSpace(Params):
    """The values cross-validation may choose from, per protocol field (see science.protocol)."""
    steps: list[int] = Field([100, 200], min_length=1)
    lr: list[float] = Field([3e-4, 1e-3, 3e-3], min_length=1)
    weight_decay: list[float] = Field([0.0, 1e-4, 1e-2], min_length=1)
    augment: list[bool] = Field([False, True], min_length=1)
    warmup: list[int] = Field([0, 50], min_length=1)
    encoder_lr: list[float] = Field([1.0, 0.1], min_length=1)

    @model_validator(mode="after")
    def _ranges(self):
        if min(self.steps) < 1 or min(self.lr) <= 0 or min(self.weight_decay) < 0 or min(self.warmup) < 0 \
                or min(self.encoder_lr) <= 0:
            raise ValueError("steps >= 1, lr > 0, weight_decay >= 0, warmup >= 0 and encoder_lr > 0")
        return self


class ProtocolParams(Params):
    h1: int = Field(650, ge=1, description="the head width the protocols are chosen at")
    modes: list[Mode] = list(MODES)
    label_seed: int = 0
    n_labels: int = Field(100, ge=10, description="at least one image per class")
    balanced: bool = True
    folds: int = Field(3, ge=2, description="stratified folds of the labelled images")
    candidates: int = Field(3, ge=1, description="protocols tried per mode: the same budget for every mode")
    search_seed: int = 0
    space: SearchSpace = SearchSpace()
    precision: Precision = precision_field()
    device: str = Field("auto", json_schema_extra={"unkeyed": True})

    @field_validator("modes", mode="before")
    @classmethod
    def _one_mode(cls, modes):
        """One mode name stands for [that mode]: `grid: {modes: [frozen, ...]}` gives one run per
        mode, and the modes' searches run side by side (each mode's search is independent)."""
        return [modes] if isinstance(modes, str) else modes


class TransferParams(Params):
    h1: list[int] = [200, 650, 1000]
    modes: list[Mode] = list(MODES)
    label_seeds: list[int] = [0, 1, 2]
    n_labels: int = Field(100, ge=10, description="at least one image per class")
    balanced: bool = True
    baselines: bool = True
    precision: Precision = precision_field()
    device: str = Field("auto", json_schema_extra={"unkeyed": True})

    @field_validator("h1")
    @classmethod
    def _positive(cls, h1):
        if not h1 or min(h1) < 1:
            raise ValueError("h1 must be a non-empty list of widths >= 1")
        return h1


class Recipe(Params):
    """The semi-supervised recipe's base (science.semisup): the first candidate of its search."""
    steps: int = Field(1000, ge=1, description="training steps (the budget: not searched)")
    unlabelled_batch: int = Field(256, ge=1, description="unlabelled images per step (the budget)")
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    threshold: float = Field(0.95, ge=0, le=1, description="confidence a pseudo-label needs to count")
    unlabelled_weight: float = Field(1.0, ge=0)
    init: Literal["pretrained", "random"] = "pretrained"
    # issue 25's levers (science.semisup_fit); each default is the recipe before them
    ema: float = Field(0.0, ge=0, lt=1, description="EMA teacher's decay: it pseudo-labels and is evaluated (0: none)")
    strong: Literal["erase", "rand"] = Field("erase", description="strong augmentation: shift-rotate-erase or RandAugment-like")
    elastic: float = Field(0.0, ge=0, description="elastic distortion of the strong augmentation, pixels (0: none)")
    align: bool = Field(False, description="distribution alignment of the pseudo-labels (ReMixMatch)")
    schedule: Literal["constant", "cosine"] = "constant"
    network: Literal["study", "conv-small"] = Field("study", description="conv-small: the larger CNN, from random")


class RecipeSpace(Params):
    """The values cross-validation may choose the semi-supervised recipe's open fields from."""
    lr: list[float] = Field([1e-3, 3e-3], min_length=1)
    weight_decay: list[float] = Field([1e-4], min_length=1)
    threshold: list[float] = Field([0.95, 0.8], min_length=1)
    unlabelled_weight: list[float] = Field([1.0], min_length=1)
    init: list[Literal["pretrained", "random"]] = Field(["pretrained", "random"], min_length=1)
    ema: list[float] | None = None  # issue 25's levers: None, not searched (the base recipe's value)
    strong: list[Literal["erase", "rand"]] | None = None
    elastic: list[float] | None = None
    align: list[bool] | None = None
    schedule: list[Literal["constant", "cosine"]] | None = None
    network: list[Literal["study", "conv-small"]] | None = None

    @model_validator(mode="after")
    def _ranges(self):
        if any(not 0 <= e < 1 for e in self.ema or []) or any(e < 0 for e in self.elastic or []):
            raise ValueError("0 <= ema < 1 and elastic >= 0")
        if min(self.lr) <= 0 or min(self.weight_decay) < 0 or min(self.unlabelled_weight) < 0 \
                or not all(0 <= t <= 1 for t in self.threshold):
            raise ValueError("lr > 0, weight_decay >= 0, unlabelled_weight >= 0 and 0 <= threshold <= 1")
        return self


class SemisupParams(Params):
    h1: int = Field(650, ge=1, description="the head width (experiment 4's network)")
    label_seeds: list[int] = Field([0, 1, 2, 3, 4], min_length=1)
    search_label_seed: int = Field(-1, description=(
        "the label draw the recipe is chosen on by cross-validation: never one of label_seeds, so no "
        "evaluated draw takes part in the choice"))
    n_labels: int = Field(100, ge=10, description="at least one image per class")
    balanced: bool = True
    folds: int = Field(2, ge=2, description="stratified folds of the search draw's labelled images")
    candidates: int = Field(2, ge=1, description="recipes tried: the base first, then draws from space")
    cv_steps: int | None = Field(None, ge=1, description="steps per cross-validation fit (None: the recipe's)")
    search_seed: int = 0
    recipe: Recipe = Recipe()
    space: RecipeSpace = RecipeSpace()
    precision: Precision = precision_field()
    device: str = Field("auto", json_schema_extra={"unkeyed": True})

    @model_validator(mode="after")
    def _search_draw_apart(self):
        if self.search_label_seed in self.label_seeds:
            raise ValueError(f"search_label_seed {self.search_label_seed} is one of label_seeds: the draw the "
                             "recipe is chosen on must not be evaluated")
        return self


class TheoryParams(Params):
    seed: int = 0
    n_samples: int = Field(20001, ge=101)


def unkeyed(model: type[BaseModel]) -> tuple[str, ...]:
    """Fields that locate things or pick hardware rather than change results: not in cache keys."""
    return tuple(k for k, f in model.model_fields.items() if (f.json_schema_extra or {}).get("unkeyed"))
