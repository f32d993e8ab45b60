"""Experiment 4's section says what its numbers compare: a mode difference whose chosen protocols
differ in augmentation says that it measures augmentation too, the h1 verdict names the modes it
averages and the sign of its gap, and the summary figure speaks in percent, one colour per mode."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from matplotlib.colors import to_hex

from aestudy.experiments.transfer import report as transfer
from aestudy.experiments.transfer import summaries as transfer_data
from aestudy.experiments.transfer.choices import augment_note, augment_words
from aestudy.report import profile, verdicts
from aestudy.report.claims import DECIDES
from aestudy.vocabulary import MODES, mode_palette
from constructed import _study_like, _transfer

REPO = Path(__file__).resolve().parents[3]
CHOSEN = {  # mode: (steps, lr, weight decay, augment) of the chosen protocol, as the default's
    "frozen": (100, 3e-3, 0.0, False),
    "finetune": (100, 3e-4, 0.0, False),
    "scratch": (100, 3e-3, 0.01, True),
    "augmented": (200, 1e-3, 0.0, True),
}


def _protocol(chosen: dict = CHOSEN) -> pd.DataFrame:
    """The protocol stage's table: per mode its chosen candidate and one other, not chosen."""
    rows = []
    for mode, (steps, lr, wd, aug) in chosen.items():
        for i, pick in enumerate((True, False)):
            rows.append(
                {
                    "status": "ok",
                    "mode": mode,
                    "candidate": i,
                    "chosen": pick,
                    "cv_accuracy": 0.7 + 0.05 * pick,
                }
                | {"steps": steps, "lr": lr, "weight_decay": wd, "augment": aug if pick else not aug}
                | {"warmup": 0, "encoder_lr": 1.0, "folds": 3, "n_labels": 100, "h1": 650, "label_seed": 0}
            )
    return pd.DataFrame(rows)


def _data(protocol: pd.DataFrame | None = None) -> profile.ProfileData:
    params = yaml.safe_load((REPO / "params" / "default.yaml").read_text())
    tr = _transfer(_study_like).assign(n_test=10000, train_accuracy=1.0, cv_accuracy=0.7)
    tables = {"transfer": tr} | ({"protocol": protocol} if protocol is not None else {})
    return profile.ProfileData(REPO / "reports" / "nowhere", tables=tables, params=params)


def test_a_mode_difference_whose_chosen_protocols_differ_in_augmentation_says_it_measures_augmentation():
    v = verdicts.verdicts(_data(_protocol()))
    said = (
        "the protocol chosen for scratch trains on augmented copies and finetune's does not, "
        "so finetune − scratch also measures augmentation (each mode trains by its own chosen protocol; these "
        "two also differ in learning rate and weight decay)"
    )
    assert v.at["pretraining_beats_scratch", "note"].endswith("; " + said)  # after where it was tuned
    assert "so finetune − augmented also measures augmentation" in v.at["pretraining_beats_control", "note"]
    assert "augmentation" not in v.at["finetune_beats_frozen", "note"]  # both chosen without augmentation
    # the difference at every d is the claim's detail, not its caveat
    assert v.at["pretraining_beats_scratch", "detail"].startswith(
        "finetune − scratch at every d (means): d=5: "
    )


def test_no_augmentation_note_where_both_protocols_agree_or_none_are_recorded():
    both = _protocol({**CHOSEN, "finetune": (100, 3e-4, 0.0, True)})
    assert augment_note(_data(both), "finetune", "scratch") == ""
    assert augment_note(_data(both), "finetune", "frozen").startswith(
        "the protocol chosen for finetune trains"
    )
    assert augment_note(_data(), "finetune", "scratch") == ""


def test_the_text_says_which_modes_train_on_augmented_copies_and_what_tells_the_controls_apart():
    words = transfer.text(_data(_protocol()))
    assert (
        "The protocols chosen by cross-validation train scratch and augmented on shifted and rotated copies and "
        "frozen and finetune on the labelled images as they are." in words
    )
    assert (
        "scratch does where its search chooses to, as it did here, so the two differ here only in steps, "
        in words
    )
    assert "learning rate and weight decay." in words
    assert words.endswith(
        "So finetune − scratch and finetune − augmented also measure augmentation, not pre-training alone."
    )
    unaugmented = augment_words(
        _data(_protocol({**CHOSEN, "scratch": (100, 3e-3, 0.01, False)})), transfer.CONTRASTS
    )
    assert "scratch's search chose not to" in unaugmented and "finetune − scratch" not in unaugmented
    assert augment_words(_data(), transfer.CONTRASTS) == ""


