"""Tests for the metrics of experiments 2-3 (aestudy.science) and for the report's statistics,
tables, warnings, verdicts on the original study's conclusions and the comparison of two profiles
(aestudy.report), on small hand-made tables: no data, no training."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from scipy import stats

from aestudy import cli
from aestudy.report import compare, decide, profile, prose, sentences, stats as report_stats, tables, text, verdicts
from aestudy.report.experiments import (autoencode, claims as all_claims, correlate, interpolate, interpolate_figures,
                                        transfer, transfer_data)
from aestudy.report.decide import CONTRADICTED, INCONCLUSIVE, SUPPORTED
from aestudy.report_params import ReportParams
from aestudy.science import correlation, interpolation


# ------------------------------------------------------------------ correlations

def test_latent_correlation_hand_computed_and_offdiag_ignores_diagonal():
    # b = 2a (corr +1), c is orthogonal to a and b after centring (corr 0), e = reversed a (corr -1 with a, b; 0 with c)
    a = [1.0, 2.0, 3.0, 4.0]
    b = [2.0, 4.0, 6.0, 8.0]
    c = [1.0, 0.0, 0.0, 1.0]
    e = [4.0, 3.0, 2.0, 1.0]
    z = np.array([a, b, c, e]).T
    res = correlation.latent_correlation(z)
    expected = np.array([[1, 1, 0, -1], [1, 1, 0, -1], [0, 0, 1, 0], [-1, -1, 0, 1]], dtype=float)
    np.testing.assert_allclose(res["matrix"], expected, atol=1e-12)
    # off-diagonal: 12 entries, 6 of them |1|  -> 0.5 ; with the diagonal: (4 + 6) / 16
    assert res["offdiag"] == pytest.approx(6 / 12)
    assert res["with_diag"] == pytest.approx(10 / 16)
    assert res["constant_dims"] == []
    # the diagonal alone (uncorrelated dims) gives offdiag 0 but with_diag 1/d
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(50, 5)))
    q = q - q.mean(0)  # centred columns of an orthonormal basis are not exactly orthogonal: re-orthogonalise
    q, _ = np.linalg.qr(q)
    res = correlation.latent_correlation(q)
    assert res["offdiag"] < 0.2
    assert res["with_diag"] == pytest.approx((1 + 4 * res["offdiag"]) / 5)


def test_latent_correlation_constant_dimension_counts_as_zero():
    z = np.array([[1.0, 2.0, 5.0], [2.0, 4.0, 5.0], [3.0, 6.5, 5.0], [4.0, 8.0, 5.0]])
    res = correlation.latent_correlation(z)
    assert res["constant_dims"] == [2]
    assert not np.isnan(res["matrix"]).any()
    assert res["matrix"][2, 2] == 1.0 and res["matrix"][0, 2] == 0.0
    r01 = np.corrcoef(z[:, 0], z[:, 1])[0, 1]
    assert res["offdiag"] == pytest.approx(2 * abs(r01) / 6)


def test_latent_correlation_single_dimension_and_bad_shape():
    assert math.isnan(correlation.latent_correlation(np.arange(5.0).reshape(5, 1))["offdiag"])
    with pytest.raises(ValueError):
        correlation.latent_correlation(np.zeros((1, 3)))


# ------------------------------------------------------------------ interpolation helpers

def test_interpolate_latents_ends_are_exact_and_linear():
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(7, generator=g), torch.randn(7, generator=g)
    zs = interpolation.interpolate_latents(z1, z2, 11)
    assert zs.shape == (11, 7)
    assert torch.equal(zs[0], z1) and torch.equal(zs[-1], z2)
    torch.testing.assert_close(zs[5], (z1 + z2) / 2)
    with pytest.raises(ValueError):
        interpolation.interpolate_latents(z1, z2, 1)


def test_nearest_distance_matches_brute_force():
    rng = np.random.default_rng(1)
    x, ref = rng.random((5, 1, 4, 4)), rng.random((30, 1, 4, 4))
    brute = np.array([((ref.reshape(30, -1) - xi.reshape(-1)) ** 2).mean(1).min() for xi in x])
    np.testing.assert_allclose(interpolation.nearest_distance(x, ref, chunk=2), brute, rtol=1e-10, atol=1e-12)
    assert interpolation.nearest_distance(ref[:3], ref).max() == pytest.approx(0.0, abs=1e-12)


def test_pick_image_is_seeded_and_has_the_digit():
    labels = torch.tensor([3, 1, 3, 5, 3, 1])
    i = interpolation.pick_image(labels, 3, seed=4)
    assert labels[i] == 3 and i == interpolation.pick_image(labels, 3, seed=4)
    assert {interpolation.pick_image(labels, 3, s) for s in range(20)} == {0, 2, 4}
    with pytest.raises(ValueError):
        interpolation.pick_image(labels, 7, 0)



def test_pick_images_extend_the_figure_image_and_pair_up():
    labels = torch.tensor([3, 1, 3, 5, 3, 1, 5, 5, 3])
    first = interpolation.pick_image(labels, 3, seed=2)
    three = interpolation.pick_images(labels, 3, seed=2, n=3)
    assert three[0] == first and len(set(three)) == 3 and all(labels[i] == 3 for i in three)
    assert interpolation.pick_images(labels, 3, seed=2, n=10)[:3] == three       # more images: the same first ones
    pairs = interpolation.image_pairs(labels, 3, 5, seed=2, n=5)
    assert len(pairs) == 3                                                        # only three 5s
    assert pairs[0] == (first, interpolation.pick_image(labels, 5, seed=2))       # the figure's pair comes first
    same = interpolation.image_pairs(labels, 3, 3, seed=2, n=2)
    assert len(same) == 2 and all(i != j for i, j in same)


def _blur(x: np.ndarray) -> np.ndarray:
    """3x3 box blur (edges replicated)."""
    p = np.pad(x, 1, mode="edge")
    return sum(p[i:i + x.shape[0], j:j + x.shape[1]] for i in range(3) for j in range(3)) / 9


def test_tenengrad_by_hand_constant_blur_and_scale():
    step = np.zeros((28, 28))
    step[:, 14:] = 1.0
    # Sobel x at the two columns beside the edge: (1 + 2 + 1) * 1 = 4, so 16 on 2 of the 26 interior
    # columns, every interior row; Sobel y is 0
    assert interpolation.tenengrad(step) == pytest.approx(16 * 2 / 26)
    assert interpolation.tenengrad(step.T) == pytest.approx(16 * 2 / 26)
    assert interpolation.tenengrad(np.full((28, 28), 0.7)) == pytest.approx(0.0, abs=1e-24)   # 0 up to rounding
    digit = np.zeros((28, 28))
    digit[6:22, 12:16] = 1.0
    digit[6:9, 8:16] = 1.0
    assert 0 < interpolation.tenengrad(_blur(digit)) < interpolation.tenengrad(digit)
    assert interpolation.tenengrad(_blur(_blur(digit))) < interpolation.tenengrad(_blur(digit))
    assert interpolation.tenengrad(2 * digit) == pytest.approx(4 * interpolation.tenengrad(digit))
    batch = np.stack([digit, _blur(digit)])[:, None]                   # (2, 1, 28, 28): one value per image
    np.testing.assert_allclose(interpolation.tenengrad(batch), [[interpolation.tenengrad(digit)],
                                                                [interpolation.tenengrad(_blur(digit))]])


def test_sharpness_ratio_is_one_for_the_real_digits_and_below_for_blur():
    a, b = np.zeros((28, 28)), np.zeros((28, 28))
    a[6:22, 12:16], b[8:20, 6:22] = 1.0, 1.0
    steps = np.stack([a, _blur(a), _blur(b), b])[None]                  # one pair, 4 values of a
    r = interpolation.sharpness_ratio(steps, a[None], b[None])
    assert r.shape == (1, 4)
    assert r[0, 0] == pytest.approx(1.0) and r[0, -1] == pytest.approx(1.0)
    assert r[0, 1] < 1 and r[0, 2] < 1
    # in between, the yardstick is interpolated: (1 - a) T(a) + a T(b)
    ta, tb = interpolation.tenengrad(a), interpolation.tenengrad(b)
    assert r[0, 1] == pytest.approx(interpolation.tenengrad(_blur(a)) / (ta * 2 / 3 + tb / 3))


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
    df = pd.DataFrame({"seed": [0, 1, 0, 1], "g": ["a", "a", "b", "b"], "accuracy": [0.99, 1.0, 0.01, 0.0],
                       "final_test_error": [0.001, 0.2, 0.5, 0.5]})
    acc = report_stats.summarise(df, "g", "accuracy").set_index("g")
    assert acc.loc["a", "ci_hi"] == 1.0 and acc.loc["b", "ci_lo"] == 0.0
    assert report_stats.summarise(df, "g", "final_test_error").set_index("g").loc["a", "ci_lo"] == 0.0
    unbounded = report_stats.mean_ci([0.99, 1.0])
    assert unbounded["hi"] > 1.0    # only a measure with a known range is cut


def test_mean_ci_small_samples_and_nan():
    one = report_stats.mean_ci([0.5])
    assert one["mean"] == 0.5 and one["n"] == 1 and math.isnan(one["lo"])
    assert report_stats.mean_ci([]) ["n"] == 0
    assert report_stats.mean_ci([1.0, np.nan, 3.0])["n"] == 2
    lo90 = report_stats.mean_ci([1.0, 2.0, 4.0], confidence=0.90)["lo"]
    assert lo90 == pytest.approx(stats.t.interval(0.90, 2, loc=7 / 3, scale=stats.sem([1.0, 2.0, 4.0]))[0])


def test_summarise_averages_within_unit_first():
    df = pd.DataFrame({"mode": ["a"] * 4 + ["b"] * 2, "seed": [0, 0, 1, 1, 0, 1],
                       "acc": [0.1, 0.3, 0.5, 0.7, 0.9, 0.9]})
    s = report_stats.summarise(df, "mode", "acc").set_index("mode")   # the unit: the autoencoder seed
    assert s.loc["a", "n"] == 2 and s.loc["a", "mean"] == pytest.approx(0.4)
    lo, hi = stats.t.interval(0.95, 1, loc=0.4, scale=stats.sem([0.2, 0.6]))
    assert s.loc["a", "ci_lo"] == pytest.approx(lo) and s.loc["a", "ci_hi"] == pytest.approx(hi)
    assert s.loc["b", "ci_lo"] == pytest.approx(0.9)
    assert report_stats.summarise(df, "mode", "acc", unit=None)["n"].tolist() == [4, 2]
    assert report_stats.summarise(pd.DataFrame(), "mode", "acc").empty


def test_param_correlations_against_scipy_and_per_seed():
    df = pd.DataFrame({"latent_dim": [5, 10, 15, 20, 5, 10], "num_conv": [1, 1, 1, 1, 2, 2],
                       "err": [0.05, 0.03, 0.025, 0.02, 0.045, 0.028]})
    t = report_stats.param_correlations(df, ["latent_dim", "num_conv"], "err").set_index("parameter")
    assert t.loc["latent_dim", "pearson_r"] == pytest.approx(stats.pearsonr(df.latent_dim, df.err)[0])
    assert t.loc["num_conv", "spearman_rho"] == pytest.approx(stats.spearmanr(df.num_conv, df.err)[0])
    assert t.loc["latent_dim", "n"] == 6
    two = pd.concat([df.assign(seed=0), df.assign(seed=1, err=df.err * [1, 1.1, 0.9, 1, 1.2, 1])])
    s = report_stats.param_correlations_by_seed(two, ["latent_dim"], "err").set_index("measure")
    r1 = stats.pearsonr(df.latent_dim, df.err * [1, 1.1, 0.9, 1, 1.2, 1])[0]
    assert s.loc["pearson_r", "n"] == 2 and s.loc["pearson_r", "mean"] == pytest.approx((t.loc["latent_dim", "pearson_r"] + r1) / 2)


def test_interval_text_names_level_unit_and_n():
    ci = report_stats.mean_ci([0.70, 0.72, 0.74])
    assert text.fmt_ci(ci, pct=True, unit=text.SEEDS) == "72.0 % [67.0 %, 77.0 %], 95 % t-interval over 3 autoencoder seeds"
    assert text.fmt_ci(report_stats.mean_ci([0.7]), pct=True, unit=text.SEEDS) == "70.0 % (n = 1 autoencoder seed, no interval)"
    assert text.interval_words(0.9, [3, 3, 2]) == "90 % t-interval over 2-3 autoencoder seeds"


# ------------------------------------------------------------------ the decision rules

def test_direction_three_words_and_seed_count():
    assert decide.direction(pd.Series([0.05, 0.06, 0.055]), +1, 0.95)["verdict"] == SUPPORTED
    reversed_ = decide.direction(pd.Series([-0.05, -0.06, -0.055]), +1, 0.95)       # the opposite, significant
    assert reversed_["verdict"] == CONTRADICTED and reversed_["holds"] == 0
    across = decide.direction(pd.Series([0.05, -0.04, 0.02]), +1, 0.95)              # interval across zero
    assert across["verdict"] == INCONCLUSIVE and (across["holds"], across["seeds"]) == (2, 3)
    assert decide.holds_text(across) == "holds in 2 of 3 seeds"
    assert decide.direction(pd.Series([-0.05, -0.06, -0.055]), -1, 0.95)["verdict"] == SUPPORTED
    assert decide.direction(pd.Series([0.3]), +1, 0.95)["verdict"] == INCONCLUSIVE    # one seed: no interval
    # against a margin instead of 0: clearly above 0.10, clearly below it, across it
    assert decide.direction(pd.Series([0.30, 0.32, 0.31]), +1, 0.95, boundary=0.10)["verdict"] == SUPPORTED
    assert decide.direction(pd.Series([0.02, 0.03, 0.025]), +1, 0.95, boundary=0.10)["verdict"] == CONTRADICTED
    assert decide.direction(pd.Series([0.05, 0.15, 0.12]), +1, 0.95, boundary=0.10)["verdict"] == INCONCLUSIVE


def test_equivalence_against_a_margin():
    inside = decide.equivalence(pd.DataFrame({"a-b": [0.004, 0.006, 0.005], "a-c": [-0.003, 0.001, -0.001]}), 0.02, 0.95)
    assert inside["verdict"] == SUPPORTED and decide.holds_text(inside) == "holds in 3 of 3 seeds"
    crossing = decide.equivalence(pd.DataFrame({"a-b": [0.005, 0.025, 0.012]}), 0.02, 0.95)
    assert crossing["verdict"] == INCONCLUSIVE and crossing["holds"] == 2
    outside = decide.equivalence(pd.DataFrame({"a-b": [0.004, 0.005, 0.006], "a-c": [0.05, 0.06, 0.055]}), 0.02, 0.95)
    assert outside["verdict"] == CONTRADICTED and outside["worst"] == "a-c" and outside["holds"] == 0
    assert decide.equivalence(pd.DataFrame({"a-b": [0.001]}), 0.02, 0.95)["verdict"] == INCONCLUSIVE


def test_block_slope_compares_within_blocks_only():
    # within each num_conv the error falls with d; pooled over blocks it rises (the larger model
    # has only the larger d and a higher error): the within-block slope is negative
    df = pd.DataFrame({"num_conv": [1, 1, 3, 3], "latent_dim": [5, 10, 15, 20], "err": [0.05, 0.04, 0.09, 0.08]})
    assert decide.block_slope(df, "latent_dim", "err", "num_conv") == pytest.approx(-0.002)
    assert stats.linregress(df.latent_dim, df.err).slope > 0
    assert math.isnan(decide.block_slope(df.iloc[[0, 2]], "latent_dim", "err", "num_conv"))


# ------------------------------------------------------------------ verdicts on hand-made tables

SEEDS = (0, 1, 2)


def _ae(error, seeds=SEEDS, ds=(5, 10, 15, 20), ncs=(1, 2, 3)) -> pd.DataFrame:
    """error(d, num_conv, seed) -> final test error; one row per autoencoder."""
    return pd.DataFrame([{"run_id": f"d{d}-nc{nc}-s{s}", "status": "ok", "latent_dim": d, "num_conv": nc, "seed": s,
                          "final_test_error": error(d, nc, s)} for d in ds for nc in ncs for s in seeds])


def _good_error(d, nc, s):
    return (0.1 / d * (1.0 - 0.05 * nc) + (0.02 if d < 10 else 0.0)) * (1 + 0.05 * s)


def test_autoencode_verdicts_supported_in_every_seed():
    ae = _ae(_good_error)
    row = autoencode.verdict_error_falls_with_d(ae)
    assert row["verdict"] == SUPPORTED and row["seeds"] == "holds in 3 of 3 seeds"
    assert "95 % t-interval over 3 autoencoder seeds" in row["this run's numbers"]
    row = autoencode.verdict_small_d_worse(ae)
    assert row["verdict"] == SUPPORTED and row["seeds"] == "holds in 3 of 3 seeds"
    assert autoencode.verdict_error_falls_with_size(ae)["verdict"] == SUPPORTED


def _interp(sharp_lo, sharp_hi, conf_lo, conf_hi, seeds=SEEDS) -> pd.DataFrame:
    """Per seed s, digit pair i: d=10 and d=20 rows (each a mean over 30 image pairs) with the
    i-th end Tenengrad ratio (its |ln| the verdict's measure) and a~0.5 endpoint mass relative to
    the ends (also the confidence), the d=20 values scaled by (1 + 0.1 s)."""
    rows = []
    for s in seeds:
        for i, pair in enumerate(["1-5", "3-6", "0-4"]):
            for d, sharp, conf in ((10, sharp_lo[i], conf_lo[i]), (20, sharp_hi[i], conf_hi[i])):
                k = 1 + 0.1 * s * (d == 20)
                rows.append({"status": "ok", "pair": pair, "latent_dim": d, "num_conv": 3, "seed": s,
                             "n_image_pairs": 30, "end_sharpness": sharp * k, "mid_confidence": conf * k,
                             "end_sharpness_error": abs(np.log(sharp * k)), "mid_pair_mass_rel": conf * k,
                             "mid_entropy_excess": 0.5 / (conf * k), "pair_seed": 100 + s,
                             "input_confidence": 0.98, "end_mse": 0.02, "mid_nn_distance": 0.03,
                             "input_nn_distance": 0.03})
    return pd.DataFrame(rows)


def test_interpolation_verdicts_on_sharpness_and_endpoint_mass():
    # d=20 closer to the real digits' sharpness at the ends, d=10 more recognisably a or b at a~0.5
    good = _interp([0.50, 0.55, 0.52], [0.70, 0.72, 0.75], [0.90, 0.88, 0.92], [0.50, 0.52, 0.51])
    row = interpolate.verdict_sharper_ends(good)
    assert row["verdict"] == SUPPORTED and "d = 20" in row["conclusion"] and row["seeds"] == "holds in 3 of 3 seeds"
    assert "Tenengrad" in row["this run's numbers"] and "3 digit pairs × 30 image pairs" in row["this run's numbers"]
    assert "95 % t-interval over 3 autoencoder seeds" in row["this run's numbers"]
    assert row["key number"].startswith("|ln| sharpness ")
    mid = interpolate.verdict_mid_digit_like(good)
    assert mid["verdict"] == SUPPORTED and "d = 10" in mid["conclusion"]
    assert "endpoint digits" in mid["this run's numbers"] and "model's own ends" in mid["this run's numbers"]
    assert "entropy at a ≈ 0.5 over that at its ends" in mid["this run's numbers"]
    # the opposite: d=20 blurrier at the ends and more recognisable at a~0.5
    bad = _interp([0.70, 0.72, 0.75], [0.50, 0.55, 0.52], [0.60, 0.62, 0.61], [0.78, 0.80, 0.79])
    assert interpolate.verdict_sharper_ends(bad)["verdict"] == CONTRADICTED
    assert interpolate.verdict_mid_digit_like(bad)["verdict"] == CONTRADICTED
    # equal up to noise that changes sign between seeds: the interval reaches across 0
    mixed = good.copy()
    mixed["end_sharpness_error"] = 0.6 + np.where(mixed["latent_dim"] == 20, 0.05, 0.0) * np.where(mixed["seed"] == 1, -1, 1)
    assert interpolate.verdict_sharper_ends(mixed)["verdict"] == INCONCLUSIVE
    assert interpolate.verdict_sharper_ends(good[good["latent_dim"] == 10])["verdict"] == INCONCLUSIVE
    assert interpolate.verdict_sharper_ends(good[good["seed"] == 0])["verdict"] == INCONCLUSIVE   # one seed: no interval


def test_ringing_above_the_real_digits_sharpness_is_not_sharper():
    # d=20's ends have 1.6 times the real digits' Tenengrad (artefacts); d=10's 0.8 (a little blur):
    # the plain ratio would call d=20 sharper, the |ln| ratio calls it farther from the real digit
    ringing = _interp([0.80, 0.80, 0.80], [1.60, 1.62, 1.58], [0.9] * 3, [0.5] * 3)
    assert (ringing.query("latent_dim == 20")["end_sharpness"] > ringing.query("latent_dim == 10")["end_sharpness"].max()).all()
    assert interpolate.verdict_sharper_ends(ringing)["verdict"] == CONTRADICTED


def test_interpolation_verdicts_ignore_the_old_pixel_measures():
    """The nearest-training-image distance rewards blur, the plain ratio and the top-class
    probability reward artefacts and good reconstructions: none decides; a table without the new
    measures (runs older than them) says so instead of deciding."""
    good = _interp([0.50, 0.55, 0.52], [0.70, 0.72, 0.75], [0.90, 0.88, 0.92], [0.50, 0.52, 0.51])
    worse = good.assign(mid_nn_distance=np.where(good["latent_dim"] == 10, 0.09, 0.01),
                        end_mse=np.where(good["latent_dim"] == 20, 0.09, 0.01),
                        end_sharpness=np.where(good["latent_dim"] == 20, 0.1, 0.9),
                        mid_confidence=np.where(good["latent_dim"] == 10, 0.1, 0.9))
    assert interpolate.verdict_mid_digit_like(worse)["verdict"] == SUPPORTED
    assert interpolate.verdict_sharper_ends(worse)["verdict"] == SUPPORTED
    old = good.drop(columns=["end_sharpness_error", "mid_pair_mass_rel", "mid_entropy_excess"])
    for fn in (interpolate.verdict_sharper_ends, interpolate.verdict_mid_digit_like):
        row = fn(old)
        assert row["verdict"] == INCONCLUSIVE and "re-run" in row["this run's numbers"]
    assert list(interpolate.table(good, columns=interpolate.PRIMARY).columns) == [
        "pair", "d", "end |ln| sharpness", "a≈0.5 endpoint mass / ends", "a≈0.5 entropy − ends", "seeds"]
    assert list(interpolate.table(old, columns=interpolate.SECONDARY).columns) == [
        "pair", "d", "end sharpness", "a≈0.5 confidence", "end MSE", "a≈0.5 NN distance", "seeds"]
    assert interpolate.table(old, columns=interpolate.PRIMARY).empty
    ref = pd.DataFrame([{"n_train": 7000, "epochs": 2, "n_test": 10000, "test_accuracy": 0.963, "temperature": 1.4,
                         "n_calibration": 1000, "test_ece": 0.012, "test_ece_raw": 0.031}])
    words = interpolate.findings(good, ref=ref)
    assert "30 pair(s) of test images for each of the 3 digit pair(s)" in words and "Tenengrad" in words
    assert "drawn afresh for each autoencoder seed" in words
    assert "7000 labelled training images for 2 epoch(s), 96.3 % accuracy on 10000 test images" in words
    assert "calibrated (T = 1.4) on 1000 held-out training images" in words and "1.2 % (before calibration 3.1 %)" in words
    assert "95 % t-interval over 3 autoencoder seeds" in words


def test_interpolation_curves_are_read_from_the_runs_and_drawn_over_seeds(tmp_path):
    import json

    alphas = [0.0, 0.5, 1.0]
    curves = [{"pair": "1-5", "latent_dim": d, "num_conv": 3, "seed": s, "sharpness": [0.6, 0.3 + 0.01 * s, 0.6],
               "confidence": [0.9, 0.6 if d == 10 else 0.5, 0.9]} for d in (10, 20) for s in SEEDS]
    run = tmp_path / "runs" / "interpolate" / "all"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"alphas": alphas, "curves": curves, "records": []}))
    interp = _interp([0.5] * 3, [0.7] * 3, [0.8] * 3, [0.6] * 3).assign(run_id="all")
    data = profile.ProfileData(tmp_path, tables={"interpolate": interp})
    long = profile.interpolation_curves(data)
    assert len(long) == 2 * len(SEEDS) * 3 and set(long["alpha"]) == set(alphas)
    s = report_stats.summarise(long, ["latent_dim", "alpha"], "confidence")
    assert set(s["n"]) == {len(SEEDS)}
    assert s.set_index(["latent_dim", "alpha"]).loc[(10, 0.5), "mean"] == pytest.approx(0.6)
    fig = interpolate_figures.along_a(report_stats.summarise(long, ["latent_dim", "alpha"], "sharpness"), s, 0.98)
    assert len(fig.axes) == 2
    assert interpolate_figures.along_a(pd.DataFrame(), None) is None
    # a run without a classifier: the confidence is missing, the sharpness still drawn
    (run / "metrics.json").write_text(json.dumps({"alphas": alphas, "curves": [
        {k: v for k, v in c.items() if k != "confidence"} for c in curves], "records": []}))
    assert profile.interpolation_curves(data)["confidence"].isna().all()


def test_correlation_verdict():
    rows = [{"latent_dim": d, "num_conv": nc, "seed": s, "offdiag": (0.4 / d ** 0.5 + 0.01 * nc) * (1 + 0.1 * s),
             "with_diag": 0.5} for d in (5, 10, 15, 20) for nc in (1, 2, 3) for s in SEEDS]
    assert correlate.verdict_correlation_falls(pd.DataFrame(rows))["verdict"] == SUPPORTED
    for r in rows:
        r["offdiag"] = (0.1 + 0.005 * r["latent_dim"]) * (1 + 0.1 * r["seed"])
    assert correlate.verdict_correlation_falls(pd.DataFrame(rows))["verdict"] == CONTRADICTED
    assert correlate.verdict_correlation_falls(pd.DataFrame())["verdict"] == INCONCLUSIVE


MODES = ("frozen", "finetune", "scratch", "augmented")


def _transfer(acc, seeds=SEEDS, ds=(5, 10, 15, 20), h1s=(200, 650, 1000), draws=(0, 1), base=(0.60, 0.65)) -> pd.DataFrame:
    """acc(d, h1, mode, seed, draw) -> accuracy. As in the transfer stage's table: one encoder per
    (d, seed) (`seed` the autoencoder's), every encoder with the same label draws (`label_seed`),
    and logreg / 1nn records per draw, repeated for every encoder."""
    rows = []
    for d in ds:
        for s in seeds:
            encoder = {"run_id": f"d{d}-nc2-s{s}", "status": "ok", "seed": s, "latent_dim": d, "num_conv": 2,
                       "n_labels": 100}
            for draw in draws:
                for h in h1s:
                    for m in MODES:
                        rows.append({**encoder, "h1": float(h), "mode": m, "label_seed": draw,
                                     "accuracy": acc(d, h, m, s, draw)})
                rows.append({**encoder, "h1": np.nan, "mode": "logreg", "label_seed": draw, "accuracy": base[0] + 0.01 * draw})
                rows.append({**encoder, "h1": np.nan, "mode": "1nn", "label_seed": draw, "accuracy": base[1] + 0.01 * draw})
    return pd.DataFrame(rows)


def _study_like(d, h, m, s, draw):
    mode = {"frozen": 0.70, "finetune": 0.76, "scratch": 0.55, "augmented": 0.65}[m]
    return mode + 0.004 * d + 0.003 * ((s * 7 + draw * 5 + h // 10) % 3) - 0.002 * (h == 1000) + 0.01 * s * (m != "scratch")


def test_transfer_verdicts_supported():
    tr = _transfer(_study_like)
    for fn in (transfer.verdict_h1_matters_little, transfer.verdict_larger_d_better,
               transfer.verdict_finetune_beats_frozen, transfer.verdict_pretraining_beats_scratch):
        row = fn(tr)
        assert row["verdict"] == SUPPORTED and row["seeds"] == "holds in 3 of 3 seeds", row
    row = transfer.verdict_beats_baselines(tr)
    assert row["verdict"] == SUPPORTED and "logreg" in row["this run's numbers"]
    # the unit is the encoder (one per autoencoder seed at d=20), not the 12 records or 2 label draws
    assert "over 3 autoencoder seeds" in row["this run's numbers"]


def test_transfer_verdicts_contradicted():
    def reversed_(d, h, m, s, draw):
        mode = {"frozen": 0.70, "finetune": 0.64, "scratch": 0.75, "augmented": 0.80}[m]
        return mode - 0.004 * d + (0.08 if h == 200 else 0.0) + 0.002 * s + 0.001 * s * s
    tr = _transfer(reversed_, base=(0.90, 0.92))
    for fn in (transfer.verdict_h1_matters_little, transfer.verdict_larger_d_better,
               transfer.verdict_finetune_beats_frozen, transfer.verdict_pretraining_beats_scratch,
               transfer.verdict_beats_baselines):
        row = fn(tr)
        assert row["verdict"] == CONTRADICTED and row["seeds"] == "holds in 0 of 3 seeds", row


def test_h1_equivalence_inside_across_and_outside_the_margin():
    def h1_effect(gap, spread):
        """h1=200 better by `gap` on average; the gap varies by +-`spread` between seeds."""
        return lambda d, h, m, s, draw: 0.75 + 0.004 * d + (gap + spread * (s - 1)) * (h == 200)
    assert transfer.verdict_h1_matters_little(_transfer(h1_effect(0.005, 0.001)))["verdict"] == SUPPORTED
    row = transfer.verdict_h1_matters_little(_transfer(h1_effect(0.015, 0.004)))     # interval crosses 2 points
    assert row["verdict"] == INCONCLUSIVE and "margin ±2 points" in row["this run's numbers"]
    assert transfer.verdict_h1_matters_little(_transfer(h1_effect(0.06, 0.002)))["verdict"] == CONTRADICTED
    # the margin comes from the rules: a wider one accepts the 1.5-point gap's whole interval
    assert transfer.verdict_h1_matters_little(_transfer(h1_effect(0.015, 0.004)),
                                              ReportParams(h1_margin=0.05))["verdict"] == SUPPORTED
    near_chance = transfer.verdict_h1_matters_little(_transfer(lambda d, h, m, s, draw: 0.10 + 0.001 * s))
    assert near_chance["verdict"] == INCONCLUSIVE and "not judged" in near_chance["this run's numbers"]


def test_transfer_intervals_use_encoder_level_means():
    # 3 encoders (seeds) at d=10, 4 label draws x 2 h1 each: 8 records per encoder and mode
    tr = _transfer(lambda d, h, m, s, draw: 0.5 + 0.05 * s * s + 0.02 * draw + 0.01 * (h == 200) + 0.1 * (m == "finetune"),
                   ds=(10,), h1s=(200, 650), draws=(0, 1, 2, 3))
    s = transfer_data.transfer_summaries(tr)
    row = s["by_d"].set_index(["latent_dim", "mode"]).loc[(10, "frozen")]
    enc = tr[tr["mode"] == "frozen"].groupby("seed")["accuracy"].mean()       # one mean per encoder
    lo, hi = stats.t.interval(0.95, 2, loc=enc.mean(), scale=stats.sem(enc))
    assert row["n"] == 3 and row["ci_lo"] == pytest.approx(lo) and row["ci_hi"] == pytest.approx(hi)
    # a label draw follows the autoencoder seed, so scratch and the baselines vary with it too: the
    # unit is the seed for every mode and for the baselines
    assert set(s["by_mode"]["n"]) == {3} and set(s["by_h1"]["n"]) == {3} and set(s["baselines"]["n"]) == {3}
    assert transfer_data.interval_text(s["by_d"]) == "95 % t-interval over 3 autoencoder seeds (encoder-level means)"
    v = transfer.verdict_finetune_beats_frozen(tr)
    assert v["verdict"] == SUPPORTED and "over 3 autoencoder seeds" in v["this run's numbers"]


def test_transfer_verdicts_missing_modes_are_inconclusive():
    assert transfer.verdict_finetune_beats_frozen(pd.DataFrame())["verdict"] == INCONCLUSIVE
    no_finetune = _transfer(_study_like)
    no_finetune = no_finetune[no_finetune["mode"] != "finetune"]
    assert transfer.verdict_finetune_beats_frozen(no_finetune)["verdict"] == INCONCLUSIVE


# ------------------------------------------------------------------ tables, failed runs, the summary

def test_usable_rows_and_problem_runs_warnings(tmp_path):
    table = pd.DataFrame({"run_id": ["d5", "d10", "d10", "d15", "d20"],
                          "status": ["ok", "failed", "failed", "cached", "skipped"],
                          "error": [np.nan, "RuntimeError: boom", "RuntimeError: boom", np.nan,
                                    "upstream run autoencode/d20-nc2 failed"],
                          "accuracy": [0.7, np.nan, np.nan, 0.8, np.nan]})
    assert profile.usable_rows(table)["run_id"].tolist() == ["d5", "d15"]
    probs = profile.problem_runs(table)
    assert probs["run_id"].tolist() == ["d10", "d20"]
    data = profile.ProfileData(tmp_path, tables={"transfer": table})
    warning = sentences.status_markdown(data, "transfer")
    assert "`d10` failed**: RuntimeError: boom" in warning
    assert "`d20` skipped**: upstream run autoencode/d20-nc2 failed" in warning
    assert "No usable" not in warning
    only_failed = profile.ProfileData(tmp_path, tables={"transfer": table[table.status == "failed"]})
    assert "No usable transfer runs" in sentences.status_markdown(only_failed, "transfer")
    assert "No usable correlate runs" in sentences.status_markdown(data, "correlate")


def test_verdicts_on_an_empty_profile_are_inconclusive_not_errors(tmp_path):
    data = profile.read_profile(tmp_path)
    v = verdicts.verdicts(data)
    n = len(all_claims())                   # every claim of every experiment of the registry
    assert list(v.index) == list(all_claims()) and set(v["verdict"]) == {INCONCLUSIVE}
    assert list(v.columns) == ["experiment", "conclusion", "this run's numbers", "verdict", "seeds", "key number",
                               "unadjusted", "p", "p (Holm)"]
    assert set(v["key number"]) == {"n/a"}
    assert verdicts.summary_counts(v) == f"0 supported, 0 contradicted, {n} inconclusive"
    assert "0</b>" not in prose.abstract_markdown(data, v) and "supports **0**" in prose.abstract_markdown(data, v)


def test_rules_come_from_the_profile_params_with_defaults(tmp_path):
    assert profile.ProfileData(tmp_path).rules == ReportParams()
    data = profile.ProfileData(tmp_path, tables={"transfer": _transfer(_study_like)},
                               params={"report": {"h1_margin": 0.001, "confidence": 0.9}})
    assert data.rules.h1_margin == 0.001
    v = verdicts.verdicts(data)
    assert v.loc["h1_matters_little", "verdict"] != SUPPORTED                  # 0.1 points: too strict
    assert "90 % t-interval" in v.loc["finetune_beats_frozen", "this run's numbers"]
    rules = verdicts.rules_markdown(data.rules)
    assert "±0.1 percentage points" in rules and "90 %" in rules
    for word in ("**supported**", "**contradicted**", "**inconclusive**"):
        assert word in rules


def test_verdict_table_uses_only_the_three_words():
    data = profile.ProfileData(Path("."), tables={"autoencode": _ae(_good_error), "transfer": _transfer(_study_like),
                                                  "interpolate": _interp([0.5] * 3, [0.7] * 3, [0.8] * 3, [0.6] * 3)})
    v = verdicts.verdicts(data)
    assert set(v["verdict"]) <= set(decide.WORDS) and v["seeds"].str.match(r"(holds in \d of \d seeds|no seeds)$").all()
    assert "not supported" not in text.markdown_table(v) + verdicts.rules_markdown(ReportParams())


def test_markdown_table_escapes_and_prints_three_significant_digits():
    md = text.markdown_table(pd.DataFrame({"a|b": ["x|y", None], "v": [0.123456, float("nan")]}))
    lines = md.splitlines()
    assert lines[0] == "| a\\|b | v |" and lines[1] == "|---|---|"
    assert lines[2] == "| x\\|y | 0.123 |" and lines[3] == "|  | n/a |"


def test_ci_tables():
    s = transfer_data.transfer_summaries(_transfer(_study_like))
    by_d = s["by_d"]
    assert set(by_d["n"]) == {3}                             # 3 autoencoder seeds, for every mode
    t = tables.ci_table(by_d, "latent_dim", "mode")
    assert list(t.columns) == ["d", "frozen", "finetune", "scratch", "augmented"]
    assert t.iloc[0]["finetune"].startswith(text.fmt_pct(by_d.set_index(["latent_dim", "mode"]).loc[(5, "finetune"), "mean"]))
    assert len(s["baselines"]) == 2 and set(s["baselines"]["n"]) == {3}   # over the seeds their draws follow
    grid = autoencode.error_grid(_ae(_good_error))
    assert list(grid.columns) == ["d", "num_conv=1", "num_conv=2", "num_conv=3"] and "[" in grid.iloc[0, 1]
    corr = pd.DataFrame([{"latent_dim": d, "num_conv": 1, "seed": s, "offdiag": 0.1 * (1 + s), "with_diag": 0.5,
                          "n_constant": 1} for d in (5, 20) for s in SEEDS])
    ct = correlate.table(corr)
    assert list(ct.columns) == ["num_conv", "d", "off-diagonal", "with diagonal", "seeds", "constant dims"]
    assert ct["seeds"].tolist() == [3, 3] and ct["constant dims"].tolist() == [3, 3]


# ------------------------------------------------------------------ two profiles compared

def _write_profile(folder: Path, name: str, ae: pd.DataFrame, tr: pd.DataFrame, report: dict | None = None) -> Path:
    (folder / "tables").mkdir(parents=True)
    ae.to_csv(folder / "tables" / "autoencode.csv", index=False)
    tr.to_csv(folder / "tables" / "transfer.csv", index=False)
    (folder / "params.yaml").write_text(yaml.safe_dump({"profile": name, **({"report": report} if report else {})}))
    return folder


def test_compare_two_profile_folders(tmp_path, capsys):
    full = _write_profile(tmp_path / "full", "full", _ae(_good_error), _transfer(_study_like))
    # same conclusions, but too few seeds for anything in autoencode: inconclusive does not disagree
    default = _write_profile(tmp_path / "default", "default", _ae(_good_error, seeds=(0,)), _transfer(_study_like))
    out = compare.compare(full, default)
    lines = out.splitlines()
    assert "[1] Reconstruction error falls as d grows" in lines
    block = lines[lines.index("[1] Reconstruction error falls as d grows") + 1:][:2]
    assert block[0].split()[:2] == ["full", "supported"] and block[1].split()[:2] == ["default", "inconclusive"]
    assert "95 % t-interval over 3 autoencoder seeds" in block[0]
    assert lines[-1] == "agree: the same verdict on all 6 conclusion(s) where neither is inconclusive"
    # a profile where the error rises with d, judged with a stricter h1 margin
    rising = _write_profile(tmp_path / "rising", "rising", _ae(lambda d, nc, s: (0.02 + 0.001 * d) * (1 + 0.05 * s)),
                            _transfer(_study_like), report={"h1_margin": 0.001})
    lines = compare.compare(full, rising).splitlines()
    assert lines[-1].startswith("DISAGREE on 2 of the ")
    assert "error_falls_with_d" in lines[-1] and "small_d_worse" in lines[-1]
    assert any(line.startswith("note: the profiles decide by different report: rules") for line in lines)
    assert cli.main(["compare", str(full), str(default)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1].startswith("agree") and printed[0].startswith("verdicts: full")
    assert cli.main(["compare", str(full), str(tmp_path / "nowhere")]) == 2


# ------------------------------------------------------------------ the report as read: page 1, captions, contents

def _study_profile() -> profile.ProfileData:
    return profile.ProfileData(Path("."), tables={"autoencode": _ae(_good_error), "transfer": _transfer(_study_like),
                                                  "interpolate": _interp([0.5] * 3, [0.7] * 3, [0.8] * 3, [0.6] * 3)})


def test_key_numbers_are_short_and_page_one_table_has_every_row():
    data = _study_profile()
    v = verdicts.verdicts(data)
    by_d = _ae(_good_error).groupby("latent_dim")["final_test_error"].mean()
    assert v.loc["error_falls_with_d", "key number"] == f"{text.fmt(by_d.iloc[0])} at d=5 → {text.fmt(by_d.iloc[-1])} at d=20"
    key = v.loc["finetune_beats_frozen", "key number"]
    assert re.fullmatch(r"[+-]\d+\.\d \[[+-]\d+\.\d, [+-]\d+\.\d\] points", key), key
    assert (v["key number"].str.len() <= 60).all()
    html = verdicts.page_one_table(v)
    assert html.count("<tr>") == len(v) + 1 and "holds in" in html and "key number" in html
    assert "this run's numbers" not in html and "d &lt; 10 is clearly worse" in html
    for word in set(v["verdict"]):
        assert f"verdict-{word}" in html
    assert "holds in 3 of 3 seeds" not in html and ">3 of 3<" in html


def test_abstract_counts_and_names_the_contradicted_claims():
    data = _study_profile()
    v = verdicts.verdicts(data).copy()
    v.loc["correlation_falls", "verdict"] = CONTRADICTED
    v.loc["correlation_falls", "key number"] = "0.181 at d=5 → 0.248 at d=20"
    a = prose.abstract_markdown(data, v)
    counts = v["verdict"].value_counts()
    added = sum(c.experiment.endswith("+") for c in all_claims().values())
    assert a.startswith(f"**Abstract.** Of the {len(v)} conclusions tested ({len(v) - added} of the original study, "
                        f"{added} added here)")
    assert f"supports **{counts.get(SUPPORTED, 0)}**, contradicts **{counts.get(CONTRADICTED, 0)}**" in a
    assert "Contradicted: latent correlation falls as d grows (0.181 at d=5 → 0.248 at d=20)." in a
    assert "Key effects: test reconstruction error" in a and v.loc["pretraining_beats_scratch", "key number"] in a
    assert 3 <= a.count(". ") + 1 <= 5


def test_captions_are_numbered_in_order_and_escaped():
    c = text.Captions()
    assert c.figure("a < b, `x`") == '<p class="caption figure-caption"><b>Figure 1.</b> a &lt; b, <code>x</code></p>'
    assert c.table("t").startswith('<p class="caption table-caption"><b>Table 1.</b>')
    assert c.figure("f").startswith('<p class="caption figure-caption"><b>Figure 2.</b>')
    assert (c.figures, c.tables) == (2, 1)


def test_chapters_number_on_and_the_contents_link_every_section():
    import nbformat

    from aestudy.report import html as report_html, render

    ana = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
        "display_data", data={"text/markdown": text.Captions(figures=2, tables=3).table("x")})])])
    captions = render.numbered_so_far(ana)
    assert (captions.figures, captions.tables) == (0, 4)
    chapter = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Theory\n\n## Question 2: Critical points\n\n### (b) Second order\n\n"
                                      "Text.\n\n| H | says |\n|---|---|\n| pos. def. | minimum |\n\nMore."),
        nbformat.v4.new_markdown_cell("The loss for target $\\alpha=0$."),
        nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data={"image/png": "iVBOR"})])])
    render.number_chapter(chapter, captions)
    src = [c.source for c in chapter.cells]
    assert len(src) == 3 and "<b>Table 5.</b> Question 2, (b) Second order. Columns: H, says." in src[0]
    assert src[0].index("Table 5.") < src[0].index("| H | says |")
    assert src[2].startswith('<p class="caption figure-caption"><b>Figure 1.</b> The loss for target $')
    body = ('<h1 id="T">Title</h1><nav class="report-toc" id="contents"></nav><h2 id="A">A<a class="anchor-link" '
            'href="#A">¶</a></h2><h1 id="Theory">Theory</h1><h2 id="Q1">Q1</h2><h3 id="x">x</h3>')
    toc = report_html.fill_toc(body)
    nav = toc[toc.index("<nav"):toc.index("</nav>")]
    assert 'href="#T"' not in nav and "¶" not in nav and 'href="#x"' not in nav
    assert '<li><a href="#A">A</a></li><li><a href="#Theory">Theory</a><ul><li><a href="#Q1">Q1</a></li></ul></li>' in nav


def test_pretraining_against_the_strong_control_is_decided_on_paired_encoder_means():
    better = _transfer(lambda d, h, m, s, draw: 0.80 + 0.01 * s - 0.10 * (m == "augmented"))
    worse = _transfer(lambda d, h, m, s, draw: 0.80 + 0.01 * s + 0.05 * (m == "augmented") + 0.001 * draw * s)
    assert transfer.verdict_pretraining_beats_control(better)["verdict"] == SUPPORTED
    assert transfer.verdict_pretraining_beats_control(worse)["verdict"] == CONTRADICTED
    no_control = _transfer(lambda d, h, m, s, draw: 0.8)
    no_control = no_control[no_control["mode"] != "augmented"]
    assert transfer.verdict_pretraining_beats_control(no_control)["verdict"] == INCONCLUSIVE


def test_the_baselines_are_paired_with_the_label_draw_of_their_seed():
    # each seed's draws give the baselines their own accuracy: pre-training beats them only by
    # comparing like with like (seed, label draw)
    tr = _transfer(lambda d, h, m, s, draw: 0.70 + 0.1 * s, base=(0.6, 0.6))
    is_base = tr["mode"].isin(["logreg", "1nn"])
    tr.loc[is_base, "accuracy"] = 0.65 + 0.1 * tr.loc[is_base, "seed"]
    assert transfer.verdict_beats_baselines(tr)["verdict"] == SUPPORTED
