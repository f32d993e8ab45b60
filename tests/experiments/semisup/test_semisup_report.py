"""The semi-supervised section's words match what it shows: the published anchors' lines as the
legend draws them, and the budget's data as this profile set it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from aestudy.experiments.semisup import choices
from aestudy.experiments.semisup import report as section
from aestudy.report.profile import ProfileData


def _budget(recipe: dict) -> dict:
    params = {"stages": {"semisup": {"params": {"recipe": recipe, "candidates": 2, "folds": 2}}}}
    return next(
        r
        for r in choices.choices(ProfileData(Path("."), params=params))
        if r["what"] == "semi-supervised budget"
    )


def test_a_budget_set_by_wall_time_is_not_marked_as_chosen_on_the_test_set():
    row = _budget({"steps": 400, "unlabelled_batch": 128})
    assert row["on what data"] == (
        "run times (this profile); test set for full.yaml's earlier budget of 4,000 steps (disclosed)"
    )
    assert _budget({"steps": 4000, "unlabelled_batch": 448})["on what data"] == choices.TEST
    levers = _budget({"steps": 20000, "unlabelled_batch": 448, "ema": 0.99})
    assert levers["on what data"].startswith("held-out training images (this profile); test set for")


def test_the_figure_caption_calls_the_anchors_horizontal_lines_styled_in_the_legend():
    records = pd.DataFrame(
        [
            {"status": "ok", "run_id": "all", "method": m, "label_seed": s, "accuracy": 0.8, "n_labels": 100}
            for m in ("semi-supervised", "finetune")
            for s in (0, 1)
        ]
    )
    data = SimpleNamespace(usable=lambda stage: records, run_metrics=lambda stage, run: None)
    fig, caption = section.accuracy(data)
    assert "Dashed" not in caption and "methods table" not in caption
    assert "Horizontal lines: accuracies published" in caption and "line style (legend below)" in caption
    assert "the next table say which" in caption
    legend = fig.axes[0].get_legend().get_lines()
    assert len(legend) == len(section.PUBLISHED)
    assert len({str(line.get_linestyle()) for line in legend}) == len(legend)  # not all dashed: each its own
    # its axis in %, as the caption, the text and the tables give accuracies
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert ticks and all(t.endswith("%") for t in ticks) and fig.axes[0].get_ylabel() == "test accuracy (%)"
    # an axis that does not start at 0 is said to (the default's started at 77 %, its caption silent)
    lo = 100 * fig.axes[0].get_ylim()[0]
    assert lo > 50 and caption.endswith(f"The accuracy axis starts at {lo:.0f} %, not at 0.")


def test_the_recipe_row_counts_the_candidates_the_search_tried():
    """A search space of 2 recipes with `candidates: 10` tries 2: the row said 'the best of 10'."""
    params = {"stages": {"semisup": {"params": {"candidates": 10, "folds": 2, "recipe": {"steps": 400}}}}}
    runs = pd.DataFrame(
        [
            {
                "run_id": "all",
                "status": "ok",
                "method": m,
                "label_seed": s,
                "accuracy": 0.9,
                "selected_from": 2,
            }
            for s in (0, 1)
            for m in ("semi-supervised", "untuned protocol")
        ]
    )
    data = ProfileData(Path("."), tables={"semisup": runs}, params=params)
    row = next(r for r in choices.choices(data) if r["what"] == "semi-supervised recipe")
    assert row["choice"].startswith("the best of 2 candidates by 2-fold CV")
    before_any_run = ProfileData(Path("."), params=params)
    assert next(r for r in choices.choices(before_any_run) if r["what"] == "semi-supervised recipe")[
        "choice"
    ].startswith("the best of 10 candidates")


def test_one_label_draw_is_said_in_the_singular_and_without_interval_words():
    """A semisup stage of one label draw read 'over 1 label draws', 'the best of the 1 classifiers'
    and '(each a 95 % t-interval over 1 label draw)' right after '(n = 1, no interval)'."""
    t = pd.DataFrame(
        [
            dict(method=m, label_seed=0, accuracy=a)
            for m, a in (("semi-supervised", 0.9), ("untuned protocol", 0.8))
        ]
    )
    m = {
        "n_pool": 7000,
        "recipe": {"steps": 400, "unlabelled_batch": 128},
        "records": [{"label_seed": 0}],
        "compute": {
            "search_seconds": 30,
            "search_steps": 1600,
            "evaluation_seconds": 20,
            "steps_per_draw": 400,
            "device": "cpu",
            "precision": "float32",
        },
    }
    head = section.headline(t)
    assert (
        "over 1 label draw with that one network;" in head
        and "on the same draw, the classifier trained on the labels alone" in head
    )
    text = section.markdown(t, m)
    assert "t-interval over 1 label draw" not in text and "(one label draw)" in text
    assert "over 1 label draw (0 degrees of freedom)" in text and "for the one evaluated label draw" in text


def test_the_headline_says_when_the_best_labelled_only_classifier_ties_another_to_the_digits_printed():
    """'the best of the 3 classifiers trained on the labels alone: finetune 82.7 %' beside an
    augmented control at 82.7 % as well (82.747 against 82.720) named one winner of a tie."""
    from aestudy.experiments.semisup.report import _tied_with

    assert _tied_with(pd.Series({"finetune": 0.82747, "augmented control": 0.82720, "frozen": 0.70})) == (
        " (augmented control prints the same)"
    )
    assert _tied_with(pd.Series({"finetune": 0.83, "augmented control": 0.80})) == ""


def test_page_one_names_the_one_network_the_semisup_interval_is_over_the_label_draws_with():
    """From the run: the recipe cross-validation chose (pre-trained encoder, a random start, or
    Conv-Small) and the encoder's d and num_conv in its table; the seed from the parameter file's uses
    (an int or a one-element list, never a bool)."""
    from types import SimpleNamespace

    from aestudy.experiments.semisup.report import network_words

    def data(recipe: dict, uses: dict, table: dict | None = None):
        cols = table or {"latent_dim": [10], "num_conv": [2]}
        semi = pd.DataFrame({"run_id": ["all"] * len(next(iter(cols.values()))), **cols})
        return SimpleNamespace(
            usable=lambda stage: semi,
            run_metrics=lambda stage, run_id: {"recipe": recipe},
            declared=lambda stage, part: {"autoencode": uses} if part == "uses" else {},
        )

    study = {"network": "study", "init": "pretrained"}
    assert network_words(data(study, {"seed": 0})) == (
        "one pre-trained encoder (d=10, num_conv=2, seed 0) and its classifier head"
    )
    assert network_words(data(study, {"seed": [3]})) == (
        "one pre-trained encoder (d=10, num_conv=2, seed 3) and its classifier head"
    )
    assert network_words(data(study, {"seed": True}, {"latent_dim": [5, 10], "num_conv": [2, 2]})) == (
        "one pre-trained encoder (num_conv=2) and its classifier head"
    )  # two d in the table: none named; a bool is no seed
    assert network_words(data({"network": "study", "init": "random"}, {"seed": 0})) == (
        "the study's classifier from a random start (the architecture of the encoder (d=10, num_conv=2, seed 0))"
    )
    assert network_words(data({"network": "conv-small", "init": "random"}, {})) == (
        "the Conv-Small network (no encoder of experiment 1)"
    )


def test_the_figure_caption_says_which_published_lines_draw_as_one():
    """The ladder (98.94 %), the Γ-model (99.11 %) and the Improved GAN (99.07 %) cannot be told apart
    on an axis from about 77 %: the caption says so, not 'each in its own line' alone. A group is
    measured from its lowest line, so lines a point apart never chain into one."""
    from aestudy.experiments.semisup.report import PUBLISHED, _on_one_line

    assert _on_one_line(PUBLISHED, (0.77, 1.0)) == (
        " The fully connected ladder, Improved GAN and Conv-Small Γ-model (98.94-99.11 %) lie within 0.17 points "
        "of one another (under 2 % of the axis's height): they draw as one line."
    )
    assert _on_one_line(PUBLISHED, (0.98, 0.995)) == ""  # an axis that tall: each its own line
    chain = {"a (A et al. 2001)": 0.9900, "b (B et al. 2002)": 0.9940, "c (C et al. 2003)": 0.9980}
    said = _on_one_line(chain, (0.77, 1.0))  # 0.46 points a group at most: a and b, not c
    assert said.startswith(" The a and b (99.00-99.40 %) lie within 0.40 points") and " c " not in said


def test_a_recipe_that_tied_at_the_top_is_said_to_be_the_first_of_the_tied_not_the_best():
    """large's search: both recipes scored 0.88 and 0.94 on the two folds, and the search's order
    took the base recipe; the tables called it 'best of 2' and 'its accuracy is the best of them'
    (Table 11's cell: tests/report/test_report_sections.py)."""
    cands = [
        {"candidate": 0, "chosen": True, "cv_accuracy": 0.91, "cv_se": 0.03},
        {"candidate": 1, "chosen": False, "cv_accuracy": 0.91, "cv_se": 0.03},
    ]
    assert choices.tied_at_top(cands) == 2
    assert choices.tie_words(cands) == (
        "; here 2 candidates tied at the best CV accuracy, and the search's order (the base recipe first) "
        "took the first of them"
    )
    won = [{**cands[0]}, {**cands[1], "cv_accuracy": 0.85}]
    assert choices.tied_at_top(won) == 0 and choices.tie_words(won) == ""