def test_a_difference_that_also_measures_augmentation_names_what_it_is_there_to_measure():
    """finetune − frozen compares two modes of the same pre-trained encoder: where only finetune's
    protocol augments, it measures augmentation besides fine-tuning, not besides pre-training (the
    sentence named pre-training for every difference)."""
    words = augment_words(
        _data(_protocol({**CHOSEN, "finetune": (200, 3e-3, 0.01, True)})), transfer.CONTRASTS
    )
    assert words.endswith("So finetune − frozen also measures augmentation, not fine-tuning alone.")
    assert "pre-training" not in words


def test_the_h1_verdict_names_the_modes_it_averages_and_the_sign_of_its_gap():
    row = transfer.verdict_h1_matters_little(_transfer(_study_like))
    assert row[DECIDES].startswith(
        "the key number's farthest gap (the difference whose interval reaches farthest from 0), h1=200 − h1=1000 in the accuracy of the pre-trained modes "
        "(frozen and finetune, mean over them), by TOST (90 % t-interval"
    )
    assert "mean accuracy by h1 (frozen and finetune, mean over them)" in row["this run's numbers"]
    rules = transfer.rules_markdown(transfer.DEFAULT)
    assert "in the pre-trained modes\n  (frozen and finetune, mean over them)" in rules
    assert "(the smaller h1 − the larger)" in rules


def test_the_summary_figure_plots_accuracy_in_percent_each_mode_in_its_legend_colour():
    fig, caption = transfer_data.summary(_data())
    a, _, c = fig.axes
    assert a.get_ylabel() == "test accuracy (%, 100 labels)" and 1 < a.get_ylim()[1] <= 100
    palette = {m: to_hex(col) for m, col in mode_palette().items()}
    ticks = [t.get_text() for t in c.get_xticklabels()]
    assert ticks == list(MODES)
    colours = {}
    for bars in c.containers:
        x, y = bars.lines[0].get_data()
        colours[ticks[round(x[0])]] = to_hex(bars.lines[0].get_color())
        assert 50 < y[0] < 100  # percent, not a fraction
    assert colours == palette
    assert "Test accuracy (%)" in caption and "each mode in its colour of the legend" in caption
    assert "The accuracy axis starts at " in caption and " %, not at 0" in caption


def test_the_best_configuration_says_how_many_it_was_selected_from(tmp_path):
    """A number selected as the best of several is labelled as selected: of how many."""
    from aestudy.experiments.transfer.choices import choices

    tr = _transfer(_study_like, ds=(10, 20), h1s=(200, 650))
    data = profile.ProfileData(tmp_path, tables={"transfer": tr})
    best = next(c for c in choices(data) if c["what"] == "best configuration in the text")
    n = 2 * 2 * tr[tr["mode"].isin(MODES)]["mode"].nunique()
    assert f"the best of the {n} configurations (d × mode × h1)" in best["how it was made"]


def test_the_panel_by_d_draws_each_ds_baselines_from_its_encoders_own_draws():
    """Every encoder draws its own labels, so the baselines differ with d: the panel by d shows
    each d's, the panels that average over d their mean (a flat line there hid it)."""
    import matplotlib.pyplot as plt

    base = pd.DataFrame(
        [
            {
                "mode": m,
                "latent_dim": d,
                "num_conv": 2,
                "seed": s,
                "label_seed": 0,
                "accuracy": acc + 0.01 * d,
            }
            for m, acc in (("logreg", 0.70), ("1nn", 0.60))
            for d in (5, 10, 20)
            for s in (0, 1)
        ]
    )
    ax = plt.subplots()[1]
    transfer_data.baselines_by_d(ax, base, [5, 10, 20])
    lines = {line.get_label(): list(line.get_ydata()) for line in ax.lines}
    assert lines["logistic regression (pixels)"] == pytest.approx([0.75, 0.80, 0.90])
    assert lines["1-NN (pixels)"] == pytest.approx([0.65, 0.70, 0.80])
    plt.close("all")


