"""The theory stage's parameters: its notebook's parameter cell, with types, defaults and rules."""

from __future__ import annotations

from pydantic import Field

from ...schema import Params


class TheoryParams(Params):
    seed: int = 0
    n_samples: int = Field(20001, ge=101)
