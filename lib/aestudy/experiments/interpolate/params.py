"""The interpolate stage's parameters: its notebook's parameter cell, with types, defaults and rules."""

from __future__ import annotations

from pydantic import Field, field_validator

from ...schema import Params, Seed


class InterpolateParams(Params):
    pairs: list[tuple[int, int]] = [(1, 5), (3, 6), (0, 4)]
    steps: int = Field(11, ge=2)
    image_seed: Seed = 0
    pairs_per_digit_pair: int = Field(
        30,
        ge=1,
        description=(
            "test image pairs drawn per digit pair and model (from image_seed and the model's seed, num_conv "
            "and d; with shared_images, per seed and num_conv) and measured; the first model's first image "
            "pair is the figure's"
        ),
    )
    shared_images: bool = Field(
        False,
        description=(
            "the models of one seed and num_conv interpolate the same image pairs (d = 10 against d = 20 "
            "paired on the images, the model pairs the units); false: every model draws its own, so that "
            "every model seeded for its own cell is an independent unit"
        ),
    )
    n_reference: int = Field(5000, ge=1, description="training images the a=0.5 decodes are compared with")

    @field_validator("pairs")
    @classmethod
    def _digits(cls, pairs):
        for a, b in pairs:
            if not (0 <= a <= 9 and 0 <= b <= 9):
                raise ValueError(f"digits must be in 0..9, got ({a}, {b})")
        return pairs
