"""The correlate stage's `metrics.json`: the keys the tables and the report read (aestudy.metrics checks them)."""

from __future__ import annotations

from ...metrics import Metrics, Record


class CorrelateRecord(Record):
    """One model: experiment 3's verdict and its participation ratio read these."""

    latent_dim: int
    seed: int
    offdiag: float
    with_diag: float
    participation_ratio: float


class CorrelateMetrics(Metrics):
    records: list[CorrelateRecord]
    matrices: dict[str, list[list[float]]]
