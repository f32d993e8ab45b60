"""The transfer stage's parameters: its notebook's parameter cell, with types, defaults and rules."""

from __future__ import annotations

from pydantic import Field, field_validator

from ...schema import Device, LabelSeed, Mode, Params, Precision, device_field, labels_within, precision_field
from ...vocabulary import MODES


class TransferParams(Params):
    h1: list[int] = [200, 650, 1000]
    modes: list[Mode] = list(MODES)
    label_seeds: list[LabelSeed] = [0, 1, 2]
    n_labels: int = Field(100, ge=10, description="at least one image per class")
    balanced: bool = True
    baselines: bool = True
    precision: Precision = precision_field()
    device: Device = device_field()

    @field_validator("h1")
    @classmethod
    def _positive(cls, h1):
        if not h1 or min(h1) < 1:
            raise ValueError("h1 must be a non-empty list of widths >= 1")
        return h1

    def against_data(self, data) -> dict[str, str]:
        return labels_within(self.n_labels, data)
