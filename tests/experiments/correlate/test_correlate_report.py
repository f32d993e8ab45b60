"""What experiment 3's section says, on constructed tables: a trend only as the printed numbers
show it (review A1), and what a remixing of the code can and cannot change (review A3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aestudy.experiments.correlate import report as correlate
from aestudy.experiments.correlate import run as correlation
from aestudy.report.sentences import describe_trend


def _corr(with_diag: dict, offdiag: dict | None = None) -> pd.DataFrame:
    """Four seeds per d, one num_conv, spread symmetrically about each d's given mean."""
    return pd.DataFrame(
        [
            {
                "latent_dim": d,
                "num_conv": 1,
                "seed": s,
                "offdiag": (offdiag or {}).get(d, 0.2) + 0.001 * (s - 1.5),
                "with_diag": v + 0.001 * (s - 1.5),
                "n_constant": 0,
                "n_encoded": 4000,
            }
            for d, v in with_diag.items()
            for s in range(4)
        ]
    )


def test_a_fall_hidden_by_the_printed_digits_is_said_to_stay_not_to_fall():
    """The default's with-diagonal means: 0.2471 at d=15 and 0.2467 at d=20 both print as 0.247."""
    words = correlate.findings(_corr({5: 0.3361, 10: 0.2502, 15: 0.2471, 20: 0.2467}))
    assert (
        "it falls from 0.336 at d=5 to 0.247 at d=15, then stays at 0.247 up to d=20 "
        "(the same to the digits printed): d=5: 0.336" in words
    )
    assert "falls at every step" not in words


def test_falls_at_every_step_only_when_every_printed_value_falls():
    words = correlate.findings(_corr({5: 0.336, 10: 0.250, 15: 0.241, 20: 0.230}))
    assert "it goes from 0.336 at d=5 to 0.230 at d=20 and falls at every step" in words


def test_a_step_inside_the_noise_is_named_beside_rises_at_every_step():
    """The default's off-diagonal correlation rose from 0.1255 at d=5 to 0.1272 at d=10 beside
    intervals of about ±0.012, and the section said "rises at every step" without a word of size."""
    spread = {5: 0.1255, 10: 0.1272, 15: 0.140, 20: 0.162}
    corr = _corr({5: 0.3, 10: 0.2, 15: 0.15, 20: 0.1}, spread)
    corr["offdiag"] = corr["latent_dim"].map(spread) + 0.005 * (corr["seed"] - 1.5)
    words = correlate.findings(corr)
    assert (
        "goes from 0.126 at d=5 to 0.162 at d=20 and rises at every step (the step d=5→10 is inside the "
        "noise: each of its two means lies within the other's interval): d=5: 0.126" in words
    )
    # steps clear of each other's intervals draw no note (the with-diagonal figure: ±0.001 spread)
    assert words.count("inside the noise") == 1


def test_a_trend_that_turns_is_told_run_by_run():
    """The off-diagonal correlation of the default: down from d=5 to d=10, up after."""
    means = pd.Series({5: 0.170, 10: 0.167, 15: 0.193, 20: 0.207})
    assert describe_trend(means, "d=") == (
        "falls from 0.170 at d=5 to 0.167 at d=10, then rises to 0.207 at d=20"
    )
    # two values are one step: "falls at every step" was said of it (the smoke profile's d = 5 and 10)
    assert (
        describe_trend(pd.Series({5: 0.271, 10: 0.221}), "d=") == "falls from 0.271 at d=5 to 0.221 at d=10"
    )
    flat = pd.Series({5: 0.2471, 10: 0.2467})
    assert describe_trend(flat, "d=") == ("stays at 0.247 from d=5 to d=10 (the same to the digits printed)")


