"""The protocol stage's `metrics.json`: the keys the tables and the report read (aestudy.metrics checks them)."""

from __future__ import annotations

from ...metrics import Metrics, Record


class ProtocolMetrics(Metrics):
    folds: int
    candidates: int
    records: list[Record]
