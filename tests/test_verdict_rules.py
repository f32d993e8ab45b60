"""Each verdict rule pinned on constructed tables (issue 21, item 3): the threshold claim as a kink
(a 1/d curve must not support it), trends on the log scale with every step checked, the
equivalence as a symmetric TOST, and the family under Holm."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aestudy.report import decide, verdicts
from aestudy.report.decide import CONTRADICTED, INCONCLUSIVE, SUPPORTED
from aestudy.report.experiments import autoencode, correlate, transfer
from aestudy.report_params import ReportParams

SEEDS = (0, 1, 2, 3, 4)


def _ae(error, seeds=SEEDS, ds=(5, 10, 15, 20), ncs=(1, 2, 3)) -> pd.DataFrame:
    """error(d, num_conv, seed) -> final test error; one row per autoencoder."""
    return pd.DataFrame([{"run_id": f"d{d}-nc{nc}-s{s}", "status": "ok", "latent_dim": d, "num_conv": nc, "seed": s,
                          "final_test_error": error(d, nc, s)} for d in ds for nc in ncs for s in seeds])


def _noise(d, nc, s):
    """A seed's own wobble, different at every (d, num_conv): about 1 %."""
    return 1 + 0.01 * np.sin(1.7 * s + 0.9 * d + 2.3 * nc)


# ------------------------------------------------------------------ "d < 10 is clearly worse": a kink

def test_an_error_falling_like_one_over_d_does_not_support_the_threshold():
    for power in (1.0, 2.0, 0.5):     # any power law: the drop from 5 to 10 is what 10 to 15 predicts
        one_over_d = _ae(lambda d, nc, s: 0.1 / d ** power * (1 - 0.05 * nc) * _noise(d, nc, s))
        row = autoencode.verdict_small_d_worse(one_over_d)
        assert row["verdict"] == CONTRADICTED, (power, row)
        # ... although d = 5 is far worse than d >= 10 in plain terms (what the old rule tested)
        assert one_over_d.query("latent_dim < 10")["final_test_error"].mean() > \
            1.5 * one_over_d.query("latent_dim >= 10")["final_test_error"].mean()


def test_a_threshold_at_ten_supports_it():
    kinked = _ae(lambda d, nc, s: (0.1 / d + (0.02 if d < 10 else 0.0)) * (1 - 0.05 * nc) * _noise(d, nc, s))
    row = autoencode.verdict_small_d_worse(kinked)
    assert row["verdict"] == SUPPORTED and row["seeds"] == "holds in 5 of 5 seeds"
    assert "power law through d=10 and d=15" in row["this run's numbers"] and row["key number"].startswith("kink +")


def test_the_kink_is_measured_at_equal_num_conv_and_against_the_margin():
    # a kink of +25 % in every block: supported at a 10 % margin, contradicted at 50 %
    ae = _ae(lambda d, nc, s: 0.1 / d * (1.25 if d < 10 else 1.0) * (1 + nc) * _noise(d, nc, s))
    assert autoencode.verdict_small_d_worse(ae)["verdict"] == SUPPORTED
    strict = autoencode.verdict_small_d_worse(ae, ReportParams(small_d_margin=0.5))
    assert strict["verdict"] == CONTRADICTED and "+50 %" in strict["this run's numbers"]
    # the kink is a within-block statistic: a num_conv whose errors are ten times larger changes nothing
    scaled = ae.assign(final_test_error=ae["final_test_error"] * np.where(ae["num_conv"] == 3, 10, 1))
    assert autoencode.kink(scaled[scaled.seed == 0], 5, 10, 15) == pytest.approx(
        autoencode.kink(ae[ae.seed == 0], 5, 10, 15))


def test_a_grid_that_cannot_show_a_kink_says_so():
    two_d = autoencode.verdict_small_d_worse(_ae(lambda d, nc, s: 0.1 / d, ds=(5, 10)))
    assert two_d["verdict"] == INCONCLUSIVE and "needs a d below it and two at or above it" in two_d["this run's numbers"]
    apart = pd.concat([_ae(lambda d, nc, s: 0.1 / d, ds=(5,), ncs=(1,)), _ae(lambda d, nc, s: 0.1 / d, ds=(10, 15), ncs=(2,))])
    row = autoencode.verdict_small_d_worse(apart)
    assert row["verdict"] == INCONCLUSIVE and "no num_conv has runs at d = 5, 10 and 15" in row["this run's numbers"]


