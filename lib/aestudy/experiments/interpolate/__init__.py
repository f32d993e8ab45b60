"""Experiment 2: decodes along the line between two images' codes.

The package holds the whole experiment: `params` (its parameter model), `metrics` (the keys of
its metrics.json), `run` (what a run computes), `report` (its section of the report); its
notebook is notebooks/interpolate.ipynb. This module stays light (no torch): the study imports it."""

from ...stage import Stage
from .metrics import InterpolateMetrics
from .params import InterpolateParams

STAGE = Stage(
    "interpolate",
    InterpolateParams,
    order=30,
    reads_data=True,
    receives={"autoencode": "checkpoints", "reference": "classifiers"},
    takes_one=("reference",),
    metrics=InterpolateMetrics,
)
