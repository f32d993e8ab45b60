"""Experiment 4's protocols: each mode's training choices, by cross-validation on the labelled images.

The package holds the whole experiment: `params` (its parameter model), `metrics` (the keys of
its metrics.json), `run` (what a run computes), `report` (its section of the report); its
notebook is notebooks/protocol.ipynb. This module stays light (no torch): the study imports it."""

from ...stage import Stage
from .metrics import ProtocolMetrics
from .params import ProtocolParams

STAGE = Stage(
    "protocol",
    ProtocolParams,
    order=50,
    reads_data=True,
    produces="protocol.json",
    receives={"autoencode": "checkpoints"},
    abbrev={"h1": "h", "n_labels": "n", "modes": ""},
    metrics=ProtocolMetrics,
)
