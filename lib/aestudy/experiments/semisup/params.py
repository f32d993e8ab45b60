"""The semisup stage's parameters: its notebook's parameter cell, with types, defaults and rules."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...schema import (
    Device,
    LabelSeed,
    Params,
    Precision,
    Seed,
    device_field,
    folds_rule,
    labels_within,
    precision_field,
)


class Recipe(Params):
    """The semi-supervised recipe's base (experiments.semisup.run): the first candidate of its search."""

    steps: int = Field(400, ge=1, description="training steps (the budget: not searched)")
    unlabelled_batch: int = Field(128, ge=1, description="unlabelled images per step (the budget)")
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    threshold: float = Field(0.95, ge=0, le=1, description="confidence a pseudo-label needs to count")
    unlabelled_weight: float = Field(1.0, ge=0)
    init: Literal["pretrained", "random"] = "pretrained"
    # issue 25's levers (experiments.semisup.fit); each default is the recipe before them
    ema: float = Field(
        0.0, ge=0, lt=1, description="EMA teacher's decay: it pseudo-labels and is evaluated (0: none)"
    )
    strong: Literal["erase", "rand"] = Field(
        "erase", description="strong augmentation: shift-rotate-erase or RandAugment-like"
    )
    elastic: float = Field(
        0.0, ge=0, description="elastic distortion of the strong augmentation, pixels (0: none)"
    )
    align: bool = Field(False, description="distribution alignment of the pseudo-labels (ReMixMatch)")
    schedule: Literal["constant", "cosine"] = "constant"
    network: Literal["study", "conv-small"] = Field(
        "study", description="conv-small: the larger CNN, from random"
    )


RECIPE = Recipe().model_dump()  # the base recipe's defaults: the parameter schema's


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
        if (
            min(self.lr) <= 0
            or min(self.weight_decay) < 0
            or min(self.unlabelled_weight) < 0
            or not all(0 <= t <= 1 for t in self.threshold)
        ):
            raise ValueError("lr > 0, weight_decay >= 0, unlabelled_weight >= 0 and 0 <= threshold <= 1")
        return self


class SemisupParams(Params):
    h1: int = Field(650, ge=1, description="the head width (experiment 4's network)")
    label_seeds: list[LabelSeed] = Field([0, 1, 2], min_length=1)
    search_label_seed: LabelSeed = Field(
        -1,
        description=(
            "the label draw the recipe is chosen on by cross-validation: never one of label_seeds, so no "
            "evaluated draw takes part in the choice"
        ),
    )
    n_labels: int = Field(100, ge=10, description="at least one image per class")
    balanced: bool = True
    folds: int = Field(2, ge=2, description="stratified folds of the search draw's labelled images")
    candidates: int = Field(2, ge=1, description="recipes tried: the base first, then draws from space")
    cv_steps: int | None = Field(
        None, ge=1, description="steps per cross-validation fit (None: the recipe's)"
    )
    search_seed: Seed = 0
    recipe: Recipe = Recipe()
    space: RecipeSpace = RecipeSpace()
    precision: Precision = precision_field()
    device: Device = device_field()

    @model_validator(mode="after")
    def _search_draw_apart(self):
        if self.search_label_seed in self.label_seeds:
            raise ValueError(
                f"search_label_seed {self.search_label_seed} is one of label_seeds: the draw the "
                "recipe is chosen on must not be evaluated"
            )
        return self

    _every_class_in_every_fold = folds_rule()

    def against_data(self, data) -> dict[str, str]:
        return labels_within(self.n_labels, data)
