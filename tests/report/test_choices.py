"""What the report discloses (issue 21, item 4, the report's side): every choice with how and on
what data it was made, choices made on test numbers marked, selected numbers labelled as selected,
and the one cell the protocols were tuned on said beside the h1 and d verdicts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from aestudy.experiments.transfer import report as transfer
from aestudy.experiments.transfer import summaries as transfer_data
from aestudy.report import choices, profile, verdicts

REPO = Path(__file__).resolve().parents[2]
UNTUNED = {"steps": 100, "lr": 1e-3, "weight_decay": 0.0, "augment": False, "warmup": 0, "encoder_lr": 1.0}


def _data(tables=None) -> profile.ProfileData:
    params = yaml.safe_load((REPO / "params" / "default.yaml").read_text())
    return profile.ProfileData(REPO / "reports" / "nowhere", tables=tables or {}, params=params)


def _transfer() -> pd.DataFrame:
    rows = [
        {
            "run_id": f"d{d}-nc2-s{s}",
            "status": "ok",
            "latent_dim": d,
            "num_conv": 2,
            "seed": s,
            "h1": float(h),
            "mode": m,
            "label_seed": 0,
            "n_labels": 100,
            "n_test": 10000,
            "accuracy": 0.7 + 0.01 * d / 5 + 0.01 * s + 0.001 * h / 100 + 0.05 * (m == "finetune"),
            "train_accuracy": 1.0,
            "cv_accuracy": 0.7,
        }
        for d in (5, 10)
        for s in (0, 1, 2)
        for h in (200, 650)
        for m in ("frozen", "finetune")
    ]
    return pd.DataFrame(rows)


def test_every_choice_says_how_and_on_what_data_and_test_set_choices_are_marked():
    t, caption = choices.table(_data())
    assert list(t.columns) == choices.COLUMNS and t.notna().all().all() and f"The {len(t)} choices" in caption
    on_test = t[t["on what data"].str.startswith("test set (disclosed")]
    for what in ("semi-supervised method", "reference classifier", "verdict rules"):
        assert what in set(on_test["what"]), what
    rules = on_test[on_test["what"] == "verdict rules"].iloc[
        0
    ]  # the seed as the unit: chosen with test tables known
    assert "benchmarks/verdict_calibration.py" in rules["how it was made"]
    budget = t[t["what"] == "semi-supervised budget"].iloc[0]  # the default's: set by run times
    assert budget["on what data"].startswith("run times (this profile)"), budget["on what data"]
    # said of any profile's own budget, not of "the default and large profiles'" (smoke read that of its own)
    assert budget["how it was made"].startswith("by wall time only (the profile's time budget); full.yaml's")

    warmup = t[t["what"] == "learning-rate warm-up"].iloc[0]
    assert (
        warmup["choice"] == "warmup_steps = 100" and "first noticed on the test set" in warmup["on what data"]
    )
    protocol = t[t["what"].str.startswith("transfer protocols")].iloc[0]
    assert "d=10, num_conv=2, seed 0, h1=650, label draws 0/1" in protocol["how it was made"]
    assert "labelled training images only" in protocol["on what data"]


def test_the_semisup_budget_says_how_each_profile_set_its_own():
    from aestudy.experiments.semisup.choices import EARLIER_FULL, budget_how

    assert budget_how({"steps": 400, "unlabelled_batch": 128}).startswith("by wall time only")
    assert "on the test set" in budget_how(dict(zip(("steps", "unlabelled_batch"), EARLIER_FULL)))
    full = budget_how({"steps": 20000, "unlabelled_batch": 448, "ema": 0.99, "strong": "rand", "align": True})
    assert full.startswith("as full.yaml's since issue 25: from the curve of accuracy against steps"), full


def test_the_decoder_s_start_is_a_choice_made_on_held_out_training_images_or_pytorch_s_own():
    def row(data) -> pd.Series:
        t, _ = choices.table(data)
        return t.set_index("what").loc["where the decoder's output starts"]

    default = row(_data())  # default.yaml's
    assert default["choice"] == "output_bias = mean" and default["on what data"] == "held-out training images"
    assert "every (d, num_conv) cell tried" in default["how it was made"]
    data = _data()
    data.params["stages"]["autoencode"]["params"]["output_bias"] = "torch"
    torch_start = row(data)
    assert torch_start["choice"] == "output_bias = torch" and torch_start["on what data"] == "none"
    assert "PyTorch's default initialisation" in torch_start["how it was made"]


def test_a_warm_up_that_was_not_benchmarked_is_not_said_to_be_the_one_that_was():
    """The smoke profile's warmup_steps = 10 read "shorter warm-ups let a seed's encoder collapse and this
    one did not": only 0, 50 and 100 were benchmarked, and 10 is shorter than the 100 chosen."""

    def how(data) -> str:
        t, _ = choices.table(data)
        return t.set_index("what").loc["learning-rate warm-up", "how it was made"]

    assert "not benchmarked" not in how(_data())  # default.yaml's 100
    data = _data()
    data.params["stages"]["autoencode"]["params"]["warmup_steps"] = 10
    assert (
        "warm-ups shorter than 100 steps (0, 50) let a seed's encoder collapse and 100 did not; this "
        "profile's 10 was not benchmarked" in how(data)
    )