def test_captions_name_baselines_and_modes_only_where_the_runs_have_them():
    """`baselines: false` drew no grey line, yet both captions said 'baselines grey'; a transfer stage
    of frozen and scratch alone averaged frozen, yet the row said 'frozen+finetune'."""
    from constructed import _study_like, _transfer

    tr = _transfer(_study_like)
    bare = profile.ProfileData(Path("."), tables={"transfer": tr[~tr["mode"].isin(["logreg", "1nn"])]})
    fig, caption = transfer_data.summary(bare)
    assert "grey lines" not in caption and "baselines grey" not in transfer.overview(bare).caption
    full = profile.ProfileData(Path("."), tables={"transfer": tr})
    assert "grey lines: raw-pixel baselines" in transfer_data.summary(full)[1]
    assert transfer.overview(full).caption.endswith("one colour per mode, baselines grey")
    frozen = tr[tr["mode"].isin(["frozen", "scratch", "logreg", "1nn"])]
    assert "accuracy by d (frozen, mean)" in transfer.verdict_larger_d_better(frozen)["this run's numbers"]
    assert (
        "accuracy by d (frozen+finetune, mean)" in transfer.verdict_larger_d_better(tr)["this run's numbers"]
    )


def test_the_runs_text_says_which_modes_were_trained_by_a_chosen_protocol():
    """Without a protocol stage (no cv_accuracy recorded) every mode trains by the untuned protocol;
    the text said each was chosen by cross-validation. One encoder read '1 encoders'."""
    from constructed import _study_like, _transfer

    tr = _transfer(_study_like).assign(cv_accuracy=0.7, n_test=10000, n_labels=100)
    clf = tr[~tr["mode"].isin(["logreg", "1nn"])]
    assert "each mode trained by the protocol chosen for it by cross-validation" in transfer.runs_text(
        tr, clf
    )
    none = clf.assign(cv_accuracy=float("nan"))
    assert "every mode trained by the untuned protocol" in transfer.runs_text(tr, none)
    some = clf.assign(cv_accuracy=clf["cv_accuracy"].where(clf["mode"] != "scratch"))
    assert "except scratch, trained by the untuned protocol (none was chosen for it)" in transfer.runs_text(
        tr, some
    )
    one = clf[(clf["latent_dim"] == 10) & (clf["seed"] == 0)]
    assert transfer.runs_text(tr, one).startswith("1 encoder of experiment 1 (1 autoencoder seed)")


def test_the_figure_caption_counts_the_seeds_of_every_panel():
    """With d = 20's runs of three seeds failed, panel (b)'s d = 20 points rest on one seed and draw
    no bar; the caption took its n from panel (c) alone: 'over 4 autoencoder seeds'."""
    from constructed import _study_like, _transfer

    tr = _transfer(_study_like).assign(n_labels=100)
    tr.loc[(tr["latent_dim"] == 20) & (tr["seed"] > 0), "status"] = "error"
    _, caption = transfer_data.summary(profile.ProfileData(Path("."), tables={"transfer": tr}))
    assert (
        "bars: 95 % t-interval over 1-3 autoencoder seeds (encoder-level means) (a point of one seed has no bar)"
        in caption
    )


def test_the_abstract_names_the_pretrained_modes_it_averaged():
    from constructed import _study_like, _transfer

    tr = _transfer(_study_like).assign(n_labels=100)
    for modes, words in (
        (None, "(frozen and fine-tuned encoders)"),
        (["frozen", "scratch"], "(frozen encoders)"),
    ):
        t = tr if modes is None else tr[tr["mode"].isin([*modes, "logreg", "1nn"])]
        data = profile.ProfileData(Path("."), tables={"transfer": t})
        said = transfer.EXPERIMENT.key_effects(data, verdicts.verdicts(data))
        assert any(f"transfer accuracy with 100 labels {words}" in k for k in said), said
