"""Tests for the report's statistics and decision rules, on small hand-made inputs: no data, no
training (the metrics of experiments 2-3 are tested in tests/experiments/). The verdicts on constructed
tables are in test_verdicts.py and test_verdict_rules.py; tables and text in test_report_text.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aestudy.report import decide, linear, text
from aestudy.report import stats as report_stats
from aestudy.report.decide import CONTRADICTED, INCONCLUSIVE, SUPPORTED

# ------------------------------------------------------------------ statistics


@pytest.mark.parametrize("values", [[0.71, 0.74, 0.69], [1.0, 2.0, 4.0, 8.0, 16.0], [5.0, 5.0]])
def test_mean_ci_matches_scipy_t_interval(values):
    ci = report_stats.mean_ci(values)
    x = np.asarray(values)
    if x.std() == 0:
        assert ci["lo"] == ci["hi"] == ci["mean"] == 5.0
        return
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert ci["mean"] == pytest.approx(x.mean())
    assert ci["lo"] == pytest.approx(lo) and ci["hi"] == pytest.approx(hi)
    assert ci["n"] == len(x) and ci["confidence"] == 0.95


def test_an_accuracy_interval_stops_at_100_percent_and_an_error_interval_at_zero():
    import pandas as pd

    ci = report_stats.mean_ci([0.99, 1.0], bounds=(0.0, 1.0))
    assert ci["hi"] == 1.0 and ci["lo"] < 0.99 and ci["mean"] == 0.995
    df = pd.DataFrame(
        {
            "seed": [0, 1, 0, 1],
            "g": ["a", "a", "b", "b"],
            "accuracy": [0.99, 1.0, 0.01, 0.0],
            "final_test_error": [0.001, 0.2, 0.5, 0.5],
        }
    )
    acc = report_stats.summarise(df, "g", "accuracy").set_index("g")
    assert acc.loc["a", "ci_hi"] == 1.0 and acc.loc["b", "ci_lo"] == 0.0
    assert report_stats.summarise(df, "g", "final_test_error").set_index("g").loc["a", "ci_lo"] == 0.0
    unbounded = report_stats.mean_ci([0.99, 1.0])
    assert unbounded["hi"] > 1.0  # only a measure with a known range is cut


def test_mean_ci_small_samples_and_nan():
    one = report_stats.mean_ci([0.5])
    assert one["mean"] == 0.5 and one["n"] == 1 and math.isnan(one["lo"])
    assert report_stats.mean_ci([])["n"] == 0
    assert report_stats.mean_ci([1.0, np.nan, 3.0])["n"] == 2
    lo90 = report_stats.mean_ci([1.0, 2.0, 4.0], confidence=0.90)["lo"]
    assert lo90 == pytest.approx(stats.t.interval(0.90, 2, loc=7 / 3, scale=stats.sem([1.0, 2.0, 4.0]))[0])


def test_summarise_averages_within_unit_first():
    df = pd.DataFrame(
        {"mode": ["a"] * 4 + ["b"] * 2, "seed": [0, 0, 1, 1, 0, 1], "acc": [0.1, 0.3, 0.5, 0.7, 0.9, 0.9]}
    )
    s = report_stats.summarise(df, "mode", "acc").set_index("mode")  # the unit: the autoencoder seed
    assert s.loc["a", "n"] == 2 and s.loc["a", "mean"] == pytest.approx(0.4)
    lo, hi = stats.t.interval(0.95, 1, loc=0.4, scale=stats.sem([0.2, 0.6]))
    assert s.loc["a", "ci_lo"] == pytest.approx(lo) and s.loc["a", "ci_hi"] == pytest.approx(hi)
    assert s.loc["b", "ci_lo"] == pytest.approx(0.9)
    assert report_stats.summarise(df, "mode", "acc", unit=None)["n"].tolist() == [4, 2]
    assert report_stats.summarise(pd.DataFrame(), "mode", "acc").empty


def test_param_correlations_against_scipy_and_per_seed():
    df = pd.DataFrame(
        {
            "latent_dim": [5, 10, 15, 20, 5, 10],
            "num_conv": [1, 1, 1, 1, 2, 2],
            "err": [0.05, 0.03, 0.025, 0.02, 0.045, 0.028],
        }
    )
    t = report_stats.param_correlations(df, ["latent_dim", "num_conv"], "err").set_index("parameter")
    assert t.loc["latent_dim", "pearson_r"] == pytest.approx(stats.pearsonr(df.latent_dim, df.err)[0])
    assert t.loc["num_conv", "spearman_rho"] == pytest.approx(stats.spearmanr(df.num_conv, df.err)[0])
    assert t.loc["latent_dim", "n"] == 6
    two = pd.concat([df.assign(seed=0), df.assign(seed=1, err=df.err * [1, 1.1, 0.9, 1, 1.2, 1])])
    s = report_stats.param_correlations_by_seed(two, ["latent_dim"], "err").set_index("measure")
    r1 = stats.pearsonr(df.latent_dim, df.err * [1, 1.1, 0.9, 1, 1.2, 1])[0]
    assert s.loc["pearson_r", "n"] == 2 and s.loc["pearson_r", "mean"] == pytest.approx(
        (t.loc["latent_dim", "pearson_r"] + r1) / 2
    )


def test_interval_text_names_level_unit_and_n():
    ci = report_stats.mean_ci([0.70, 0.72, 0.74])
    assert (
        text.fmt_ci(ci, pct=True, unit=text.SEEDS)
        == "72.0 % [67.0 %, 77.0 %], 95 % t-interval over 3 autoencoder seeds"
    )
    assert (
        text.fmt_ci(report_stats.mean_ci([0.7]), pct=True, unit=text.SEEDS)
        == "70.0 % (n = 1 autoencoder seed, no interval)"
    )
    assert text.interval_words(0.9, [3, 3, 2]) == "90 % t-interval over 2-3 autoencoder seeds"


# ------------------------------------------------------------------ the decision rules


def test_direction_three_words_and_seed_count():
    assert decide.direction(pd.Series([0.05, 0.06, 0.055]), +1, 0.95)["verdict"] == SUPPORTED
    reversed_ = decide.direction(pd.Series([-0.05, -0.06, -0.055]), +1, 0.95)  # the opposite, significant
    assert reversed_["verdict"] == CONTRADICTED and reversed_["holds"] == 0
    across = decide.direction(pd.Series([0.05, -0.04, 0.02]), +1, 0.95)  # interval across zero
    assert across["verdict"] == INCONCLUSIVE and (across["holds"], across["seeds"]) == (2, 3)
    assert decide.holds_text(across) == "holds in 2 of 3 seeds"
    assert decide.direction(pd.Series([-0.05, -0.06, -0.055]), -1, 0.95)["verdict"] == SUPPORTED
    assert decide.direction(pd.Series([0.3]), +1, 0.95)["verdict"] == INCONCLUSIVE  # one seed: no interval
    # against a margin instead of 0: clearly above 0.10, clearly below it, across it
    assert decide.direction(pd.Series([0.30, 0.32, 0.31]), +1, 0.95, boundary=0.10)["verdict"] == SUPPORTED
    assert (
        decide.direction(pd.Series([0.02, 0.03, 0.025]), +1, 0.95, boundary=0.10)["verdict"] == CONTRADICTED
    )
    assert decide.direction(pd.Series([0.05, 0.15, 0.12]), +1, 0.95, boundary=0.10)["verdict"] == INCONCLUSIVE


def test_equivalence_against_a_margin():
    inside = decide.equivalence(
        pd.DataFrame({"a-b": [0.004, 0.006, 0.005], "a-c": [-0.003, 0.001, -0.001]}), 0.02, 0.95
    )
    assert inside["verdict"] == SUPPORTED and decide.holds_text(inside) == "holds in 3 of 3 seeds"
    crossing = decide.equivalence(pd.DataFrame({"a-b": [0.005, 0.025, 0.012]}), 0.02, 0.95)
    assert crossing["verdict"] == INCONCLUSIVE and crossing["holds"] == 2
    outside = decide.equivalence(
        pd.DataFrame({"a-b": [0.004, 0.005, 0.006], "a-c": [0.05, 0.06, 0.055]}), 0.02, 0.95
    )
    assert outside["verdict"] == CONTRADICTED and outside["worst"] == "a-c" and outside["holds"] == 0
    assert decide.equivalence(pd.DataFrame({"a-b": [0.001]}), 0.02, 0.95)["verdict"] == INCONCLUSIVE


def test_block_slope_compares_within_blocks_only():
    # within each num_conv the error falls with d; pooled over blocks it rises (the larger model
    # has only the larger d and a higher error): the within-block slope is negative
    df = pd.DataFrame(
        {"num_conv": [1, 1, 3, 3], "latent_dim": [5, 10, 15, 20], "err": [0.05, 0.04, 0.09, 0.08]}
    )
    assert linear.block_slope(df, "latent_dim", "err", "num_conv") == pytest.approx(-0.002)
    assert stats.linregress(df.latent_dim, df.err).slope > 0
    assert math.isnan(linear.block_slope(df.iloc[[0, 2]], "latent_dim", "err", "num_conv"))
