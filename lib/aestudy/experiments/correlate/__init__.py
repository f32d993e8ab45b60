"""Experiment 3: the correlation of the code units.

The package holds the whole experiment: `params` (its parameter model), `metrics` (the keys of
its metrics.json), `run` (what a run computes), `report` (its section of the report); its
notebook is notebooks/correlate.ipynb. This module stays light (no torch): the study imports it."""

from ...stage import Stage
from .metrics import CorrelateMetrics
from .params import CorrelateParams

STAGE = Stage(
    "correlate",
    CorrelateParams,
    order=40,
    reads_data=True,
    receives={"autoencode": "checkpoints"},
    metrics=CorrelateMetrics,
)
