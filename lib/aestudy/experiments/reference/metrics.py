"""The reference stage's `metrics.json`: the keys the tables and the report read (aestudy.metrics checks them)."""

from __future__ import annotations

from ...metrics import Metrics, Record


class ReferenceMetrics(Metrics):
    test_accuracy: float
    n_train: int
    n_calibration: int
    n_test: int
    temperature: float  # softmax temperature fitted on the held-out training images
    test_ece: float  # expected calibration error on the test set, calibrated
    test_ece_raw: float  # the same before calibration
    records: list[Record]
