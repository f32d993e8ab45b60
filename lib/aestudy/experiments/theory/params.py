"""The theory stage's parameters: its notebook's parameter cell, with types, defaults and rules."""

from __future__ import annotations

from pydantic import Field

from ...schema import Params, Seed


class TheoryParams(Params):
    seed: Seed = 0
    n_samples: int = Field(20001, ge=101, le=1_000_000)  # float64 tensors of n: 1e12 asked for 8 TB
