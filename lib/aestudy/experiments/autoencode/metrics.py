"""The autoencode stage's `metrics.json`: the keys the tables and the report read (aestudy.metrics checks them)."""

from __future__ import annotations

from pydantic import BaseModel

from ...metrics import Metrics


class History(BaseModel):
    epoch: list[int]
    train_error: list[float]
    test_error: list[float]
    val_error: list[float] = []  # held-out training images, per epoch (absent with val_size 0)


class AutoencodeMetrics(Metrics):
    final_test_error: float
    final_train_error: float
    final_val_error: float | None  # held-out training images (None with val_size 0)
    val_change: float | None  # the last epoch's relative change of it (None with one epoch)
    pca_test_error: float  # PCA with the same d, fitted on the same training images
    mean_image_test_error: float  # the training mean image: a code of size 0
    n_parameters: int
    dead_encoder_hidden: float
    dead_units: dict
    history: History
