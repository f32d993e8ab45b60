"""Experiment 1: autoencoders of every latent size d and depth (num_conv), trained on the training images.

The package holds the whole experiment: `params` (its parameter model), `metrics` (the keys of
its metrics.json), `run` (what a run computes), `report` (its section of the report); its
notebook is notebooks/autoencode.ipynb. This module stays light (no torch): the study imports it."""

from ...stage import Stage
from .metrics import AutoencodeMetrics
from .params import AutoencodeParams

STAGE = Stage(
    "autoencode",
    AutoencodeParams,
    order=10,
    reads_data=True,
    produces="model.pt",
    abbrev={"latent_dim": "d", "num_conv": "nc", "seed": "s"},
    metrics=AutoencodeMetrics,
    outputs=("reconstructions.png",),
    together="seed",  # the seeds of a cell, one optimiser step for all (together.py), under --seeds-together
)