def test_the_protocols_cell_is_said_beside_the_experiment_4_verdicts_it_can_bias():
    """h1 and d: the cell may favour itself; a difference of two modes, averaged over d and h1: at
    the other d and h1 one mode's protocol may suit less well than the other's (the default's
    fine-tuning lead came mostly from d = 5, where frozen did worst with the protocol chosen at d = 10;
    a search over every d's encoders chose the same protocols there, so it may, not must)."""
    v = verdicts.verdicts(_data({"transfer": _transfer()}))
    note = "chosen on one cell (d=10, num_conv=2, seed 0, h1=650, label draws 0/1)"
    assert (
        note in v.at["h1_matters_little", "this run's numbers"]
        and note in v.at["larger_d_better", "this run's numbers"]
    )
    for claim in ("finetune_beats_frozen", "pretraining_beats_scratch", "pretraining_beats_control"):
        assert v.at[claim, "note"].startswith(
            "every mode's protocol was chosen on one cell (d=10, num_conv=2, seed 0, h1=650, label draws 0/1): at the "
            "other h1 and d one mode's protocol may suit less well than another's"
        ), v.at[claim, "note"]
    assert "chosen on" not in v.at["beats_baselines", "this run's numbers"]  # the baselines have no protocol
    assert "d=10, num_conv=2" in choices.limitations(_data({"transfer": _transfer()}))
    # an inconclusive row says what would decide it, which is not always a number of seeds
    from aestudy.experiments import about

    assert "each such row says what would decide it (more seeds, or another design" in about.limitations(4)


def test_the_limitations_set_the_degrees_of_freedom_against_the_study_s_minimum():
    """STUDY.md asks for at least 8 per verdict in the default and full profiles: a profile short of
    it says so, and how many seeds would reach it; one that meets it says that instead."""
    from aestudy.experiments import about

    assert (
        "each interval has 3 degrees of freedom, fewer than the 8 per verdict that the study's specification asks "
        "of its default and full profiles: over the seeds that takes 9 of them"
    ) in about.limitations(4)
    assert "each interval has 8 degrees of freedom, at least the 8 per verdict" in about.limitations(9)


def test_selected_numbers_are_labelled_as_selected_and_carry_no_interval():
    data = _data({"transfer": _transfer()})
    words = transfer.text(data)
    best = words[words.index("The best of") :]
    assert best.startswith(
        "The best of the 8 configurations (d × mode × h1, each averaged over its encoders) by test accuracy is"
    )
    assert "selected on the test set" in best and "[" not in best.split("Chance")[0]
    table, caption = transfer_data.accuracy_by_mode(data)
    assert "cross-validation (selected)" in table.columns and "selected" in caption
    # one number per mode, the search's: the seeds' interval of the other columns is not its
    assert caption.split("Cross-validation: ")[1].startswith("one number per mode, the protocol search's")
    assert caption.endswith("no interval.")
    protocol = pd.DataFrame(
        [
            {
                "mode": "frozen",
                "candidate": i,
                "chosen": i == 1,
                "cv_accuracy": 0.6 + 0.05 * i,
            }
            | UNTUNED
            for i in range(5)
        ]
    )
    chosen = transfer_data.chosen_protocols(protocol)
    assert chosen["CV accuracy"].tolist() == ["65.0 %"]


