"""The transfer stage's parameters: its notebook's parameter cell, with types, defaults and rules."""

from __future__ import annotations

from pydantic import Field, field_validator

from ...schema import Mode, Params, Precision, precision_field
from ...vocabulary import MODES


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
