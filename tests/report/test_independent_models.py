"""Every model its own unit (`seed_scope: cell`): the verdicts' estimates are combinations of cell
means with Welch intervals (`linear.welch_over_cells`), each cell its own spread and the
Welch-Satterthwaite df rounded down; the report takes that design from what its runs record
(`ProfileData.models_independent`) and says so beside every interval."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import constructed
from aestudy.experiments.autoencode import report as autoencode
from aestudy.experiments.interpolate import report as interpolate
from aestudy.experiments.transfer import report as transfer
from aestudy.report import decide, linear, profile
from aestudy.report.decide import SUPPORTED
from aestudy.report_params import ReportParams

ROOT = Path(__file__).resolve().parents[2]
INDEPENDENT = ReportParams().for_runs(True)
SEEDS = (0, 1, 2, 3)


def _benchmark():
    spec = importlib.util.spec_from_file_location("independent_df", ROOT / "benchmarks" / "independent_df.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_difference_of_two_cell_means_is_welchs_t_test():
    """Two cells, weights -1 and +1: the estimate, se and df are those of Welch's two-sample
    t-test (scipy's), the df rounded down."""
    a, b = np.array([1.0, 1.2, 0.9, 1.1, 1.05]), np.array([2.0, 2.9, 1.4, 2.6])
    est = linear.welch_over_cells({"a": a, "b": b}, {"a": -1.0, "b": 1.0}, "autoencoders")
    t = stats.ttest_ind(b, a, equal_var=False)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    assert est["mean"] == pytest.approx(b.mean() - a.mean())
    assert est["mean"] / est["se"] == pytest.approx(t.statistic)
    assert est["df"] == int(np.floor(df)) and est["welch"] and est["n"] == 9 and est["unit"] == "autoencoders"
    # a cell it weighs with one unit: no interval; a cell it does not weigh is not used
    one = linear.welch_over_cells({"a": a, "b": b[:1]}, {"a": -1.0, "b": 1.0}, "autoencoders")
    assert np.isfinite(one["mean"]) and not np.isfinite(one["se"]) and one["df"] == 0
    alone = linear.welch_over_cells({"a": a, "b": b[:1]}, {"a": 1.0}, "autoencoders")
    assert alone["df"] == len(a) - 1 and not alone["welch"]  # one cell: the plain one-sample interval


def test_a_welch_df_held_down_by_one_cell_names_that_cell_and_its_share_of_the_variance():
    """The default's "more digit-like" had df 4 where its 6 cells of 4 models hold 18: one model of
    d=10, num_conv=3 far from its siblings. The interval's words name the cell and its share, so a
    reader sees why the df is low; an even spread says nothing more."""
    from aestudy.report.text import df_words

    calm = np.array([0.60, 0.61, 0.59, 0.60])
    cells = {(nc, d): calm + 0.01 * nc for nc in (1, 2, 3) for d in (10, 20)}
    cells[(3, 10)] = np.array([0.70, 0.54, 0.61, 0.62])  # one cell wide
    w = {c: (1 if c[1] == 10 else -1) / 3 for c in cells}
    est = decide.interval(linear.welch_over_cells(cells, w, "autoencoders", ("num_conv", "latent_dim")), 0.95)
    assert est["df_cells"] == 18 and est["widest"] == "d=10, num_conv=3" and est["share"] > 0.9
    assert est["df"] < 9
    assert df_words(est) == (
        f"Welch-Satterthwaite df {est['df']} of the cells' 18: the cell d=10, num_conv=3 carries "
        f"{100 * est['share']:.0f} % of the variance"
    )
    even = {c: calm + 0.01 * i for i, c in enumerate(cells)}
    est = linear.welch_over_cells(even, w, "autoencoders", ("num_conv", "latent_dim"))
    assert df_words(est) == f"Welch-Satterthwaite df {est['df']}"  # nothing holds it down
    assert df_words({"df": 3}) == "df 3"  # over the seeds


def test_a_trend_over_independent_models_has_the_seeds_estimates_and_welchs_df():
    """On a balanced grid the slope and steps of the cell means equal the mean of the seeds' own
    (linear in the cell means); only their intervals differ: Welch's over the cells, whose df are
    those benchmarks/independent_df.py computes for the same table (rounded down), not seeds - 1."""
    rng = np.random.default_rng(3)
    spread = {5: 0.02, 10: 0.05, 15: 0.2, 20: 0.1}
    ae = constructed._ae(lambda d, nc, s: np.exp(-0.05 * d - 0.1 * nc + rng.normal(0, spread[d])), SEEDS)
    d = ae.assign(log=np.log(ae["final_test_error"]))
    seeds_slope, seeds_steps = linear.trend(d, "latent_dim", "log", "num_conv")
    slope, steps = linear.trend(d, "latent_dim", "log", "num_conv", independent="autoencoders")
    assert slope["mean"] == pytest.approx(seeds_slope["mean"])
    assert {k: s["mean"] for k, s in steps.items()} == pytest.approx(
        {k: s["mean"] for k, s in seeds_steps.items()}
    )
    assert seeds_slope["df"] == len(SEEDS) - 1 and slope["n"] == len(ae) and slope["welch"]
    bench = _benchmark()
    welch, _ = bench.satterthwaite_df(ae, "final_test_error", "latent_dim", "num_conv")
    assert slope["df"] == int(np.floor(welch))
    by_bench = bench.step_dfs(ae, "final_test_error", "latent_dim", "num_conv")
    assert {k: s["df"] for k, s in steps.items()} == {k: int(np.floor(v)) for k, v in by_bench.items()}
    assert slope["df"] > len(SEEDS) - 1
    # the step 15→20 by hand: two cell means per num_conv, averaged; each cell its own variance
    v = d.groupby(["num_conv", "latent_dim"])["log"].agg(["mean", "var", "count"])
    w = {(nc, x): sign / 3 for nc in (1, 2, 3) for x, sign in ((15, -1), (20, 1))}
    se = np.sqrt(sum(wi**2 * v.loc[k, "var"] / v.loc[k, "count"] for k, wi in w.items()))
    assert steps["15→20"]["se"] == pytest.approx(se)


def test_a_mean_over_cells_of_independent_units_is_welchs():
    df = pd.DataFrame(
        {
            "num_conv": [1] * 4 + [2] * 4,
            "seed": list(range(4)) * 2,
            "diff": [0.1, 0.2, 0.15, 0.05, 0.3, 0.25, 0.95, 0.3],
        }
    )
    est = linear.mean_over_cells(df, "diff", ["num_conv"], independent="model pairs")
    m = df.groupby("num_conv")["diff"].agg(["mean", "var", "count"])
    assert est["mean"] == pytest.approx(m["mean"].mean())
    assert est["se"] == pytest.approx(np.sqrt((m["var"] / m["count"]).sum()) / 2)
    assert est["n"] == 8 and est["unit"] == "model pairs" and est["welch"]


def test_welch_over_cells_of_independent_nulls_decides_about_alpha():
    """Independent models, the spread differing 10x between cells, no effect: a Welch interval of
    a mean over cells decides about alpha of 400 seeded designs (at most 10 % where 5 % is nominal)."""
    rng = np.random.default_rng(11)
    sd = {5: 0.1, 10: 0.3, 15: 1.0, 20: 0.2}
    decided = 0
    for _ in range(400):
        rows = [{"latent_dim": d, "seed": s, "diff": rng.normal(0, sd[d])} for d in sd for s in SEEDS]
        est = linear.mean_over_cells(pd.DataFrame(rows), "diff", ["latent_dim"], independent="encoders")
        decided += decide.direction(est, +1, 0.95)["verdict"] != "inconclusive"
    assert decided / 400 <= 0.10, decided


def test_the_report_takes_the_design_from_what_the_runs_record(tmp_path):
    ae = constructed._ae(constructed._good_error, SEEDS)
    data = profile.ProfileData(tmp_path, tables={"autoencode": ae})
    assert not data.models_independent and not data.rules.models_independent  # no record: shared seeds
    data.tables["autoencode"] = ae.assign(seed_scope="cell")
    assert data.models_independent and data.rules.models_independent
    data.tables["autoencode"] = ae.assign(seed_scope=["cell", "shared"] * (len(ae) // 2))
    assert not data.models_independent  # a mixed sweep: its models are not all their own units


def test_every_verdict_row_says_its_welch_interval_unit_and_df():
    ae = constructed._ae(constructed._good_error, SEEDS)
    row = autoencode.verdict_error_falls_with_d(ae, INDEPENDENT)
    said = row["this run's numbers"]
    assert (
        "a Welch t-interval over the autoencoders, each an independent unit, each cell its own spread" in said
    )
    assert f"95 % Welch t-interval, {len(ae)} autoencoders, Welch-Satterthwaite df {row['df']}" in said
    assert row["df"] > len(SEEDS) - 1
    assert f"{len(ae)} autoencoders, Welch-Satterthwaite df {row['df']}; steps" in row["decides"]
    tr = constructed._transfer(constructed._study_like, seeds=SEEDS)
    diff = transfer.verdict_finetune_beats_frozen(tr, INDEPENDENT)
    assert "Welch t-interval, 16 encoders" in diff["this run's numbers"]
    h1 = transfer.verdict_h1_matters_little(tr, INDEPENDENT)
    assert (
        "each encoder's own differences, their mean over the cells (d), a Welch interval over the encoders"
        in (h1["this run's numbers"])
    )
    one = constructed._interp(
        [0.50, 0.55, 0.52, 0.5], [0.70, 0.72, 0.75, 0.7], [0.9] * 4, [0.5] * 4, seeds=SEEDS
    )
    pairs = pd.concat([one.assign(num_conv=nc) for nc in (1, 2, 3)], ignore_index=True)
    sharp = interpolate.verdict_sharper_ends(pairs, INDEPENDENT)
    assert sharp["verdict"] == SUPPORTED and "Welch t-interval, 12 model pairs" in sharp["this run's numbers"]


def test_the_limitations_set_the_verdicts_df_against_the_specification():
    from aestudy.experiments import about

    said = about.limitations(4, independent=True, dfs=[9, 12, 5])
    assert (
        "Every model is its own unit" in said
        and "here 5-12: 1 of the 3 verdicts has fewer than the 8" in said
    )
    assert (
        "about 6 seeds a cell would bring the fewest to 8" in said
    )  # 5 df from 3: 8 needs 3 * 8 / 5 -> 5, + 1
    assert "at least the 8 per verdict" in about.limitations(4, independent=True, dfs=[9, 12])
    assert "here 4-9: 2 of the 3 verdicts have fewer" in about.limitations(4, independent=True, dfs=[9, 5, 4])
    assert "3 degrees of freedom" in about.limitations(4)  # shared seeds: over the seeds, as before


def test_each_section_says_what_its_verdicts_intervals_are_over_for_the_recorded_design(tmp_path):
    """Experiment 2's text said its verdicts' intervals were over the seeds and About called the seed
    'the independent unit' after every model had become its own: the words follow the runs' design."""
    from aestudy.experiments import about

    one = constructed._interp(
        [0.50, 0.55, 0.52, 0.5], [0.70, 0.72, 0.75, 0.7], [0.9] * 4, [0.5] * 4, seeds=SEEDS
    )
    own = interpolate.findings(one, independent=True)
    assert (
        "the verdicts' are Welch intervals over the model pairs" in own
        and "and so are the verdicts'" not in own
    )
    assert "and so are the verdicts'." in interpolate.findings(one)
    assert "the verdicts' Welch intervals over the encoders" in transfer.unit_words(True)
    assert "the seed is the unit" in transfer.unit_words(False)
    ae = constructed._ae(constructed._good_error, SEEDS)
    shared = about.about(profile.ProfileData(tmp_path, tables={"autoencode": ae}))
    cell = about.about(profile.ProfileData(tmp_path, tables={"autoencode": ae.assign(seed_scope="cell")}))
    assert "The seed is the independent unit" in shared and "The seed is the independent unit" not in cell
    assert "each model is an independent unit" in cell and "(the independent unit)" not in cell


def test_a_slope_over_three_levels_says_why_its_n_leaves_the_middle_level_out():
    """'-9.1 % per conv layer, 32 autoencoders' of 48 trained: the num_conv = 2 cells sit at the mean
    of the levels and weigh nothing in a least-squares slope, which the numbers now say."""
    ae = constructed._ae(constructed._good_error, SEEDS)
    size = autoencode.verdict_error_falls_with_size(ae, INDEPENDENT)
    n = len(ae[ae["num_conv"] != 2])
    assert f"{n} autoencoders" in size["decides"]
    assert (
        f"the {len(ae) - n} autoencoders at num_conv = 2, the middle level within each d, weigh nothing in it"
        in size["this run's numbers"]
    )
    d = autoencode.verdict_error_falls_with_d(ae, INDEPENDENT)  # 5, 10, 15, 20: every level weighs
    assert "weigh nothing" not in d["this run's numbers"]
    # a d without num_conv = 3: its num_conv = 2 models are an end of their slope, and weigh
    gap = ae[~((ae["latent_dim"] == 20) & (ae["num_conv"] == 3))]
    size = autoencode.verdict_error_falls_with_size(gap, INDEPENDENT)
    middle = len(gap[(gap["num_conv"] == 2) & (gap["latent_dim"] != 20)])
    assert f"the {middle} autoencoders at num_conv = 2, the middle level" in size["this run's numbers"]
    assert f"{len(gap) - middle} autoencoders" in size["decides"]


def test_the_raw_pixel_claim_is_decided_on_every_ds_encoders_not_the_largest_ds():
    """Until 2026-12-07 it was decided at the largest d alone (4 encoders, 3 df): now on the mean over d
    of every encoder's difference, as the other mode differences, so a d = 20 below the baselines does
    not decide it where every other d is well above them."""

    def acc(d, h, m, s, draw):
        if m == "finetune":
            return 0.80 + 0.002 * s + (-0.01 if d == 20 else 0.06)
        return 0.70 + 0.003 * s

    tr = constructed._transfer(acc, seeds=SEEDS, base=(0.81, 0.75))
    row = transfer.verdict_beats_baselines(tr, INDEPENDENT)
    assert row["verdict"] == SUPPORTED, row
    data = profile.ProfileData(Path("."), tables={"transfer": tr.assign(status="ok")})
    assert transfer.baselines_detail(data).endswith("d=20: -2.2 points")  # below the baselines there
    assert "Welch t-interval, 16 encoders" in row["this run's numbers"] and "d=20" not in row["key number"]


def _two_num_conv(tr: pd.DataFrame) -> pd.DataFrame:
    """The transfer table of `constructed._transfer` for num_conv 1 and 2 alike: 2 x its encoders."""
    other = tr.assign(num_conv=1, run_id=tr["run_id"].str.replace("-nc2-", "-nc1-"))
    return pd.concat([tr, other.assign(accuracy=other["accuracy"] - 0.01)], ignore_index=True)


def test_experiment_4_over_two_num_conv_takes_every_encoder_as_its_own_unit():
    """With the encoders of num_conv 1 and 2 (the default since 2026-12-07), a mode difference and
    the h1 equivalence average over the (num_conv, d) cells: the nc = 1 and nc = 2 encoders of one
    seed are two units, not averaged into one, and the words say what the mean is over."""
    tr = _two_num_conv(constructed._transfer(constructed._study_like, seeds=SEEDS))
    n = tr[["num_conv", "latent_dim", "seed"]].drop_duplicates().shape[0]
    diff = transfer.verdict_finetune_beats_frozen(tr, INDEPENDENT)
    assert n == 32 and f"Welch t-interval, {n} encoders" in diff["this run's numbers"]
    assert "mean over d and num_conv)" in diff["this run's numbers"]
    h1 = transfer.verdict_h1_matters_little(tr, INDEPENDENT)
    assert (
        f"{n} encoders" in h1["this run's numbers"]
        and "their mean over the cells (d and num_conv), a Welch interval" in h1["this run's numbers"]
    )
    one = transfer.verdict_finetune_beats_frozen(
        constructed._transfer(constructed._study_like, seeds=SEEDS), INDEPENDENT
    )
    assert "16 encoders" in one["this run's numbers"] and "mean over d)" in one["this run's numbers"]


def _own_images(one: pd.DataFrame) -> pd.DataFrame:
    """`constructed._interp` for num_conv 1-3, every model with its own image draw (as recorded by
    runs with `shared_images: false`)."""
    rows = pd.concat([one.assign(num_conv=nc) for nc in (1, 2, 3)], ignore_index=True)
    return rows.assign(shared_images=False, pair_seed=range(len(rows)))


def test_experiment_2_with_every_model_on_its_own_images_decides_over_the_models():
    """Each model its own images: the unit is the model, the estimate the difference of the two d's
    cell means averaged over num_conv (the paired one's value on a balanced grid), a Welch interval
    over the six cells; runs that shared their images stay paired over the model pairs."""
    one = constructed._interp(
        [0.50, 0.55, 0.52, 0.5], [0.70, 0.72, 0.75, 0.7], [0.9] * 4, [0.5] * 4, seeds=SEEDS
    )
    own = _own_images(one)
    assert interpolate.own_images(own) and not interpolate.own_images(own.drop(columns="shared_images"))
    assert not interpolate.own_images(pd.concat([own, one]))  # with runs from before the field: not all own
    row = interpolate.verdict_sharper_ends(own, INDEPENDENT)
    shared = interpolate.verdict_sharper_ends(own.drop(columns="shared_images"), INDEPENDENT)
    assert row["verdict"] == SUPPORTED and "Welch t-interval, 24 autoencoders" in row["this run's numbers"]
    assert "12 model pairs" in shared["this run's numbers"] and row["decides"].startswith(
        "difference d=10 − d=20"
    )
    assert row["p"] != shared["p"]
    units = linear.cell_units(own, "end_sharpness_error", ["num_conv", "latent_dim"], "seed")
    w = {(nc, d): (1 if d == 10 else -1) / 3 for nc, d in units}
    assert row["df"] == linear.welch_over_cells(units, w, "autoencoders")["df"]
    said = interpolate.findings(own, independent=True)
    assert "drawn afresh for each model" in said and "Welch intervals over the autoencoders" in said