def test_the_remixing_sentence_says_only_what_some_remixings_change():
    """Review A3: a rescaling keeps every |correlation| and a rotation the participation ratio,
    so the section says a suitable A changes them, not that every A does."""
    g = np.random.default_rng(0)
    z = g.normal(size=(4000, 4)) @ g.normal(size=(4, 4))
    own = correlation.latent_correlation(z)
    scaled = correlation.latent_correlation(z * [2.0, -0.5, 3.0, 1.0])
    rotation, _ = np.linalg.qr(g.normal(size=(4, 4)))
    rotated = correlation.latent_correlation(z @ rotation)
    mixed = correlation.latent_correlation(z @ g.normal(size=(4, 4)))
    np.testing.assert_allclose(np.abs(scaled["matrix"]), np.abs(own["matrix"]), atol=1e-12)
    assert rotated["participation_ratio"] == pytest.approx(own["participation_ratio"])
    assert mixed["offdiag"] != pytest.approx(own["offdiag"], abs=1e-3)
    assert mixed["participation_ratio"] != pytest.approx(own["participation_ratio"], abs=1e-3)
    assert "while a suitable A changes every correlation" in correlate.WHY
    assert (
        "not every A does: a rescaling of the coordinates leaves every |correlation| as it is"
        in correlate.WHY
    )
    assert "a rotation the participation ratio" in correlate.WHY
    assert "while it changes every correlation" not in correlate.WHY


def test_a_heat_map_of_a_model_that_trains_clearly_worse_is_named_under_the_figure(tmp_path):
    """The default's d=20 panel was its one outlier (0.294 against its siblings' 0.20), shown
    unnamed as if it stood for every seed."""
    from aestudy.report import profile

    cells = [(d, 3, s) for d in (5, 20) for s in range(3)]
    ae = pd.DataFrame(
        {
            "run_id": [f"d{d}-nc{nc}-s{s}" for d, nc, s in cells],
            "status": "ok",
            "latent_dim": [d for d, _, _ in cells],
            "num_conv": 3,
            "seed": [s for _, _, s in cells],
            "final_test_error": [0.05 if (d, s) == (20, 0) else 0.03 for d, _, s in cells],
        }
    )
    corr = ae[["latent_dim", "num_conv", "seed"]].assign(
        run_id="all",
        status="ok",
        model=ae["run_id"],
        offdiag=[0.3 if (d, s) == (20, 0) else 0.2 for d, _, s in cells],
    )
    data = profile.ProfileData(tmp_path, tables={"autoencode": ae, "correlate": corr})
    said = correlate.worse_models_shown(data, ["d5-nc3-s0", "d20-nc3-s0"])
    assert said == (
        " The panel d=20, num_conv=3, seed 0 is a model that trains clearly worse than its seed siblings "
        "(experiment 1): its mean |correlation| off the diagonal is 0.300, its siblings' 0.200."
    )
    assert correlate.worse_models_shown(data, ["d5-nc3-s0"]) == ""


@pytest.mark.parametrize(
    ("asked", "encoded", "said"),
    [
        (4000, 4000, "4,000 of the autoencoders' own training images, fewer than the original's 8,000"),
        (10000, 10000, "10,000 of the autoencoders' own training images, more than the original's 8,000"),
        (400000, 6000, "6,000 of the autoencoders' own training images, fewer than the original's 8,000"),
        (8000, 8000, "8,000 of the autoencoders' own training images"),
    ],
)
def test_the_choices_row_states_the_images_the_runs_encoded_against_the_original(
    tmp_path, asked, encoded, said
):
    """It said 'fewer than the original's 8,000' of any other number, and stated the number asked
    for where a request beyond the training images encoded all of them."""
    from aestudy.report import profile

    corr = _corr({5: 0.3, 10: 0.25}).assign(run_id="all", status="ok", n_encoded=encoded)
    params = {"stages": {"correlate": {"params": {"n_images": asked}}}}
    data = profile.ProfileData(tmp_path, tables={"correlate": corr}, params=params)
    (row,) = correlate.choices(data)
    assert row["choice"] in (said, said + " (the profile's budget)")


def test_the_choices_row_falls_back_to_the_parameter_file_before_any_run(tmp_path):
    from aestudy.report import profile

    params = {"stages": {"correlate": {"params": {"n_images": 2000}}}}
    (row,) = correlate.choices(profile.ProfileData(tmp_path, tables={}, params=params))
    assert row["choice"].startswith("2,000 of the autoencoders' own training images, fewer than")


