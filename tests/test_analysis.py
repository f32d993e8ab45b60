"""Tests for lib/analysis.py: the metrics of experiments 2-3, the statistics and the verdicts
on the original study's conclusions (small hand-made tables, no data, no training)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from lib import analysis
from lib.analysis import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED


# ------------------------------------------------------------------ correlations

def test_latent_correlation_hand_computed_and_offdiag_ignores_diagonal():
    # b = 2a (corr +1), c is orthogonal to a and b after centring (corr 0), e = reversed a (corr -1 with a, b; 0 with c)
    a = [1.0, 2.0, 3.0, 4.0]
    b = [2.0, 4.0, 6.0, 8.0]
    c = [1.0, 0.0, 0.0, 1.0]
    e = [4.0, 3.0, 2.0, 1.0]
    z = np.array([a, b, c, e]).T
    res = analysis.latent_correlation(z)
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
    res = analysis.latent_correlation(q)
    assert res["offdiag"] < 0.2
    assert res["with_diag"] == pytest.approx((1 + 4 * res["offdiag"]) / 5)


def test_latent_correlation_constant_dimension_counts_as_zero():
    z = np.array([[1.0, 2.0, 5.0], [2.0, 4.0, 5.0], [3.0, 6.5, 5.0], [4.0, 8.0, 5.0]])
    res = analysis.latent_correlation(z)
    assert res["constant_dims"] == [2]
    assert not np.isnan(res["matrix"]).any()
    assert res["matrix"][2, 2] == 1.0 and res["matrix"][0, 2] == 0.0
    r01 = np.corrcoef(z[:, 0], z[:, 1])[0, 1]
    assert res["offdiag"] == pytest.approx(2 * abs(r01) / 6)


def test_latent_correlation_single_dimension_and_bad_shape():
    assert math.isnan(analysis.latent_correlation(np.arange(5.0).reshape(5, 1))["offdiag"])
    with pytest.raises(ValueError):
        analysis.latent_correlation(np.zeros((1, 3)))


# ------------------------------------------------------------------ interpolation helpers

def test_interpolate_latents_ends_are_exact_and_linear():
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(7, generator=g), torch.randn(7, generator=g)
    zs = analysis.interpolate_latents(z1, z2, 11)
    assert zs.shape == (11, 7)
    assert torch.equal(zs[0], z1) and torch.equal(zs[-1], z2)
    torch.testing.assert_close(zs[5], (z1 + z2) / 2)
    with pytest.raises(ValueError):
        analysis.interpolate_latents(z1, z2, 1)


def test_nearest_distance_matches_brute_force():
    rng = np.random.default_rng(1)
    x, ref = rng.random((5, 1, 4, 4)), rng.random((30, 1, 4, 4))
    brute = np.array([((ref.reshape(30, -1) - xi.reshape(-1)) ** 2).mean(1).min() for xi in x])
    np.testing.assert_allclose(analysis.nearest_distance(x, ref, chunk=2), brute, rtol=1e-10, atol=1e-12)
    assert analysis.nearest_distance(ref[:3], ref).max() == pytest.approx(0.0, abs=1e-12)


def test_pick_image_is_seeded_and_has_the_digit():
    labels = torch.tensor([3, 1, 3, 5, 3, 1])
    i = analysis.pick_image(labels, 3, seed=4)
    assert labels[i] == 3 and i == analysis.pick_image(labels, 3, seed=4)
    assert {analysis.pick_image(labels, 3, s) for s in range(20)} == {0, 2, 4}
    with pytest.raises(ValueError):
        analysis.pick_image(labels, 7, 0)


# ------------------------------------------------------------------ statistics

@pytest.mark.parametrize("values", [[0.71, 0.74, 0.69], [1.0, 2.0, 4.0, 8.0, 16.0], [5.0, 5.0]])
def test_mean_ci_matches_scipy_t_interval(values):
    ci = analysis.mean_ci(values)
    x = np.asarray(values)
    if x.std() == 0:
        assert ci["lo"] == ci["hi"] == ci["mean"] == 5.0
        return
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert ci["mean"] == pytest.approx(x.mean())
    assert ci["lo"] == pytest.approx(lo) and ci["hi"] == pytest.approx(hi)
    assert ci["n"] == len(x)


def test_mean_ci_small_samples_and_nan():
    one = analysis.mean_ci([0.5])
    assert one["mean"] == 0.5 and one["n"] == 1 and math.isnan(one["lo"])
    assert analysis.mean_ci([]) ["n"] == 0
    assert analysis.mean_ci([1.0, np.nan, 3.0])["n"] == 2


def test_summarise_averages_within_unit_first():
    df = pd.DataFrame({"mode": ["a"] * 4 + ["b"] * 2, "seed": [0, 0, 1, 1, 0, 1],
                       "acc": [0.1, 0.3, 0.5, 0.7, 0.9, 0.9]})
    s = analysis.summarise(df, "mode", "acc", unit="seed").set_index("mode")
    assert s.loc["a", "n"] == 2 and s.loc["a", "mean"] == pytest.approx(0.4)
    lo, hi = stats.t.interval(0.95, 1, loc=0.4, scale=stats.sem([0.2, 0.6]))
    assert s.loc["a", "ci_lo"] == pytest.approx(lo) and s.loc["a", "ci_hi"] == pytest.approx(hi)
    assert s.loc["b", "ci_lo"] == pytest.approx(0.9)
    assert analysis.summarise(df, "mode", "acc")["n"].tolist() == [4, 2]
    assert analysis.summarise(pd.DataFrame(), "mode", "acc").empty


def test_trend_and_difference_verdicts():
    x = [5, 10, 15, 20] * 3
    falling = [1.0 / v + 0.001 * i for i, v in enumerate(x)]
    assert analysis.trend(x, falling, -1)["verdict"] == SUPPORTED
    assert analysis.trend(x, falling, +1)["verdict"] == NOT_SUPPORTED
    assert analysis.trend([1, 2, 3, 4], [3.0, 1.0, 2.0, 0.5], -1)["verdict"] == INCONCLUSIVE  # right sign, p large
    assert analysis.trend([1, 2], [2.0, 1.0], -1)["verdict"] == INCONCLUSIVE                 # too few points
    assert analysis.difference_verdict([0.05, 0.06, 0.055])["verdict"] == SUPPORTED
    assert analysis.difference_verdict([-0.05, -0.06, -0.01])["verdict"] == NOT_SUPPORTED
    assert analysis.difference_verdict([0.05, -0.04, 0.02])["verdict"] == INCONCLUSIVE
    assert analysis.difference_verdict([-0.05, -0.06, -0.055], expected=-1)["verdict"] == SUPPORTED


def test_param_correlations_against_scipy():
    df = pd.DataFrame({"latent_dim": [5, 10, 15, 20, 5, 10], "num_conv": [1, 1, 1, 1, 2, 2],
                       "err": [0.05, 0.03, 0.025, 0.02, 0.045, 0.028]})
    t = analysis.param_correlations(df, ["latent_dim", "num_conv"], "err").set_index("parameter")
    assert t.loc["latent_dim", "pearson_r"] == pytest.approx(stats.pearsonr(df.latent_dim, df.err)[0])
    assert t.loc["num_conv", "spearman_rho"] == pytest.approx(stats.spearmanr(df.num_conv, df.err)[0])
    assert t.loc["latent_dim", "n"] == 6


# ------------------------------------------------------------------ verdicts on hand-made tables

def _ae(errors: dict) -> pd.DataFrame:
    return pd.DataFrame([{"run_id": f"d{d}-nc{nc}", "status": "ok", "latent_dim": d, "num_conv": nc,
                          "final_test_error": e} for (d, nc), e in errors.items()])


GOOD_AE = {(d, nc): 0.1 / d * (1.0 - 0.05 * nc) + (0.02 if d < 10 else 0.0)
           for d in (5, 10, 15, 20) for nc in (1, 2, 3)}


def test_autoencode_verdicts_supported():
    ae = _ae(GOOD_AE)
    assert analysis.verdict_error_falls_with_d(ae)["verdict"] == SUPPORTED
    row = analysis.verdict_small_d_worse(ae)
    assert row["verdict"] == SUPPORTED and "worse in 9/9" in row["this run's numbers"]
    assert analysis.verdict_error_falls_with_size(ae)["verdict"] in (SUPPORTED, INCONCLUSIVE)


def test_autoencode_verdicts_not_supported():
    flat = _ae({(d, nc): 0.02 + 0.001 * d for d in (5, 10, 15, 20) for nc in (1, 2, 3)})  # error rises with d
    assert analysis.verdict_error_falls_with_d(flat)["verdict"] == NOT_SUPPORTED
    assert analysis.verdict_small_d_worse(flat)["verdict"] == NOT_SUPPORTED
    bigger_worse = _ae({(d, nc): 0.02 + 0.001 * nc for d in (5, 10) for nc in (1, 2, 3)})
    assert analysis.verdict_error_falls_with_size(bigger_worse)["verdict"] == NOT_SUPPORTED
    # d < 10 worse, but only by 2 %: not "clearly"
    slight = _ae({(d, nc): (0.0204 if d < 10 else 0.02) for d in (5, 10) for nc in (1, 2)})
    assert analysis.verdict_small_d_worse(slight)["verdict"] == INCONCLUSIVE
    # no d < 10 in the grid
    assert analysis.verdict_small_d_worse(_ae({(10, 1): 0.1, (20, 1): 0.05}))["verdict"] == INCONCLUSIVE


def _interp(end_lo, end_hi, mid_lo, mid_hi) -> pd.DataFrame:
    rows = []
    for i, pair in enumerate(["1-5", "3-6", "0-4"]):
        for d, end, mid in ((10, end_lo[i], mid_lo[i]), (20, end_hi[i], mid_hi[i])):
            rows.append({"status": "ok", "pair": pair, "latent_dim": d, "num_conv": 3, "end_mse_a": end,
                         "end_mse_b": end * 1.1, "end_mse": end * 1.05, "mid_nn_distance": mid,
                         "input_nn_distance": 0.03})
    return pd.DataFrame(rows)


def test_interpolation_verdicts():
    good = _interp([0.02, 0.025, 0.03], [0.01, 0.012, 0.015], [0.040, 0.042, 0.041], [0.060, 0.065, 0.062])
    assert analysis.verdict_sharper_ends(good)["verdict"] == SUPPORTED
    assert analysis.verdict_mid_digit_like(good)["verdict"] == SUPPORTED
    assert "d = 20" in analysis.verdict_sharper_ends(good)["conclusion"]
    bad = _interp([0.01, 0.012, 0.015], [0.02, 0.025, 0.03], [0.060, 0.065, 0.062], [0.040, 0.042, 0.041])
    assert analysis.verdict_sharper_ends(bad)["verdict"] == NOT_SUPPORTED
    assert analysis.verdict_mid_digit_like(bad)["verdict"] == NOT_SUPPORTED
    one = good[good["latent_dim"] == 10]
    assert analysis.verdict_sharper_ends(one)["verdict"] == INCONCLUSIVE


def test_correlation_verdict():
    rows = [{"latent_dim": d, "num_conv": nc, "offdiag": 0.4 / d ** 0.5 + 0.01 * nc, "with_diag": 0.5}
            for d in (5, 10, 15, 20) for nc in (1, 2, 3)]
    assert analysis.verdict_correlation_falls(pd.DataFrame(rows))["verdict"] == SUPPORTED
    for r in rows:
        r["offdiag"] = 0.1 + 0.005 * r["latent_dim"]
    assert analysis.verdict_correlation_falls(pd.DataFrame(rows))["verdict"] == NOT_SUPPORTED
    assert analysis.verdict_correlation_falls(pd.DataFrame())["verdict"] == INCONCLUSIVE


def _transfer(acc, seeds=(0, 1, 2), ds=(5, 10, 15, 20), h1s=(200, 650, 1000), base=(0.60, 0.65)) -> pd.DataFrame:
    """acc(d, h1, mode, seed) -> accuracy; plus logreg / 1nn records per seed and encoder."""
    rows = []
    for d in ds:
        for s in seeds:
            for h in h1s:
                for m in ("frozen", "finetune", "scratch"):
                    rows.append({"run_id": f"d{d}", "status": "ok", "latent_dim": d, "h1": float(h), "mode": m,
                                 "seed": s, "accuracy": acc(d, h, m, s), "n_labels": 100})
            rows.append({"run_id": f"d{d}", "status": "ok", "latent_dim": d, "h1": np.nan, "mode": "logreg",
                         "seed": s, "accuracy": base[0] + 0.01 * s, "n_labels": 100})
            rows.append({"run_id": f"d{d}", "status": "ok", "latent_dim": d, "h1": np.nan, "mode": "1nn",
                         "seed": s, "accuracy": base[1] + 0.01 * s, "n_labels": 100})
    return pd.DataFrame(rows)


def _study_like(d, h, m, s):
    mode = {"frozen": 0.70, "finetune": 0.76, "scratch": 0.55}[m]
    return mode + 0.004 * d + 0.003 * ((s * 7 + h // 10) % 3) - 0.002 * (h == 1000)


def test_transfer_verdicts_supported():
    tr = _transfer(_study_like)
    assert analysis.verdict_h1_matters_little(tr)["verdict"] == SUPPORTED
    assert analysis.verdict_larger_d_better(tr)["verdict"] == SUPPORTED
    assert analysis.verdict_finetune_beats_frozen(tr)["verdict"] == SUPPORTED
    assert analysis.verdict_pretraining_beats_scratch(tr)["verdict"] == SUPPORTED
    row = analysis.verdict_beats_baselines(tr)
    assert row["verdict"] == SUPPORTED and "logreg" in row["this run's numbers"]


def test_transfer_verdicts_not_supported():
    def reversed_(d, h, m, s):
        mode = {"frozen": 0.70, "finetune": 0.64, "scratch": 0.75}[m]
        return mode - 0.004 * d + (0.08 if h == 200 else 0.0) + 0.002 * s
    tr = _transfer(reversed_, base=(0.90, 0.92))
    assert analysis.verdict_h1_matters_little(tr)["verdict"] == NOT_SUPPORTED
    assert analysis.verdict_larger_d_better(tr)["verdict"] == NOT_SUPPORTED
    assert analysis.verdict_finetune_beats_frozen(tr)["verdict"] == NOT_SUPPORTED
    assert analysis.verdict_pretraining_beats_scratch(tr)["verdict"] == NOT_SUPPORTED
    assert analysis.verdict_beats_baselines(tr)["verdict"] == NOT_SUPPORTED


def test_transfer_verdicts_near_chance_or_missing_are_inconclusive():
    tr = _transfer(lambda d, h, m, s: 0.10 + 0.001 * s)
    assert analysis.verdict_h1_matters_little(tr)["verdict"] == INCONCLUSIVE
    assert analysis.verdict_finetune_beats_frozen(pd.DataFrame())["verdict"] == INCONCLUSIVE
    no_finetune = _transfer(_study_like)
    no_finetune = no_finetune[no_finetune["mode"] != "finetune"]
    assert analysis.verdict_finetune_beats_frozen(no_finetune)["verdict"] == INCONCLUSIVE


# ------------------------------------------------------------------ tables, failed runs, the summary

def test_usable_rows_and_problem_runs_warnings(tmp_path):
    table = pd.DataFrame({"run_id": ["d5", "d10", "d10", "d15", "d20"],
                          "status": ["ok", "failed", "failed", "cached", "skipped"],
                          "error": [np.nan, "RuntimeError: boom", "RuntimeError: boom", np.nan,
                                    "upstream run autoencode/d20-nc2 failed"],
                          "accuracy": [0.7, np.nan, np.nan, 0.8, np.nan]})
    assert analysis.usable_rows(table)["run_id"].tolist() == ["d5", "d15"]
    probs = analysis.problem_runs(table)
    assert probs["run_id"].tolist() == ["d10", "d20"]
    data = analysis.ProfileData(tmp_path, tables={"transfer": table})
    text = analysis.status_markdown(data, "transfer")
    assert "`d10` failed**: RuntimeError: boom" in text
    assert "`d20` skipped**: upstream run autoencode/d20-nc2 failed" in text
    assert "No usable" not in text
    only_failed = analysis.ProfileData(tmp_path, tables={"transfer": table[table.status == "failed"]})
    assert "No usable transfer runs" in analysis.status_markdown(only_failed, "transfer")
    assert "No usable correlate runs" in analysis.status_markdown(data, "correlate")


def test_verdicts_on_an_empty_profile_are_inconclusive_not_errors(tmp_path):
    data = analysis.read_profile(tmp_path)
    v = analysis.verdicts(data)
    assert len(v) == 11 and set(v["verdict"]) == {INCONCLUSIVE}
    assert list(v.columns) == ["experiment", "conclusion", "this run's numbers", "verdict"]
    assert analysis.summary_counts(v) == "0 supported, 0 not supported, 11 inconclusive"


def test_markdown_table_escapes_and_formats():
    md = analysis.markdown_table(pd.DataFrame({"a|b": ["x|y", None], "v": [0.123456, float("nan")]}))
    lines = md.splitlines()
    assert lines[0] == "| a\\|b | v |" and lines[1] == "|---|---|"
    assert lines[2] == "| x\\|y | 0.1235 |" and lines[3] == "|  | n/a |"


def test_ci_table_and_transfer_summaries():
    s = analysis.transfer_summaries(_transfer(_study_like))
    by_d = s["by_d"]
    assert set(by_d["n"]) == {3}
    t = analysis.ci_table(by_d, "latent_dim", "mode")
    assert list(t.columns) == ["d", "frozen", "finetune", "scratch"]
    assert t.iloc[0]["finetune"].startswith(analysis.fmt_pct(by_d.set_index(["latent_dim", "mode"]).loc[(5, "finetune"), "mean"]))
    assert len(s["baselines"]) == 2 and set(s["baselines"]["n"]) == {3}


def test_small_d_verdict_without_matching_num_conv_is_inconclusive():
    ae = _ae({(5, 1): 0.05, (10, 2): 0.02})
    assert analysis.verdict_small_d_worse(ae)["verdict"] == INCONCLUSIVE