# ------------------------------------------------------------------ trends: log scale, every step

def test_a_trend_that_turns_back_after_ten_is_not_supported():
    # falls steeply from 5 to 10, then rises a little at every step: the mean slope still falls
    u_shaped = _ae(lambda d, nc, s: {5: 0.05, 10: 0.02, 15: 0.021, 20: 0.022}[d] * _noise(d, nc, s))
    row = autoencode.verdict_error_falls_with_d(u_shaped)
    slope = decide.per_seed(u_shaped.assign(log=np.log(u_shaped["final_test_error"])),
                            lambda r: decide.block_slope(r, "latent_dim", "log", "num_conv"))
    assert (slope < 0).all()                                   # what a slope-only rule would have supported
    assert row["verdict"] == INCONCLUSIVE and "1 of 3 on the claimed side" in row["this run's numbers"]
    falling = _ae(lambda d, nc, s: 0.1 / d * _noise(d, nc, s))
    row = autoencode.verdict_error_falls_with_d(falling)
    assert row["verdict"] == SUPPORTED and "3 of 3 on the claimed side" in row["this run's numbers"]
    rising = _ae(lambda d, nc, s: 0.001 * d * _noise(d, nc, s))
    assert autoencode.verdict_error_falls_with_d(rising)["verdict"] == CONTRADICTED


def test_trends_are_taken_on_the_log_so_blocks_of_different_scale_weigh_alike():
    # num_conv 1: errors near 1.0 that rise by 3 %; num_conv 2: errors near 0.01 that fall tenfold.
    # Averaged raw slopes say "rises" (the large block dominates); on the log, the fall dominates.
    def err(d, nc, s):
        return (1.0 + 0.002 * (d - 5) if nc == 1 else 0.01 * 0.1 ** ((d - 5) / 15)) * _noise(d, nc, s)
    ae = _ae(err, ncs=(1, 2))
    raw = decide.per_seed(ae, lambda r: decide.block_slope(r, "latent_dim", "final_test_error", "num_conv"))
    assert (raw > 0).all()
    assert autoencode.verdict_error_falls_with_d(ae)["verdict"] == SUPPORTED


def test_an_accuracy_trend_is_taken_on_its_error():
    rows = [{"latent_dim": d, "num_conv": 2, "seed": s, "h1": 200, "mode": m, "label_seed": 0, "status": "ok",
             "accuracy": 1 - 0.3 * 10 / d * _noise(d, 2, s)} for d in (5, 10, 15, 20) for s in SEEDS
            for m in ("frozen", "finetune")]
    row = transfer.verdict_larger_d_better(pd.DataFrame(rows))
    assert row["verdict"] == SUPPORTED and "its error (1 − accuracy)" in row["this run's numbers"]


def test_monotone_needs_every_step_and_decides_on_the_interval():
    slopes = pd.Series([-0.1, -0.12, -0.09, -0.11, -0.1])
    good = pd.DataFrame({"a": [-0.2, -0.3, -0.25, -0.2, -0.22], "b": [-0.1, -0.12, -0.11, -0.1, -0.13]})
    assert decide.monotone(slopes, good, -1, 0.95)["verdict"] == SUPPORTED
    unsure = good.assign(b=[-0.1, 0.05, -0.02, 0.03, -0.04])         # one step not shown to fall
    dec = decide.monotone(slopes, unsure, -1, 0.95)
    assert dec["verdict"] == INCONCLUSIVE and dec["holds"] == 3
    assert dec["p"] == pytest.approx(min(1, 2 * decide.one_sided_p(unsure["b"], 0, -1)))
    assert decide.monotone(-slopes, -good, -1, 0.95)["verdict"] == CONTRADICTED


def test_the_correlation_trend_follows_the_same_rule():
    rows = [{"latent_dim": d, "num_conv": nc, "seed": s, "offdiag": 0.4 / d ** 0.5 * _noise(d, nc, s), "with_diag": 0.5}
            for d in (5, 10, 15, 20) for nc in (1, 2, 3) for s in SEEDS]
    assert correlate.verdict_correlation_falls(pd.DataFrame(rows))["verdict"] == SUPPORTED


# ------------------------------------------------------------------ "h1 matters little": TOST

