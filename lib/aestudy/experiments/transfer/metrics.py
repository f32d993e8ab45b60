"""The transfer stage's `metrics.json`: the keys the tables and the report read (aestudy.metrics checks them)."""

from __future__ import annotations

from ...metrics import Metrics, Record


class TransferRecord(Record):
    mode: str
    accuracy: float


class TransferMetrics(Metrics):
    n_test: int
    records: list[TransferRecord]
