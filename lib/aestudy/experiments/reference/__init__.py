"""Experiment 2's yardstick for 'digit-like': a small CNN trained on the labelled training images, calibrated.

The package holds the whole experiment: `params` (its parameter model), `metrics` (the keys of
its metrics.json), `run` (what a run computes), `report` (its section of the report); its
notebook is notebooks/reference.ipynb. This module stays light (no torch): the study imports it."""

from ...stage import Stage
from .metrics import ReferenceMetrics
from .params import ReferenceParams

STAGE = Stage(
    "reference",
    ReferenceParams,
    order=20,
    reads_data=True,
    produces="classifier.pt",
    abbrev={"seed": "s"},
    metrics=ReferenceMetrics,
)
