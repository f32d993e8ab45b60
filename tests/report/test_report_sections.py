"""What the experiments' sections say beyond the verdicts: the participation ratio beside the
correlation and why the objective leaves the correlation free; the semi-supervised selection."""

from __future__ import annotations

import pandas as pd

from aestudy.experiments.correlate import report as correlate
from aestudy.experiments.semisup import report as semisup


def _corr(pr) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "latent_dim": d,
                "num_conv": 1,
                "seed": s,
                "offdiag": 0.1 + 0.01 * d,
                "with_diag": 0.5,
                "n_constant": 0,
                "participation_ratio": pr(d) + 0.1 * s,
                "participation_fraction": (pr(d) + 0.1 * s) / d,
                "n_encoded": 8000,
            }
            for d in (5, 10, 20)
            for s in (0, 1, 2)
        ]
    )


def test_the_participation_ratio_stands_beside_the_correlation_and_the_objective_is_explained():
    corr = _corr(lambda d: min(d, 8.0))  # the code stops using more directions at 8
    t = correlate.table(corr)
    assert list(t.columns) == [
        "num_conv",
        "d",
        "off-diagonal",
        "with diagonal",
        "participation ratio",
        "seeds",
        "constant dims",
    ]
    words = correlate.findings(corr)
    assert "participation ratio of the latent covariance" in words and "d=20: 8.10 [" in words
    assert "invertible linear remixing" in words and "leaves every reconstruction, so the loss" in words
    # issue 30: the participation ratio is not invariant under z -> Az either, so the paragraph describes
    assert "changes every correlation between coordinates, and the participation ratio too" in words
    assert "Read as a description of these codes" in words and "must share" not in words
    assert "as a share of d: d=5: 102 %, d=10: 81 %, d=20: 40 %" in words
    old = corr.drop(columns=["participation_ratio", "participation_fraction"])
    assert "participation" not in correlate.findings(old) and "participation ratio" not in correlate.table(
        old
    )


def test_the_semisup_tables_say_what_each_cv_accuracy_was_selected_from():
    df = pd.DataFrame(
        [
            {
                "method": m,
                "label_seed": s,
                "accuracy": 0.9,
                "train_accuracy": 1.0,
                "cv_accuracy": cv,
                "selected_from": n,
            }
            for m, cv, n in (
                ("semi-supervised", 0.95, 2),
                ("untuned protocol", None, None),
                ("finetune", 0.8, 5),
            )
            for s in (0, 1, 2)
        ]
    )
    t = semisup.accuracy_table(df)
    cells = dict(zip(t["method"], t["cross-validation (selected)"]))
    assert cells["semi-supervised"] == "95.0 % (best of 2)" and cells["finetune"] == "80.0 % (best of 5)"
    assert cells["untuned protocol"] == "–"
    # a recipe that tied at the top (choices.tied_at_top) is said so, the protocols' cells unchanged
    t = semisup.accuracy_table(df, tie=2)
    tied = dict(zip(t["method"], t["cross-validation (selected)"]))
    assert (
        tied["semi-supervised"] == "95.0 % (best of 2, 2 tied)" and tied["finetune"] == "80.0 % (best of 5)"
    )


def test_an_endpoint_mass_above_its_ends_says_what_it_means():
    """Issue 30: 'endpoint mass relative to the model's own ends' above 1 (pair 1-5: 1.15) means the
    ends are not recognised as their digits; the section says so, with the two absolute masses."""
    from aestudy.experiments.interpolate import report as interpolate
    from constructed import _interp

    interp = _interp([0.5] * 3, [0.7] * 3, [1.15, 0.8, 0.8], [0.6] * 3, seeds=(0,))
    interp["end_pair_mass"], interp["mid_pair_mass"] = 0.4, 0.46
    words = interpolate.findings(interp)
    assert "Above 1 (pair 1-5 at d=10, 1.15: 0.460 at a ≈ 0.5 against 0.400 at its ends)" in words
    assert "the ends are recognised less surely than the midpoint" in words
    assert "need not be the ratio of these means" not in words  # 0.460 against 0.400: the means agree
    interp["end_pair_mass"] = 0.95  # ends recognised well on average, yet the seeds' ratio above 1
    words = interpolate.findings(interp)
    assert "not recognised as" not in words and "need not be the ratio of these means" in words
    t = interpolate.table(interp, columns=interpolate.SECONDARY)
    assert {"ends endpoint mass", "a≈0.5 endpoint mass"} <= set(t.columns)
    below = _interp([0.5] * 3, [0.7] * 3, [0.8] * 3, [0.6] * 3)
    assert "Above 1" not in interpolate.findings(below)
    level = _interp([0.5] * 3, [0.7] * 3, [1.0000012, 0.8, 0.8], [0.6] * 3, seeds=(0,))
    assert "Above 1" not in interpolate.findings(level)  # prints as 1: not above it