def test_one_model_of_one_seed_is_counted_in_the_singular_and_a_lone_panel_has_no_siblings(tmp_path):
    from aestudy.report import profile

    corr = _corr({5: 0.3}).head(1)
    assert correlate.runs_text(corr).endswith("were encoded by each of 1 model (1 seed).")
    ae = pd.DataFrame(
        {
            "run_id": [f"d20-nc3-s{s}" for s in range(3)],
            "status": "ok",
            "latent_dim": 20,
            "num_conv": 3,
            "seed": [0, 1, 2],
            "final_test_error": [0.05, 0.03, 0.03],
        }
    )
    only = pd.DataFrame(
        {
            "run_id": "all",
            "status": "ok",
            "model": ["d20-nc3-s0"],
            "latent_dim": 20,
            "num_conv": 3,
            "seed": 0,
            "offdiag": 0.3,
        }
    )
    data = profile.ProfileData(tmp_path, tables={"autoencode": ae, "correlate": only})
    said = correlate.worse_models_shown(data, ["d20-nc3-s0"])
    assert said.endswith("its mean |correlation| off the diagonal is 0.300.") and "nan" not in said


def test_a_trend_with_a_missing_value_leaves_it_out_of_the_steps_and_names_it():
    """A NaN (no usable run at that d) compares as neither smaller nor larger: it must not turn a
    fall into 'rises at every step'."""
    gap = pd.Series([0.3, float("nan"), 0.1], index=[5, 10, 20])
    assert describe_trend(gap, "d=") == "falls from 0.300 at d=5 to 0.100 at d=20 (no value at d=10)"
    lone = pd.Series([float("nan"), 0.2], index=[5, 10])
    assert describe_trend(lone, "d=") == "is 0.200 (one value only) (no value at d=5)"
    assert describe_trend(pd.Series([float("nan")], index=[5]), "d=") == "has no value"


def test_an_interval_stops_where_the_measure_does():
    """Two seeds (the smoke profile) printed a mean |correlation| of 0.271 [-0.551, 1.09] and a
    participation ratio of 3.39 [-1.99, 8.76] at d=5: each experiment declares the values its
    measures can take, and every interval over them is cut there."""
    from aestudy.report.stats import bounds_of, summarise

    corr = pd.DataFrame(
        {
            "latent_dim": [5, 5],
            "seed": [0, 1],
            "offdiag": [0.05, 0.49],
            "participation_ratio": [1.2, 4.9],
        }
    )
    s = summarise(corr, "latent_dim", "offdiag").iloc[0]
    assert (s["ci_lo"], s["ci_hi"]) == (0.0, 1.0)
    pr = summarise(corr, "latent_dim", "participation_ratio").iloc[0]
    assert (pr["ci_lo"], pr["ci_hi"]) == (1.0, 5.0)  # between 1 and d
    assert bounds_of("participation_ratio", {}) == (1.0, np.inf) and bounds_of("no such measure") is None


def test_two_experiments_that_give_one_measure_two_ranges_are_refused(monkeypatch):
    """A measure's range is declared by the experiment that measures it; two that disagree would cut
    its intervals by whichever the registry read last."""
    from aestudy.report import experiments as registry
    from aestudy.report.claims import Experiment

    monkeypatch.setattr(
        registry,
        "EXPERIMENTS",
        (
            Experiment("a", ("a",), ranges={"accuracy": (0.0, 1.0)}),
            Experiment("b", ("b",), ranges={"accuracy": (0.0, 100.0)}),
        ),
    )
    with pytest.raises(ValueError, match="'accuracy' is given two ranges"):
        registry.ranges()
    monkeypatch.setattr(
        registry, "EXPERIMENTS", (Experiment("a", ("a",), ranges={"accuracy": (0.0, 1.0)}),) * 2
    )
    assert registry.ranges() == {"accuracy": (0.0, 1.0)}  # the same range twice is one
