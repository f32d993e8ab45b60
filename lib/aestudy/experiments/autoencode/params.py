"""The autoencode stage's parameters: its notebook's parameter cell, with types, defaults and rules."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...architecture import AEConfig, check_config
from ...schema import (
    Device,
    Optimizer,
    OutputBias,
    Params,
    Precision,
    Schedule,
    Seed,
    device_field,
    precision_field,
)

SEED_SCOPES = (
    "cell",
    "shared",
)  # what a model's seed is drawn for: its own (d, num_conv) cell, or every cell alike
SeedScope = Literal[SEED_SCOPES]  # type: ignore[valid-type]


class CellRun(Params):
    """Another seed of this run's cell, trained in the same steps, written to its own folder."""

    seed: Seed
    out_dir: str


class AutoencodeParams(Params):
    latent_dim: int = Field(10, ge=1)
    num_conv: int = Field(2, ge=1)
    c_factor: int = Field(8, ge=1)
    kernel_size: int = Field(3, ge=1)
    fc_hidden: int = Field(256, ge=1)
    epochs: int = Field(1, ge=1)
    epoch_test_size: int | None = Field(
        None,
        ge=1,
        description=(
            "test images (a fixed seeded subset) the error is measured on after each epoch but the "
            "last; the last epoch always uses the whole test set. None: the whole test set every epoch"
        ),
    )
    val_size: int = Field(
        1000,
        ge=0,
        description=(
            "held-out training images (outside train_size's subset) measured after every epoch: how far "
            "training converged, judged without the test set"
        ),
    )
    batch_size: int = Field(64, ge=1)
    optimizer: Optimizer = "adam"
    lr: float = Field(1e-3, gt=0)
    schedule: Schedule = Field(
        "constant", description="the rate after the warm-up: constant, or a cosine decay to 0"
    )
    warmup_steps: int = Field(
        100,
        ge=0,
        description=(
            "steps over which the learning rate rises linearly to lr: without it, up to 88 % of the encoder's "
            "hidden ReLU units die in the first steps for some seeds (benchmarks/outlier.py)"
        ),
    )
    output_bias: OutputBias = Field(
        "mean",
        description=(
            "where the untrained decoder's output starts: mean, the training images' mean pixel (the last "
            "layer's bias at its logit: science.models.start_output_at_mean), or torch, PyTorch's default "
            "init (near 0.5: Adam's first steps then go to darkening it, and the budget ends with a higher "
            "validation error, benchmarks/ae_fidelity.py)"
        ),
    )
    precision: Precision = precision_field()  # about 1.6x faster for num_conv = 3 on an avx512_bf16 CPU
    seed: Seed = 0
    seed_scope: SeedScope = Field(
        "cell",
        description=(
            "what the seed initialises: cell (the torch seed is derived from the seed, d and num_conv, so "
            "no two models of the sweep share an initialisation or a batch order: every model is an "
            "independent unit and the verdicts are decided on cell means, each cell with its own spread) "
            "or shared (the seed itself, the same in every cell: the models of one seed share its batch "
            "order and, within a num_conv, its convolutions' initialisation, so the verdicts are over the "
            "seeds, seeds - 1 degrees of freedom). STUDY.md asks for 8 per verdict in the default and full profiles"
        ),
    )
    device: Device = device_field()
    cell_runs: list[CellRun] = Field(
        [],
        json_schema_extra={"unkeyed": True},
        description=(
            "further seeds of this (d, num_conv) cell trained with this one, one optimiser step for all "
            "(experiments/autoencode/together.py), each model into its own out_dir: the runner fills it "
            "under --seeds-together (a GPU's launch-bound steps made K times as wide); each model's "
            "numbers are those it gets alone, to float rounding"
        ),
    )

    @model_validator(mode="after")
    def _buildable(self):
        check_config(AEConfig.from_params(self.model_dump()))
        return self
