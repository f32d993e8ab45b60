"""The correlate stage's parameters: its notebook's parameter cell, with types, defaults and rules."""

from __future__ import annotations

from pydantic import Field

from ...schema import Params, Seed


class CorrelateParams(Params):
    n_images: int = Field(8000, ge=2)
    image_seed: Seed = 0
