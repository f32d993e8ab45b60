"""The reference stage's parameters: its notebook's parameter cell, with types, defaults and rules."""

from __future__ import annotations

from pydantic import Field

from ...schema import Device, Params, Seed, device_field


class ReferenceParams(Params):
    """Experiment 2's reference classifier (experiments.reference.run): a small CNN trained on the
    profile's training images (`data.train_size`); its confidence on a decode is 'digit-like'."""

    epochs: int = Field(2, ge=1)
    batch_size: int = Field(128, ge=1)
    lr: float = Field(3e-3, gt=0)
    channels: int = Field(
        16, ge=1, description="channels of the first conv layer (the second has twice as many)"
    )
    hidden: int = Field(128, ge=1)
    calibration_size: int = Field(
        1000,
        ge=10,
        description=(
            "training images held out from its training to fit its softmax temperature (calibration)"
        ),
    )
    seed: Seed = 0
    device: Device = device_field()

    def against_data(self, data) -> dict[str, str]:
        n = data.train_images()
        if self.calibration_size >= n:
            return {
                "calibration_size": f"{self.calibration_size:,} leaves none of the {n:,} training images to train on"
            }
        return {}
