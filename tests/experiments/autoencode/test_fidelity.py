"""Experiment 1's fidelity on constructed tables (issue 29, "trained networks first"): the
autoencoders beside PCA with the same d and the mean image, the last epoch's change of validation
error and the dead units, in its table, its figures, page 1 and the choices and limitations; a
profile whose runs did not record them gets all of it without them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aestudy.experiments.autoencode import fidelity
from aestudy.experiments.autoencode import report as autoencode
from aestudy.report import choices, profile, prose, text, verdicts
from constructed import _ae, _good_error

PCA = {5: 0.0445, 10: 0.0341, 15: 0.0279, 20: 0.0235}
MEAN_IMAGE = 0.0675


def _with_yardsticks(ratio, val_change=lambda d, nc, s: -0.021, dead=0.4) -> pd.DataFrame:
    """Autoencoders at ratio(d, num_conv) x PCA-d's error in every seed, with the keys the
    autoencode runs record beside it."""
    ae = _ae(lambda d, nc, s: PCA[d] * ratio(d, nc))
    ae["pca_test_error"] = ae["latent_dim"].map(PCA)
    ae["mean_image_test_error"] = MEAN_IMAGE
    ae["val_change"] = [
        val_change(d, nc, s) for d, nc, s in zip(ae["latent_dim"], ae["num_conv"], ae["seed"])
    ]
    ae["final_val_error"] = ae["final_test_error"] * 1.01
    ae["dead_encoder_hidden"] = dead
    return ae


def _data(ae: pd.DataFrame) -> profile.ProfileData:
    return profile.ProfileData(Path("."), tables={"autoencode": ae})


def _page_one(data: profile.ProfileData) -> str:
    return prose.abstract_markdown(data, verdicts.verdicts(data))


def _epochs_row(data: profile.ProfileData) -> dict:
    t = choices.table(data)[0]
    return t[t["what"] == "epochs"].iloc[0].to_dict()


def test_all_cells_below_pca_give_the_fidelity_line_with_their_ratio_range():
    ratio = {
        (d, nc): r
        for (d, nc), r in zip([(d, nc) for d in PCA for nc in (1, 2, 3)], np.linspace(0.62, 0.91, 12))
    }
    data = _data(
        _with_yardsticks(lambda d, nc: ratio[d, nc], val_change=lambda d, nc, s: [-0.03, -0.021, -0.01][s])
    )
    line = (
        "**Fidelity:** autoencoders at 0.62-0.91x PCA's test error with the same d in all 12 cells; "
        "the last epoch changed validation error by -2.1 % (median over 36 models): still falling, so these "
        "networks have not converged at this budget."
    )
    assert line in _page_one(data)
    assert "do not beat" not in _page_one(data)
    settled = _data(_with_yardsticks(lambda d, nc: 0.8, val_change=lambda d, nc, s: -0.004))
    assert "by -0.4 % (median over 36 models)." in _page_one(settled) and "still falling" not in _page_one(
        settled
    )
    assert "beat PCA with the same d in every cell" in choices.limitations(data)
    assert "not results" not in _epochs_row(data)["on what data"]


def test_a_cell_above_pca_produces_the_page_one_sentence():
    ae = _with_yardsticks(lambda d, nc: 1.08 if (d, nc) in {(20, 1), (20, 2), (5, 1)} else 0.8)
    data = _data(ae)
    words = _page_one(data)
    assert (
        "in 3 of 12 cells (d=5 with num_conv 1; d=20 with num_conv 1 and 2) the autoencoders do not beat PCA "
        "with the same d: their verdicts measure networks that have not learned"
    ) in words
    assert "at 0.80-1.08x PCA's test error" in words
    assert (
        "In experiment 1, in 3 of 12 cells (d=5 with num_conv 1; d=20 with num_conv 1 and 2) the"
        in choices.limitations(data)
    )
    assert "do not beat PCA" in _epochs_row(data)["on what data"]


def test_a_cell_no_better_than_the_mean_image_is_named():
    data = _data(_with_yardsticks(lambda d, nc: MEAN_IMAGE / PCA[d] * 1.05 if (d, nc) == (5, 1) else 0.9))
    assert (
        # the cell's own error beside the mean image's: "no better than (0.0655)" hid an error 41 % above it
        "in 1 of 12 cells (d=5 with num_conv 1) they are no better than the mean image (0.0709 against its 0.0675)"
        in _page_one(data)
    )


def test_the_table_shows_pca_the_ratio_the_last_epoch_and_the_dead_units_per_cell():
    data = _data(_with_yardsticks(lambda d, nc: 0.5 + 0.1 * nc))
    t, caption = autoencode.grid(data)
    assert list(t.columns) == [
        "d",
        "num_conv",
        "autoencoders",
        "PCA-d",
        "autoencoders / PCA",
        "last epoch: validation error",
        "dead encoder units",
        "seeds",
    ]
    row = t[(t["d"] == 10) & (t["num_conv"] == 2)].iloc[0]
    assert row["PCA-d"] == "0.0341" and row["autoencoders / PCA"] == "0.70"
    assert row["last epoch: validation error"] == "-2.1 %" and row["dead encoder units"] == "40 %"
    assert row["autoencoders"].startswith(text.fmt(0.7 * 0.0341)) and row["seeds"] == 3
    assert "mean image gives 0.0675" in caption and "held-out training images" in caption
    assert "PCA-d" in text.markdown_table(t)


def test_a_table_without_the_new_columns_renders_without_them():
    data = _data(_ae(_good_error))  # runs from before the yardsticks, or the smoke profile
    t, caption = autoencode.grid(data)
    assert list(t.columns) == ["d", "num_conv", "autoencoders", "seeds"] and len(t) == 12
    assert "PCA" not in caption and "mean image" not in caption and "validation" not in caption
    assert text.markdown_table(t).count("\n") == 13
    assert "Fidelity" not in _page_one(data) and fidelity.fidelity_line(data.usable("autoencode")) == ""
    assert "PCA" not in autoencode.text(data)
    assert "not measured" in _epochs_row(data)["on what data"]
    assert "PCA" not in choices.limitations(data)
    panel = autoencode.overview(data)
    assert "PCA" not in panel.caption
    fig = prose.overview([panel])
    assert fig.legends == [] and not fig.axes[0].get_legend_handles_labels()[0]


def test_one_epoch_says_the_change_of_validation_error_needs_two():
    data = _data(_with_yardsticks(lambda d, nc: 0.8, val_change=lambda d, nc, s: None))
    assert (
        "the last epoch's change of validation error is not measured: it needs two epochs (these runs trained one)"
        in _page_one(data)
    )
    t, caption = autoencode.grid(data)
    assert "last epoch: validation error" not in t.columns and "needs two epochs" in caption


def test_runs_without_validation_images_are_not_said_to_have_trained_one_epoch():
    """`val_size: 0` over 6 epochs measured no change either: the report said the runs trained one epoch."""
    ae = _with_yardsticks(lambda d, nc: 0.8, val_change=lambda d, nc, s: None).assign(epochs=6, val_size=0)
    data = _data(ae)
    assert "is not measured: it needs validation images (these runs held none out: val_size 0)" in _page_one(
        data
    )
    assert "trained one" not in _page_one(data) and "trained one" not in autoencode.grid(data)[1]


@pytest.mark.parametrize("recorded", [True, False])
def test_the_figures_draw_pca_and_the_mean_image_beside_the_autoencoders(recorded):
    ae = _with_yardsticks(lambda d, nc: 0.8) if recorded else _ae(_good_error)
    panel = autoencode.overview(_data(ae))
    fig = prose.overview([panel])
    labels = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert (labels == ["PCA with the same d", "mean image"]) == recorded and (labels == []) != recorded
    pca_line = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "PCA with the same d"]
    if recorded:
        assert list(pca_line[0].get_ydata()) == pytest.approx([PCA[d] for d in sorted(PCA)])
        assert "PCA with the same d" in panel.caption and "mean image" in panel.caption
    summary = ae.assign(epoch=1, test_error=ae["final_test_error"])
    from aestudy.report.stats import summarise

    curves = autoencode.error_curves(
        summarise(summary, ["latent_dim", "epoch"], "test_error"),
        summarise(summary, ["num_conv", "epoch"], "test_error"),
        ae,
    )
    levels = sorted(
        {
            round(ln.get_ydata()[0], 6)
            for ln in curves.axes[0].get_lines()
            if ln.get_linestyle() == "-." and len(ln.get_ydata())
        }
    )
    assert levels == (sorted(round(v, 6) for v in PCA.values()) if recorded else [])


def test_a_d_that_misses_pca_at_every_num_conv_is_named_once():
    data = _data(_with_yardsticks(lambda d, nc: 1.2 if d == 20 or (d, nc) == (5, 3) else 0.9))
    assert (
        "in 4 of 12 cells (d=20 with every num_conv; d=5 with num_conv 3) the autoencoders do not beat PCA"
        in _page_one(data)
    )
    everywhere = _data(_with_yardsticks(lambda d, nc: 1.2))
    assert "; **in all 12 cells the autoencoders do not beat PCA with the same d" in _page_one(everywhere)


def test_networks_that_have_not_learned_are_announced_under_the_title_before_any_verdict():
    """The study's rule: a verdict about autoencoders is worth printing only for networks that have
    learned; where a cell does not beat PCA, the reader meets that under the title, above Table 1."""
    missing = _data(_with_yardsticks(lambda d, nc: 1.08 if (d, nc) in {(20, 1), (5, 1)} else 0.8))
    title = prose.title_markdown(missing, date="2026-12-05")
    assert title.startswith("# ") and "\n\n> **Networks that have not learned:** in 2 of 12 cells" in title
    assert "(at 1.08x PCA's error)" in title and "do not test the original's conclusions" in title
    learned = _data(_with_yardsticks(lambda d, nc: 0.8))
    assert "> " not in prose.title_markdown(learned, date="2026-12-05")


def test_a_model_above_pca_in_a_cell_whose_mean_beats_it_is_counted_on_page_one():
    ae = _with_yardsticks(lambda d, nc: 0.8)
    one = (ae["latent_dim"] == 20) & (ae["num_conv"] == 3) & (ae["seed"] == 0)
    ae.loc[one, "final_test_error"] = PCA[20] * 1.05  # its siblings keep the cell's mean below PCA
    words = _page_one(_data(ae))
    assert "in all 12 cells (cell means; 35 of the 36 models one by one)" in words
    assert "(cell means" not in _page_one(_data(_with_yardsticks(lambda d, nc: 0.8)))


def test_where_says_one_cell_both_cells_or_all_of_them():
    cells = pd.DataFrame({"latent_dim": [5, 10, 20], "num_conv": [1, 1, 1]})
    assert fidelity.where(cells.iloc[:1], cells.iloc[:1]) == "in the one cell"
    assert fidelity.where(cells.iloc[:2], cells.iloc[:2]) == "in both cells"
    assert fidelity.where(cells, cells) == "in all 3 cells"
    assert fidelity.where(cells.iloc[:1], cells) == "in 1 of 3 cells (d=5 with num_conv 1)"


def test_the_reconstructions_caption_names_the_d_it_shows():
    """With the d = 5 run missing the caption still said 'the smallest and the largest d'."""
    two = [
        (
            "Run `d10-nc3-s0` (d=10, num_conv=3, final test error 0.0200): test inputs on top, reconstructions below.",
            0,
        ),
        (
            "Run `d20-nc3-s0` (d=20, num_conv=3, final test error 0.0150): test inputs on top, reconstructions below.",
            0,
        ),
    ]
    said = autoencode.reconstruction_caption(two)
    assert "by the autoencoders of one seed at d=10 and d=20, top: run `d10-nc3-s0`" in said
    assert "smallest" not in said
    one = autoencode.reconstruction_caption(two[:1])
    assert one.startswith(
        "Test inputs (upper row) and their reconstructions (lower row) by the autoencoder at d=10,"
    )


def test_one_of_a_kind_is_said_in_the_singular_and_a_subset_of_every_test_image_is_not_a_subset():
    from constructed import _ae, _good_error

    one = _ae(_good_error, seeds=(0,), ds=(10,), ncs=(2,)).assign(epochs=2, train_size=7000)
    said = autoencode.runs_text(one)
    assert said.startswith("1 autoencoder: d in [10] x num_conv in [2] x 1 seed, trained for 2 epochs")
    assert "The one cell's mean error is at d=10" in autoencode.findings(one)
    assert autoencode._subset_words(
        one.assign(epoch_test_size=2000, test_size=None, dataset="mnist")
    ).startswith(" (before the last epoch on a fixed subset of 2,000 test images")
    assert autoencode._subset_words(one.assign(epoch_test_size=10000, test_size=None, dataset="mnist")) == ""
    assert autoencode._subset_words(one.assign(epoch_test_size=2000, test_size=1000, dataset="mnist")) == ""