def test_tost_is_stated_at_its_level_and_symmetric():
    alpha, margin = 0.05, 0.02
    # mean 1.25 points, n 5: the 90 % interval (TOST's) is inside ±2 points, the 95 % one is not
    inside = pd.DataFrame({"a-b": [0.0035, 0.0085, 0.0125, 0.0165, 0.0215]})
    ci95 = stats.t.interval(0.95, 4, loc=inside["a-b"].mean(), scale=stats.sem(inside["a-b"]))
    assert ci95[1] > margin
    dec = decide.equivalence(inside, margin, 1 - alpha)
    assert dec["verdict"] == SUPPORTED and dec["cis"]["a-b"]["confidence"] == pytest.approx(0.90)
    assert dec["p"] == pytest.approx(max(decide.one_sided_p(inside["a-b"], -margin, +1),
                                         decide.one_sided_p(inside["a-b"], margin, -1)))
    # the mirror image: a 90 % interval wholly outside the margin is contradicted at the same level
    outside = inside + 0.016
    ci95 = stats.t.interval(0.95, 4, loc=outside["a-b"].mean(), scale=stats.sem(outside["a-b"]))
    assert ci95[0] < margin < outside["a-b"].mean()
    assert decide.equivalence(outside, margin, 1 - alpha)["verdict"] == CONTRADICTED
    across = inside + 0.008                                      # straddles the margin
    assert decide.equivalence(across, margin, 1 - alpha)["verdict"] == INCONCLUSIVE


def test_tost_corrects_the_union_of_several_differences():
    # one difference of three a little outside: contradicted alone, not once Bonferroni counts three
    one = pd.Series([0.01878, 0.02378, 0.02778, 0.03178, 0.03678])
    assert decide.one_sided_p(one, 0.02, +1) < 0.05 < 3 * decide.one_sided_p(one, 0.02, +1)
    alone = decide.equivalence(pd.DataFrame({"a": one}), 0.02, 0.95)
    three = decide.equivalence(pd.DataFrame({"a": one, "b": one * 0, "c": one * 0 + 0.001}), 0.02, 0.95)
    assert alone["verdict"] == CONTRADICTED and three["verdict"] == INCONCLUSIVE


def test_the_h1_row_shows_the_margin_and_the_seed_spread():
    rows = [{"latent_dim": d, "num_conv": 2, "seed": s, "h1": h, "mode": m, "label_seed": 0, "status": "ok",
             "accuracy": 0.8 + 0.01 * np.sin(s + d) + 0.002 * (h == 200)}
            for d in (5, 10) for s in SEEDS for h in (200, 650) for m in ("frozen", "finetune")]
    row = transfer.verdict_h1_matters_little(pd.DataFrame(rows))
    assert row["verdict"] == SUPPORTED and "TOST at 5 %" in row["this run's numbers"]
    assert "seed-to-seed SD of one classifier's accuracy:" in row["this run's numbers"]
    assert "90 % t-interval" in row["this run's numbers"]


# ------------------------------------------------------------------ the family: Holm

def test_holm_adjusts_step_down():
    p = pd.Series({"a": 0.01, "b": 0.04, "c": 0.03, "d": np.nan, "e": 0.005})
    adj = decide.holm(p)
    # sorted: e .005 x4 = .02; a .01 x3 = .03; c .03 x2 = .06; b .04 x1 = .04 -> cummax .06
    assert adj.to_dict() == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06, "d": np.nan, "e": 0.02}, nan_ok=True)


def test_a_verdict_lost_to_holm_is_shown_both_ways():
    v = pd.DataFrame({"experiment": ["1", "1", "2"], "conclusion": ["x", "y", "z"], "this run's numbers": ["", "", ""],
                      "verdict": [SUPPORTED, CONTRADICTED, INCONCLUSIVE], "seeds": ["holds in 5 of 5 seeds"] * 3,
                      "key number": ["k"] * 3, "p": [0.001, 0.04, 0.5]}, index=["x", "y", "z"])
    fam = verdicts.family(v, 0.05)
    assert fam["verdict"].tolist() == [SUPPORTED, INCONCLUSIVE, INCONCLUSIVE]
    assert fam["unadjusted"].tolist() == ["", CONTRADICTED, ""]
    assert fam.at["y", "p (Holm)"] == pytest.approx(0.08)
    html = verdicts.page_one_table(fam)
    assert verdicts.RAW in html and ">contradicted<" in html
    alike = verdicts.family(v.assign(p=[0.001, 0.001, 0.5]), 0.05)
    assert verdicts.RAW not in verdicts.page_one_table(alike)
