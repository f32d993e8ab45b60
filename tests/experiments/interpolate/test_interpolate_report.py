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


def test_the_text_names_the_latent_sizes_the_runs_compared_and_the_pairs_they_drew():
    """It said 'd = 10 and d = 20 ... share them' of the smoke profile, which compares d = 5 and 10,
    and gave every digit pair the smallest number drawn (a digit with fewer test images than asked)."""
    t = _interp([0.5] * 3, [0.7] * 3, [0.8] * 3, [0.6] * 3)
    t["latent_dim"] = t["latent_dim"].replace({10: 5, 20: 10})
    t["pair_seed"] = t["seed"]
    t["n_image_pairs"] = t["pair"].map({p: n for p, n in zip(t["pair"].drop_duplicates(), (892, 958, 980))})
    said = interpolate.findings(t)
    assert "(d = 5 and d = 10 of one seed and num_conv share them" in said and "d = 20" not in said
    assert said.startswith("Each model interpolated 892-980 pairs of test images")
    assert interpolate.pairs_drawn(t.assign(n_image_pairs=30)) == "30 image pairs"
    assert interpolate.pairs_drawn(t.assign(n_image_pairs=1)) == "1 image pair"


def test_the_choices_row_says_when_the_runs_drew_fewer_image_pairs_than_asked():
    from pathlib import Path

    import yaml

    from aestudy.report import profile

    repo = Path(__file__).resolve().parents[3]
    params = yaml.safe_load((repo / "params" / "default.yaml").read_text())

    def row(t) -> str:
        data = profile.ProfileData(repo / "reports" / "nowhere", tables={"interpolate": t}, params=params)
        return interpolate.choices(data)[0]["choice"]

    t = _interp([0.5] * 3, [0.7] * 3, [0.8] * 3, [0.6] * 3)
    assert row(t) == (
        "30 test image pairs per digit pair [[1, 5], [3, 6], [0, 4]], drawn for each autoencoder seed and num_conv"
    )
    t["n_image_pairs"] = t["pair"].map({"1-5": 30, "3-6": 30, "0-4": 27})
    assert row(t).startswith(
        "30 test image pairs per digit pair [[1, 5], [3, 6], [0, 4]] (27-30 image pairs drawn), "
    )


def test_the_digit_like_key_number_names_the_ratio_to_the_ends_as_table_4_does():
    """It said 'endpoint mass 0.605 at d=10', the name Table 5 gives the a ≈ 0.5 mass itself (0.555)."""
    key = interpolate.verdict_mid_digit_like(_interp([0.5] * 3, [0.7] * 3, [0.8] * 3, [0.6] * 3))[
        "key number"
    ]
    assert key.startswith("endpoint mass / ends 0.800 at d=10, "), key