def _derived_seed_purposes() -> set[str]:
    """The first argument of every derived_seed(...) call in the science code (the shared science
    and every experiment's package)."""
    import ast

    out = set()
    lib = REPO / "lib" / "aestudy"
    for path in [*(lib / "science").rglob("*.py"), *(lib / "experiments").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "derived_seed"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                out.add(node.args[0].value)
    return out


def test_the_seed_sentence_says_what_the_code_seeds_from_a_models_seed():
    """Issue 30: the seed also sets the label draws, the interpolation image pairs and the
    controls' initialisations; the sentence is made from the table of derived seeds, which names
    every purpose the science code derives a seed for."""
    from aestudy.experiments.interpolate import run as interpolation
    from aestudy.experiments.transfer import run as science_transfer

    assert _derived_seed_purposes() == set(choices.derived_seeds())
    # the two that reach images: different autoencoder seeds draw different labelled images and image pairs
    assert choices.derived_seeds()["label-draw"][1] and choices.derived_seeds()["interpolate-pairs"][1]
    encoders = [(s, d, 2) for s in (0, 1) for d in (5, 10)]  # every encoder its own draw
    assert len({science_transfer.label_draw_seed(e, 0) for e in encoders}) == 4
    assert (
        interpolation.pair_seed(0, 0, 1)
        != interpolation.pair_seed(0, 1, 1)
        != interpolation.pair_seed(0, 1, 2)
    )
    row = choices.table(_data())[0].set_index("what").loc["which images", "choice"]
    assert (
        "sets only" not in row and "initialisation and batch order and, through seeds derived from it" in row
    )
    for words in ("labelled images", "test image pairs", "scratch and augmented controls"):
        assert words in row, words


def test_each_search_prints_its_standard_error_and_says_when_the_choice_is_inside_the_noise():
    from aestudy.experiments.semisup import choices as semisup_choices
    from aestudy.experiments.semisup import report as semisup
    from aestudy.report.text import selection_noise

    # protocol: frozen's chosen candidate (0.72, se 0.046) leads 0.69 by 3 points: inside the noise;
    # scratch's (0.80, se 0.01) leads 0.60 by 20 points
    rows = [
        {
            "mode": "frozen",
            "candidate": i,
            "chosen": i == 1,
            "cv_accuracy": a,
            "cv_se": 0.046,
            "steps": 100,
            "lr": 1e-3,
            "weight_decay": 0.0,
            "augment": False,
            "warmup": 0,
            "encoder_lr": 1.0,
            "folds": 3,
            "n_labels": 100,
            "h1": 650,
        }
        for i, a in enumerate([0.69, 0.72])
    ]
    rows += [
        {**rows[0], "mode": "scratch", "candidate": i, "chosen": i == 0, "cv_accuracy": a, "cv_se": 0.01}
        for i, a in enumerate([0.80, 0.60])
    ]
    # augmented's chosen one has an error of 0 (2 folds that agree): its 1-point lead over a candidate
    # whose error is 1 point is inside the noise all the same
    rows += [
        {**rows[0], "mode": "augmented", "candidate": i, "chosen": i == 0, "cv_accuracy": a, "cv_se": se}
        for i, (a, se) in enumerate([(0.80, 0.0), (0.79, 0.01)])
    ]
    t = transfer_data.chosen_protocols(pd.DataFrame(rows))
    assert t["CV accuracy"].tolist() == ["72.0 % ± 4.6", "80.0 % ± 1.0", "80.0 % ± 0.0"]
    assert t["lead over runner-up"].tolist() == ["3.0 (inside noise)", "20.0", "1.0 (inside noise)"]
    assert (
        "In 2 of 3 modes (frozen, augmented) the selection is inside the noise"
        in transfer_data.noise_words(pd.DataFrame(rows))
    )
    # two candidates with the same score: the first was taken, by the list's order, not by the data
    tied = [{**r, "cv_accuracy": 0.7527} for r in rows[:2]]
    t_tied = transfer_data.chosen_protocols(pd.DataFrame(tied))
    assert t_tied["lead over runner-up"].tolist() == ["0.0 (inside noise: a tie)"]
    said = transfer_data.noise_words(pd.DataFrame(tied))
    assert "In the one mode (frozen) the selection is inside the noise" in said  # not "1 of 1 modes"
    assert (
        "A tie (frozen): candidates with the same CV accuracy, the first in the search's order taken." in said
    )
    assert "A tie" not in transfer_data.noise_words(pd.DataFrame(rows))
    old = transfer_data.chosen_protocols(
        pd.DataFrame(rows).drop(columns="cv_se")
    )  # runs from before the errors
    assert (
        "lead over runner-up" not in old
        and transfer_data.noise_words(pd.DataFrame(rows).drop(columns="cv_se")) == ""
    )

    assert selection_noise([0.69, 0.72], [0.05, 0.046], 1, "recipe") == (
        "Cross-validation standard error over folds: 4.6 points for the chosen recipe (4.6–5.0 points over the "
        "recipes); the chosen recipe (72.0 %) leads the runner-up (69.0 %) by 3.0 points, within one standard "
        "error of that difference (6.8 points, both recipes' errors combined): the selection is inside the noise."
    )
    assert "more than one standard error" in selection_noise([0.9, 0.7], [0.02, 0.02], 0)
    # a standard error over 2 folds rests on 1 degree of freedom: said, since it reads as firmer than it is
    two = selection_noise([0.8, 0.85], [0.0, 0.01], 1, "recipe", folds=2)
    assert (
        "(0.0–1.0 points over the recipes; over 2 folds each standard error rests on 1 degree of freedom, "
        "a rough guide)" in two
    )
    # the same errors for every recipe (no range to give): the aside stands alone, not after a stray ';'
    even = selection_noise([0.91, 0.91], [0.03, 0.03], 0, "recipe", folds=2)
    assert (
        "for the chosen recipe (over 2 folds each standard error rests on 1 degree" in even
        and "(;" not in even
    )
    assert "rough guide" not in selection_noise([0.8, 0.85], [0.0, 0.01], 1, "recipe", folds=3)
    # a tie is no lead: the first of the tied candidates was taken by the search's order
    assert (
        "the chosen recipe (80.0 %) ties with the runner-up, the first of them in the search's order taken, "
        "within one standard error" in selection_noise([0.8, 0.8], [0.01, 0.01], 0, "recipe")
    )
    # 2 folds that agree give the chosen one an error of 0: its lead of one image in 100 is still noise
    assert "by 1.0 points, within one standard error of that difference (1.0 points" in selection_noise(
        [0.80, 0.79], [0.0, 0.01], 0, "recipe"
    )
    assert selection_noise([0.9, 0.7], [None, None], 0) == ""
    cands = [
        {"cv_accuracy": 0.69, "cv_se": 0.05, "chosen": False, "lr": 1e-3, "cv_folds": [0.64, 0.74]},
        {"cv_accuracy": 0.72, "cv_se": 0.046, "chosen": True, "lr": 3e-3, "cv_folds": [0.674, 0.766]},
    ]
    words = semisup.search_noise(cands, {"cv_steps": 1000}, {"steps": 3000})
    assert "leads the runner-up (69.0 %) by 3.0 points, within one standard error" in words
    assert (
        "ranking was made at 1,000 training steps per candidate and is not checked at the final 3,000"
        in words
    )
    assert "not checked" not in semisup.search_noise(cands, {"cv_steps": 400}, {"steps": 400})
    table = semisup.recipe_table(cands)
    assert table["cross-validation"].tolist() == ["69.0 % ± 5.0", "72.0 % ± 4.6"] and "cv_folds" not in table
    semi = _data()
    semi.params["stages"]["semisup"]["params"].update(cv_steps=1000)
    semi.params["stages"]["semisup"]["params"]["recipe"]["steps"] = 3000
    row = [c for c in semisup_choices.choices(semi) if c["what"] == "semi-supervised recipe"][0]
    assert "the ranking was made at 1,000 training steps" in row["how it was made"]


def test_the_choices_print_as_one_block_per_choice_across_the_page():
    data = _data()
    t, _ = choices.table(data)
    html = choices.blocks(data)
    assert html.count('<div class="choice-block') == len(t) and "<table" not in html
    assert html.count("choice-block on-test") == sum(t["on what data"].str.startswith("test set"))
    assert ".." not in html.replace("...", "")


def test_the_best_autoencoder_cell_is_labelled_as_selected_on_the_test_set():
    from aestudy.experiments.autoencode import report as autoencode
    from constructed import _ae, _good_error

    words = autoencode.findings(_ae(_good_error))
    best = words[words.index("The lowest of the 12 cells' mean errors") :]
    assert "selected on the test set, so biased downwards" in best and "(the next, d=" in best


def _frozen_protocol_rows() -> pd.DataFrame:
    """A protocol stage's records of frozen's search: two candidates, the first chosen."""
    return pd.DataFrame(
        [
            {
                "status": "ok",
                "mode": "frozen",
                "candidate": i,
                "chosen": i == 0,
                "cv_accuracy": 0.7,
                "cv_se": 0.01,
            }
            | UNTUNED
            | {"folds": 3, "n_labels": 100, "h1": 650, "label_seed": 0}
            for i in range(2)
        ]
    )


def test_the_protocol_table_names_the_cell_and_draw_it_was_tuned_on():
    _, caption = transfer_data.protocols(_data({"protocol": _frozen_protocol_rows()}))
    assert (
        "of each of 2 label draws, on one cell (d=10, num_conv=2, seed 0, h1=650, label draws 0/1)" in caption
    )
    assert "per encoder" not in caption and "every encoder's draw" not in caption


def test_protocols_searched_on_several_label_draws_say_how_many_and_which():
    from aestudy.experiments.transfer import choices as transfer_choices

    data = _data({"protocol": _frozen_protocol_rows()})
    data.params["stages"]["protocol"]["params"]["label_seeds"] = [0, 1, 2]
    where = "one cell (d=10, num_conv=2, seed 0, h1=650, label draws 0/1/2)"
    assert transfer_choices.tuned_on(data) == where
    assert (
        f"100 labelled training images of each of 3 label draws, on {where},"
        in transfer_data.protocols(data)[1]
    )
    assert "± its standard error over the folds of every draw. " in transfer_data.protocols(data)[1]
    data.params["stages"]["protocol"]["uses"] = {"autoencode": {"num_conv": 2, "seed": 0}}
    assert transfer_choices.draws_of(data) == "each of 3 label draws of each encoder"
    assert transfer_choices.tuned_on(data).endswith("h1=650, label draws 0/1/2 of each)")
    old = data.params["stages"]["protocol"]["params"]  # runs made before 2026-12-07 recorded one label_seed
    old.pop("label_seeds")
    old["label_seed"] = 4
    assert transfer_choices.tuned_label_seeds(old) == [4] and transfer_choices.draws_of(data) == (
        "each encoder's label draw"
    )
    assert "several label draws" not in transfer_choices.choices(data)[0]["how it was made"]
    old["label_seeds"] = [0, 1]
    assert (
        "; several label draws since 2026-12-07, their number set on held-out training images"
        in (transfer_choices.choices(data)[0]["how it was made"])
    )


def test_the_protocol_table_counts_the_label_draws_each_choice_leads_on_its_own(tmp_path):
    """With several label draws a choice can win the mean while leading no draw on its own: the
    table says on how many it leads (from the run's fold accuracies, each draw's folds in turn)."""
    import json

    rows = _frozen_protocol_rows().assign(run_id="frozen")  # two candidates, the first chosen
    data = profile.ProfileData(tmp_path, tables={"protocol": rows}, params=_data().params)
    run = tmp_path / "runs" / "protocol" / "frozen"
    run.mkdir(parents=True)
    metrics = {"folds": 3, "candidates": 2, "records": rows.drop(columns="run_id").to_dict("records")}
    table, caption = transfer_data.protocols(data)
    assert transfer_data.DRAWS_LED not in table  # no fold accuracies recorded: nothing said per draw
    folds = {
        "frozen": [[0.7, 0.7, 0.7, 0.9, 0.9, 0.9], [0.8, 0.8, 0.8, 0.6, 0.6, 0.6]]
    }  # draw 0 to the second
    (run / "metrics.json").write_text(json.dumps(metrics | {"cv_folds": folds}))
    assert transfer_data.draws_led(data) == {"frozen": (1, 2)}
    table, caption = transfer_data.protocols(data)
    assert list(table[transfer_data.DRAWS_LED]) == ["1 of 2"]
    assert "Draws led: on how many of the label draws, each scored on its own, the chosen protocol" in caption
    tied = {"frozen": [[0.7] * 6, [0.7] * 6]}  # a tie goes to the earlier candidate, as in the search
    (run / "metrics.json").write_text(json.dumps(metrics | {"cv_folds": tied}))
    assert transfer_data.draws_led(data) == {"frozen": (2, 2)}
    one = {"frozen": [[0.7] * 3, [0.8] * 3]}  # one draw: nothing to count
    (run / "metrics.json").write_text(json.dumps(metrics | {"cv_folds": one}))
    assert transfer_data.draws_led(data) == {}


def test_fewer_images_encoded_than_the_original_are_said_to_be_fewer():
    from aestudy.experiments.correlate import report as correlate
    from aestudy.experiments.correlate.params import CorrelateParams

    assert correlate.ORIGINAL_IMAGES == CorrelateParams().n_images  # the stage's default is the original's
    data = _data()
    data.params["stages"]["correlate"]["params"]["n_images"] = 4000
    [row] = correlate.choices(data)
    assert (
        row["choice"]
        == "4,000 of the autoencoders' own training images, fewer than the original's 8,000 (the profile's budget)"
    )
    data.params["stages"]["correlate"]["params"]["n_images"] = 8000
    assert "fewer" not in correlate.choices(data)[0]["choice"]
    corr = pd.DataFrame({"n_encoded": [4000, 4000], "seed": [0, 1]})
    assert correlate.runs_text(corr).startswith(
        "4,000 training images (the original: 8,000) were encoded by each of 2"
    )


def test_the_protocols_cell_note_names_only_the_factors_the_transfer_runs_vary():
    from aestudy.experiments.transfer.choices import tuned_note

    tr = _transfer()
    one_h1 = _data({"transfer": tr[tr["h1"] == tr["h1"].min()]})
    assert tuned_note(_data({"transfer": tr})).endswith("over the other h1 and d")
    assert tuned_note(one_h1).endswith("which may favour that cell over the other d")
    single = tr[(tr["h1"] == tr["h1"].min()) & (tr["latent_dim"] == tr["latent_dim"].min())]
    assert tuned_note(_data({"transfer": single})) == ""


def test_the_seed_sentence_of_a_study_whose_experiments_derive_no_seed(monkeypatch):
    """A study of one experiment that declares no derived seed still says what a model's seed sets."""
    monkeypatch.setattr(choices, "derived_seeds", lambda: {})
    assert choices.seed_sentence() == "a model's seed sets its initialisation and batch order"
    monkeypatch.setattr(choices, "derived_seeds", lambda: {"p": ("its pairs", True)})
    assert choices.seed_sentence().endswith("through seeds derived from it, its pairs")


def test_protocols_tuned_on_every_d_are_not_said_to_favour_one_cell_over_the_other_d():
    """full.yaml tunes the protocols on the encoders of every d (`uses: {autoencode: {num_conv: 2,
    seed: 0}}`): the report said they were chosen on one cell, which may favour it over the other d."""
    from aestudy.experiments.transfer import choices as transfer_choices

    data = _data({"transfer": _transfer()})
    data.params["stages"]["protocol"]["uses"] = {"autoencode": {"num_conv": 2, "seed": 0}}
    where = transfer_choices.tuned_on(data)
    assert where == "4 encoders (d=5/10/15/20, num_conv=2, seed 0, h1=650, label draws 0/1 of each)"
    assert transfer_choices.untuned(data) == ["h1"]
    assert transfer_choices.tuned_note(data) == (
        f"every mode's protocol was chosen on {where}, which may favour those encoders over the other h1"
    )
    assert (
        f"In experiment 4 every protocol was chosen on {where} and then used at every h1 the runs have,"
        in (choices.limitations(data))
    )
    data.tables["protocol"] = _frozen_protocol_rows()
    _, caption = transfer_data.protocols(data)
    assert f"100 labelled training images of each of 2 label draws of each encoder, on {where}," in caption


def test_a_mode_whose_search_space_is_smaller_is_counted_as_tried_not_as_asked():
    """A search over `augment` alone gives the augmented control one candidate (it always augments):
    the caption said 'the same number of candidates per mode' and 'in every mode the chosen protocol
    leads', where augmented had no runner-up."""
    from aestudy.experiments.protocol.run import candidates
    from aestudy.experiments.transfer import choices as transfer_choices

    space = dict(
        steps=[100], lr=[1e-3], weight_decay=[0.0], augment=[False, True], warmup=[0], encoder_lr=[1.0]
    )
    rows = [
        dict(status="ok", mode=m, **c, cv_accuracy=0.6 + 0.1 * i, cv_se=0.02, chosen=i == len(cs) - 1)
        | {"folds": 3, "n_labels": 100, "h1": 650, "label_seed": 0}
        for m in ("frozen", "finetune", "scratch", "augmented")
        for cs in [candidates(m, space, 5)]
        for i, c in enumerate(cs)
    ]
    data = _data({"protocol": pd.DataFrame(rows)})
    t, caption = transfer_data.protocols(data)
    assert (
        "among 2 candidates for frozen, 2 candidates for finetune, 2 candidates for scratch, 1 candidate for augmented"
        in caption
    )
    assert "the same number for every mode" not in caption
    assert "No runner-up for augmented: one candidate only." in caption
    assert "In every mode with a runner-up (frozen, finetune, scratch) the chosen protocol leads" in caption
    row = transfer_choices.choices(data)[0]
    assert row["choice"].startswith("the best of 1-2 candidates per mode")


def test_the_replication_row_says_when_a_declared_seed_has_no_completed_model():
    def row(tables) -> str:
        t, _ = choices.table(_data(tables))
        return t.set_index("what").loc["replication", "choice"]

    ae = pd.DataFrame(
        [
            {
                "run_id": f"d5-nc1-s{s}",
                "status": "ok",
                "latent_dim": 5,
                "num_conv": 1,
                "seed": s,
                "final_test_error": 0.03,
            }
            for s in (0, 1, 3)
        ]
    )
    assert (
        row({"autoencode": ae})
        == "4 autoencoder seeds (0, 1, 2, 3); models of only 3 of them (0, 1, 3) completed"
    )
    full = pd.concat([ae, ae.iloc[:1].assign(seed=2, run_id="d5-nc1-s2")])
    assert row({"autoencode": full}) == "4 autoencoder seeds (0, 1, 2, 3)"


def test_the_raw_pixel_claims_changed_rule_is_disclosed_as_made_after_test_accuracies():
    """The raw-pixel claim was decided at the largest d alone until a default run had been seen;
    STUDY.md's disclosure rule: a choice made after a test score is listed, with the data it saw."""
    t, _ = choices.table(_data({}))
    row = t.set_index("what").loc["raw-pixel claim (pre-training against the baselines)"]
    assert row["choice"].startswith("decided on the mean over the cells (d, and num_conv where several)")
    assert "largest d alone" in row["how it was made"] and row["on what data"].startswith("test set")
