"""Experiment 4: classifiers on 100 labels from the pre-trained encoders, and their baselines.

The package holds the whole experiment: `params` (its parameter model), `metrics` (the keys of
its metrics.json), `run` (what a run computes), `report` (its section of the report); its
notebook is notebooks/transfer.ipynb. This module stays light (no torch): the study imports it."""

from ...stage import Stage
from .metrics import TransferMetrics
from .params import TransferParams

STAGE = Stage(
    "transfer",
    TransferParams,
    order=60,
    reads_data=True,
    receives={"autoencode": "checkpoints", "protocol": "protocols"},
    abbrev={"h1": "h", "n_labels": "n"},
    takes_one=("autoencode",),
    metrics=TransferMetrics,
)
