"""What experiment 2's section says, on constructed tables: units next to their numbers (review
C2) and counts with thousands separators (review D2)."""

from __future__ import annotations

import pandas as pd

from aestudy.experiments.interpolate import report as interpolate
from constructed import _interp


def test_the_entropy_excess_puts_nats_beside_each_mean_not_after_the_interval_words():
    interp = _interp([0.5] * 3, [0.7] * 3, [0.8] * 3, [0.6] * 3)
    words = interpolate.findings(interp)
    e = interp.groupby(["latent_dim", "seed"])["mid_entropy_excess"].mean().groupby("latent_dim").mean()
    mean10 = interpolate.fmt(e[10])
    assert (
        f"exceeds that at the model's own ends (0: as sure as at the ends) by d=10: {mean10} nats [" in words
    )
    assert "d=20: " + interpolate.fmt(e[20]) + " nats [" in words
    assert "autoencoder seeds) nats" not in words


def test_one_seed_keeps_the_unit_beside_its_mean_without_an_interval():
    interp = _interp([0.5] * 3, [0.7] * 3, [0.8] * 3, [0.6] * 3, seeds=(0,))
    assert "nats (n = 1, no interval)" in interpolate.means_in(interp, "mid_entropy_excess", 0.95, "nats")


def test_the_calibration_images_are_counted_with_thousands_separators():
    ref = pd.DataFrame(
        [
            {
                "test_accuracy": 0.955,
                "n_train": 6000,
                "epochs": 2,
                "n_test": 10000,
                "temperature": 0.962,
                "n_calibration": 1000,
                "test_ece": 0.012,
                "test_ece_raw": 0.015,
            }
        ]
    )
    words = interpolate.reference_text(ref)
    assert "on 1,000 held-out training images" in words and "6,000 labelled" in words
