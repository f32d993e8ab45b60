"""The protocol stage's `metrics.json`: the keys the tables and the report read (aestudy.metrics checks them)."""

from __future__ import annotations

from ...metrics import Metrics, Record


class ProtocolMetrics(Metrics):
    folds: int
    candidates: int
    records: list[Record]
    # per mode, per candidate (in the records' order): every fold's accuracy, each draw's folds in
    # turn (runs from before 2026-12-04 lack it; the report then says nothing per draw)
    cv_folds: dict[str, list[list[float]]] | None = None
