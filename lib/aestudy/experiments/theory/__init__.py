"""The theory checks: the original's derivations checked symbolically and numerically (a chapter of the report).

The package holds the whole experiment: `params` (its parameter model), `metrics` (the keys of
its metrics.json), `run` (what a run computes), `report` (its section of the report); its
notebook is notebooks/theory.ipynb. This module stays light (no torch): the study imports it."""

from ...stage import Stage
from .params import TheoryParams

STAGE = Stage("theory", TheoryParams, order=80, in_report=True, abbrev={"seed": "s"})
