"""The protocol stage's parameters: its notebook's parameter cell, with types, defaults and rules."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from ...schema import (
    Device,
    LabelSeed,
    Mode,
    Params,
    Precision,
    Seed,
    device_field,
    folds_rule,
    labels_within,
    precision_field,
)
from ...vocabulary import MODES


class SearchSpace(Params):
    """The values cross-validation may choose from, per protocol field (see experiments.protocol.run)."""

    steps: list[int] = Field([100, 200], min_length=1)
    lr: list[float] = Field([3e-4, 1e-3, 3e-3], min_length=1)
    weight_decay: list[float] = Field([0.0, 1e-4, 1e-2], min_length=1)
    augment: list[bool] = Field([False, True], min_length=1)
    warmup: list[int] = Field([0, 50], min_length=1)
    encoder_lr: list[float] = Field([1.0, 0.1], min_length=1)

    @model_validator(mode="after")
    def _ranges(self):
        if (
            min(self.steps) < 1
            or min(self.lr) <= 0
            or min(self.weight_decay) < 0
            or min(self.warmup) < 0
            or min(self.encoder_lr) <= 0
        ):
            raise ValueError("steps >= 1, lr > 0, weight_decay >= 0, warmup >= 0 and encoder_lr > 0")
        return self


class ProtocolParams(Params):
    h1: int = Field(650, ge=1, description="the head width the protocols are chosen at")
    modes: list[Mode] = list(MODES)
    label_seeds: list[LabelSeed] = Field(
        [0],
        min_length=1,
        description="the label draws of every encoder the candidates are cross-validated on: a candidate's score "
        "is its mean over every draw's folds (one draw of 100 labels chooses noisily: benchmarks/README.md)",
    )
    n_labels: int = Field(100, ge=10, description="at least one image per class")
    balanced: bool = True
    folds: int = Field(3, ge=2, description="stratified folds of the labelled images")
    candidates: int = Field(3, ge=1, description="protocols tried per mode: the same budget for every mode")
    search_seed: Seed = 0
    space: SearchSpace = SearchSpace()
    precision: Precision = precision_field()
    device: Device = device_field()

    @field_validator("modes", mode="before")
    @classmethod
    def _one_mode(cls, modes):
        """One mode name stands for [that mode]: `grid: {modes: [frozen, ...]}` gives one run per
        mode, and the modes' searches run side by side (each mode's search is independent)."""
        return [modes] if isinstance(modes, str) else modes

    @field_validator("label_seeds", mode="before")
    @classmethod
    def _one_seed(cls, seeds):
        """One label seed stands for [that seed]."""
        return [seeds] if isinstance(seeds, int) else seeds

    @field_validator("label_seeds")
    @classmethod
    def _distinct(cls, seeds):
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"each label seed once (a draw counted twice weighs twice), got {seeds}")
        return seeds

    _every_class_in_every_fold = folds_rule()

    def against_data(self, data) -> dict[str, str]:
        return labels_within(self.n_labels, data)
