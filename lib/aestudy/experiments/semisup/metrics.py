"""The semisup stage's `metrics.json`: the keys the tables and the report read (aestudy.metrics checks them)."""

from __future__ import annotations

from ...metrics import Metrics, Record


class SemisupMetrics(Metrics):
    latent_dim: int
    num_conv: int
    n_test: int
    n_pool: int
    recipe: dict
    selection: dict  # how the recipe was selected; its "label" is printed beside selected numbers
    candidates: list[dict]
    records: list[Record]
    compute: dict | None = None  # device, precision, seconds and steps of the search and the draws (issue 25)
