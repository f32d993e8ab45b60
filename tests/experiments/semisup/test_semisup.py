"""How far 100 labels go: the semi-supervised recipe, chosen by cross-validation on the labelled
images before any test image is read, compared on experiment 4's own label draws."""

from __future__ import annotations

import pytest
import torch

from aestudy.experiments.protocol import run as protocol
from aestudy.experiments.semisup import run as semisup
from aestudy.experiments.transfer import run as transfer
from aestudy.science import artifacts, data
from aestudy.science.models import AEConfig, AutoEncoder
from conftest import main_without_test_split

SPACE = {
    "lr": [1e-3, 3e-3],
    "weight_decay": [1e-4],
    "threshold": [0.95, 0.5],
    "unlabelled_weight": [1.0, 0.5],
    "init": ["pretrained", "random"],
}
TINY = semisup.recipe(steps=4, unlabelled_batch=16)


def _pool(n_per_class: int = 6, seed: int = 0) -> data.Split:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat(n_per_class)
    x = torch.rand(len(y), 1, 28, 28, generator=g) * 0.2
    for i, c in enumerate(y.tolist()):
        x[i, 0, 2 * c : 2 * c + 6, 4:20] = 1.0
    return data.Split(x, y)


def _encoder(d: int = 4):
    torch.manual_seed(0)
    return AutoEncoder(AEConfig(latent_dim=d, num_conv=1, c_factor=2, fc_hidden=16)).encoder


def _weights(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def test_candidates_are_distinct_recipes_the_base_first():
    for n in (1, 3, 6):
        cands = semisup.candidates(TINY, SPACE, n, seed=0)
        assert cands[0] == TINY and len(cands) == n
        assert len({tuple(sorted(c.items())) for c in cands}) == n
        assert all(
            c["steps"] == TINY["steps"] and c["unlabelled_batch"] == TINY["unlabelled_batch"] for c in cands
        )
    assert semisup.candidates(TINY, SPACE, 6, seed=0) == semisup.candidates(TINY, SPACE, 6, seed=0)
    with pytest.raises(ValueError, match="unknown recipe field"):
        semisup.recipe(stpes=3)


def test_the_strong_augmentation_erases_a_square_of_every_image():
    x = torch.ones(5, 1, 28, 28)
    out = semisup.strong_augment(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    # a square of at most ERASE x ERASE pixels is zero in each image (the rotation zeroes corners too)
    assert all((img == 0).sum() >= min(semisup.ERASE // 2, 5) ** 2 for img in out)


def test_without_a_confident_pseudo_label_the_unlabelled_images_change_nothing():
    """A threshold no probability reaches keeps no pseudo-label: the same weights, bit for bit, as
    giving the unlabelled term no weight."""
    pool = _pool()
    x, y = pool.images[:20], pool.labels[:20]
    a, _ = semisup.train(_encoder(), 8, x, y, pool.images, {**TINY, "threshold": 2.0}, seed=3)
    b, _ = semisup.train(_encoder(), 8, x, y, pool.images, {**TINY, "unlabelled_weight": 0.0}, seed=3)
    c, info = semisup.train(_encoder(), 8, x, y, pool.images, {**TINY, "threshold": 0.0}, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(_weights(a), _weights(b)))
    assert info["pseudo_label_rate"] == 1.0 and not all(
        torch.equal(p, q) for p, q in zip(_weights(a), _weights(c))
    )


def test_training_is_deterministic_and_never_modifies_the_encoder():
    pool, enc = _pool(), _encoder()
    before = _weights(enc)
    runs = [
        semisup.train(enc, 8, pool.images[:20], pool.labels[:20], pool.images, TINY, seed=1)[0]
        for _ in range(2)
    ]
    assert all(torch.equal(p, q) for p, q in zip(_weights(runs[0]), _weights(runs[1])))
    assert all(torch.equal(p, q) for p, q in zip(before, _weights(enc)))
    scratch, _ = semisup.train(
        enc, 8, pool.images[:20], pool.labels[:20], pool.images, {**TINY, "init": "random"}, 1
    )
    assert not torch.equal(scratch.encoder.conv[0].weight, runs[0].encoder.conv[0].weight)


def test_choose_scores_every_candidate_on_validation_folds_and_keeps_the_best():
    pool = _pool()
    choice = semisup.choose(
        _encoder(),
        8,
        pool.images[:40],
        pool.labels[:40],
        pool.images,
        TINY,
        SPACE,
        n_candidates=3,
        n_folds=2,
        seed=0,
        cv_steps=2,
    )
    scores = [c["cv_accuracy"] for c in choice["candidates"]]
    assert len(scores) == 3 and all(len(c["folds"]) == 2 for c in choice["candidates"])
    assert all(c["cv_se"] == pytest.approx(protocol.fold_se(c["folds"])) for c in choice["candidates"])
    assert (
        choice["cv_accuracy"] == max(scores)
        and choice["chosen"] == choice["candidates"][scores.index(max(scores))]["recipe"]
    )
    assert choice["chosen"]["steps"] == TINY["steps"]  # the CV budget is not the final budget
    assert semisup.search_steps(TINY, SPACE, 3, 2, 2) == 3 * 2 * 2
    table = semisup.table(choice)
    assert list(table["chosen"]).count(True) == 1 and len(table) == 3
    assert table["cv_se"].tolist() == [c["cv_se"] for c in choice["candidates"]]


def test_the_comparison_uses_experiment_4s_label_draw_and_untuned_protocol():
    """The 'untuned protocol' row is the transfer run's fine-tuned classifier on the same labelled
    images: the same accuracy, so the differences are paired with experiment 4."""
    pool, test, enc = _pool(8), _pool(3, seed=1), _encoder()
    records = semisup.run(
        enc, pool, test, [0], draw_key=(2, 10, 1), h1=8, n_labels=20, balanced=True, chosen=TINY
    )
    assert [r["method"] for r in records] == ["semi-supervised", "untuned protocol"]
    exp4 = transfer.run(
        enc,
        pool,
        test,
        [8],
        ["finetune"],
        [0],
        n_labels=20,
        protocols={},
        baselines=False,
        device="cpu",
        progress=False,
        draw_key=(2, 10, 1),
    )["records"]
    assert records[1]["accuracy"] == pytest.approx(exp4[0]["accuracy"])
    chosen = {
        "finetune": {"chosen": {"steps": 3}, "cv_accuracy": 0.5},
        "augmented": {"chosen": {"steps": 3, "augment": True}, "cv_accuracy": 0.4},
    }
    methods = [
        r["method"]
        for r in semisup.run(enc, pool, test, [0], (2, 10, 1), 8, 20, True, TINY, protocols=chosen)
    ]
    assert methods == ["semi-supervised", "untuned protocol", "finetune", "augmented control"]


def test_the_semisup_stage_chooses_its_recipe_before_reading_a_test_image(tmp_path, monkeypatch):
    """The stage's `main` (all its notebook runs) with a loader that fails on the test split: it
    fails only once the choice (recipe.json) is written, so the search read no test image; with the
    test split given, the evaluation records the chosen recipe."""
    from aestudy.experiments.semisup.main import main

    pool = _pool()
    params, kw = main_without_test_split(
        "semisup",
        pool,
        tmp_path,
        monkeypatch,
        "the test split was read",
        h1=8,
        n_labels=20,
        label_seeds=[0, 1],
        folds=2,
        candidates=2,
        cv_steps=2,
        recipe=TINY,
        space=SPACE,
        device="cpu",
        precision="bfloat16",
    )  # the default profile's arithmetic
    with pytest.raises(AssertionError, match="the test split was read"):
        main(params, **kw)  # choose, write recipe.json, then read the test split
    chosen = artifacts.read_json(tmp_path / "out" / "recipe.json")
    assert not (tmp_path / "out" / "metrics.json").exists()
    assert set(chosen) == {"chosen", "cv_accuracy", "selection"} and 0 <= chosen["cv_accuracy"] <= 1
    assert chosen["selection"]["candidates"] == 2 and chosen["selection"]["search_label_seed"] == -1
    assert chosen["selection"]["label"].startswith("best of 2 candidates by 2-fold CV")
    monkeypatch.setattr(
        data, "load_split", lambda dataset="mnist", train=True, **kw: pool if train else _pool(2, 1)
    )
    main(params, **kw)
    metrics = artifacts.read_json(tmp_path / "out" / "metrics.json")
    assert {r["label_seed"] for r in metrics["records"]} == {0, 1} and metrics["recipe"] == chosen["chosen"]
    assert {r["method"]: r["selected_from"] for r in metrics["records"]}["semi-supervised"] == 2


def test_the_search_draw_is_left_out_of_the_unlabelled_pool_and_is_no_evaluated_draw():
    pool = _pool(8)
    search = semisup.search_data(pool, encoder=(2, 10, 1), search_label_seed=-1, n_labels=20, balanced=True)
    _, idx = transfer.label_draw(pool.labels, (2, 10, 1), -1, 20, True)
    assert torch.equal(search["x"], pool.images[idx]) and len(search["unlabelled"]) == len(pool.labels) - 20
    # no image of the search draw (so of any validation fold) is in the search's unlabelled pool
    flat = search["unlabelled"].flatten(1)
    assert not any((flat == img.flatten()).all(1).any() for img in search["x"])
    evaluated = [
        set(transfer.label_draw(pool.labels, (2, 10, 1), s, 20, True)[1].tolist()) for s in (0, 1, 2)
    ]
    assert all(e != set(idx.tolist()) for e in evaluated)


def test_a_search_draw_among_the_evaluated_draws_is_refused():
    from aestudy.experiments.semisup.params import SemisupParams
    from aestudy.schema import ParamsError, validate

    with pytest.raises(ParamsError, match="search_label_seed 0 is one of label_seeds"):
        validate(
            SemisupParams,
            {"label_seeds": [0, 1], "search_label_seed": 0},
            "params/x.yaml: stages.semisup.params",
        )
    assert validate(SemisupParams, {"label_seeds": [0, 1]}, "x")["search_label_seed"] == -1


def test_the_published_anchors_are_the_papers_figures():
    """Rasmus et al. 2015: supervised Conv-Small 6.43 % error and Conv-Small Γ-model 0.89 % (Table 2),
    the fully connected ladder 1.06 % (Table 1); Salimans et al. 2016 (Improved GAN): 0.93 %."""
    errors = sorted(round(1 - acc, 4) for acc in semisup.PUBLISHED.values())
    assert errors == [0.0089, 0.0093, 0.0106, 0.0643]
    names = " ".join(semisup.PUBLISHED)
    assert "Table 3" not in names and "Table 1" in names and "Table 2" in names and "Salimans" in names


def _records(acc: dict):
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "method": m,
                "label_seed": s,
                "accuracy": a,
                "train_accuracy": 1.0,
                "cv_accuracy": 0.8 if m != "untuned protocol" else None,
            }
            for m, accs in acc.items()
            for s, a in enumerate(accs)
        ]
    )


def test_the_report_pairs_the_differences_by_label_draw_and_names_the_unit():
    from aestudy.experiments.semisup import report as section

    df = _records(
        {
            "semi-supervised": [0.90, 0.95, 0.93],
            "untuned protocol": [0.70, 0.75, 0.73],
            "augmented control": [0.80, 0.81, 0.79],
        }
    )
    diffs = section.differences(df)
    # paired: the untuned protocol is exactly 20 points behind on every draw, so no spread at all
    assert diffs["untuned protocol"]["mean"] == pytest.approx(0.20) and diffs["untuned protocol"]["n"] == 3
    assert diffs["untuned protocol"]["hi"] - diffs["untuned protocol"]["lo"] == pytest.approx(0, abs=1e-9)
    # a difference of two accuracies lies within ±100 points, however few the draws (smoke: [-111, +66])
    wild = section.differences(_records({"semi-supervised": [0.1, 0.9], "untuned protocol": [0.6, 0.2]}))
    assert wild["untuned protocol"]["lo"] >= -1.0 and wild["untuned protocol"]["hi"] <= 1.0
    table = section.accuracy_table(df)
    assert list(table["method"][:3]) == ["semi-supervised", "untuned protocol", "augmented control"]
    assert set(section.PUBLISHED) <= set(table["method"]) and list(table["label draws"][:3]) == [3, 3, 3]
    text = section.markdown(
        df,
        {"latent_dim": 10, "num_conv": 2, "n_pool": 8000, "recipe": {"steps": 1000, "unlabelled_batch": 256}},
    )
    assert (
        "92.7 %" in text
        and "over 3 label draws" in text
        and "+20.0 [+20.0, +20.0] points against fine-tuning by the untuned protocol" in text
    )
    assert "below the 98.9 % this extension aims at" in text
    assert (
        "autoencoder, trained for 1,000 steps, on 256 of the 8,000 unlabelled" in text
    )  # records without n_labels
    labelled = section.markdown(
        df.assign(n_labels=100),
        {"latent_dim": 10, "num_conv": 2, "n_pool": 8000, "recipe": {"steps": 1000, "unlabelled_batch": 256}},
    )
    assert "trained on the 100 labelled images of each label draw and, for 1,000 steps, on 256" in labelled
    assert (
        "it is below all 4 published numbers: the supervised Conv-Small (93.57 %, which its interval includes), "
        "the fully connected ladder (98.94 %)" in text
    )  # 92.7 [86.4, 98.9]
    mixed = section.against_published({"mean": 0.95, "lo": 0.94, "hi": 0.96}, section.PUBLISHED)
    assert mixed.startswith(
        "against the published numbers, it is above the supervised Conv-Small (93.57 %); below "
    )
    assert mixed.endswith("the Conv-Small Γ-model (99.11 %) and the Improved GAN (99.07 %)")
    assert (
        "on the same draws, the best of the 2 classifiers trained on the labels alone: augmented control 80.0 %"
        in section.headline(df)
    )
    assert section.markdown(df.iloc[0:0], None) == "" and section.headline(df.iloc[0:0]) == ""


def test_the_report_says_why_a_method_coincides_with_the_untuned_protocol():
    """Where fine-tuning's search kept the untuned protocol, its rows equal the untuned protocol's on every
    draw (same seeds, same protocol): the text says so, and says nothing where one draw differs."""
    from aestudy.experiments.semisup import report as section

    accs = {"semi-supervised": [0.9, 0.95, 0.93], "untuned protocol": [0.7, 0.75, 0.73]}
    same = _records({**accs, "finetune": [0.7, 0.75, 0.73]}).assign(final_loss=[0.1, 0.2, 0.3] * 3)
    assert section.same_as_untuned(same) == ["finetune"]
    assert "finetune's classifiers are the untuned protocol's on every draw" in section.markdown(same, None)
    other = same.copy()
    other.loc[(other["method"] == "finetune") & (other["label_seed"] == 2), "final_loss"] = 0.31
    assert section.same_as_untuned(other) == []
    assert "are the untuned protocol's" not in section.markdown(other, None)
    assert section.same_as_untuned(same[same["method"] != "untuned protocol"]) == []
    assert section.same_as_untuned(same.drop(columns="final_loss")) == []  # accuracy alone proves nothing


def test_draws_and_folds_trained_together_give_the_same_records_as_one_by_one(monkeypatch):
    """What a GPU does (the label draws', and each candidate's folds', classifiers as one vmapped
    network), forced on the CPU: the same choice and records as one at a time, to rounding."""
    from aestudy.science import batched

    pool, test, enc = _pool(8), _pool(3, seed=1), _encoder()
    chosen = {
        "finetune": {"chosen": {"steps": 3}, "cv_accuracy": 0.5},
        "augmented": {"chosen": {"steps": 3, "augment": True}, "cv_accuracy": 0.4},
    }
    out = {}
    for together in (False, True):
        monkeypatch.setattr(batched, "batch_fits", lambda device, together=together: together)
        counter = semisup.StepCounter(10**6)
        choice = semisup.choose(
            enc,
            8,
            pool.images[:50],
            pool.labels[:50],
            pool.images,
            {**TINY, "lr": 1e-2},
            SPACE,
            n_candidates=2,
            n_folds=3,
            seed=0,
            cv_steps=30,
            on_step=counter,
        )
        records = semisup.run(
            enc,
            pool,
            test,
            [0, 1],
            (2, 10, 1),
            8,
            20,
            True,
            {**TINY, "steps": 30, "lr": 1e-2, "threshold": 0.3},
            protocols=chosen,
            on_step=counter,
        )
        out[together] = choice, records, counter.done
    (c0, r0, n0), (c1, r1, n1) = out[False], out[True]
    assert n0 == n1 == 2 * 3 * 30 + 2 * 30  # progress counts every model's steps
    folds = [[a for c in choice["candidates"] for a in c["folds"]] for choice in (c0, c1)]
    assert folds[1] == pytest.approx(folds[0], abs=0.06) and max(folds[0]) >= 0.4  # (it learnt something)
    assert [(r["method"], r["label_seed"]) for r in r1] == [(r["method"], r["label_seed"]) for r in r0]
    assert len(r0) == 8
    for a, b in zip(r0, r1):
        assert b["accuracy"] == pytest.approx(a["accuracy"], abs=1 / len(test.labels) + 1e-9)
        assert b["final_loss"] == pytest.approx(a["final_loss"], rel=1e-3)
        assert b["pseudo_label_rate"] == pytest.approx(a["pseudo_label_rate"], abs=1 / 16 + 1e-9)


def test_a_classifier_stage_under_bfloat16_autocasts_every_forward_pass_and_repeats_itself():
    """`training.precision` wraps a whole stage (the notebooks' `precision` parameter): inside it the
    CPU autocasts to bfloat16, outside nothing changes, and the same seeds give the same records."""
    from aestudy.science import training

    pool, test, enc = _pool(8), _pool(3, seed=1), _encoder()
    with training.precision("bfloat16", "cpu"):
        assert torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
        runs = [semisup.run(enc, pool, test, [0], (2, 10, 1), 8, 20, True, TINY) for _ in range(2)]
    assert not torch.is_autocast_enabled("cpu")
    with training.precision("float32", "cpu"):
        assert not torch.is_autocast_enabled("cpu")
    assert runs[0] == runs[1] and all(0 <= r["accuracy"] <= 1 for r in runs[0])


def test_a_classifier_stage_under_bfloat16_learns_as_float32_does():
    """One autocast region spans the whole stage, so its weight cache must be off: with it, every
    forward pass reuses the first step's bfloat16 weights and the classifiers stay at chance."""
    from aestudy.science import training

    pool, enc = _pool(8), _encoder()
    train_acc = {}
    for name in ("float32", "bfloat16"):
        with training.precision(name, "cpu"):
            res = transfer.run(
                enc,
                pool,
                pool,
                [16],
                ["scratch"],
                [0],
                n_labels=40,
                protocols={"scratch": {"chosen": {"steps": 60, "lr": 3e-3}}},
                baselines=False,
                device="cpu",
                progress=False,
                draw_key=(0, 10, 1),
            )
        train_acc[name] = res["records"][0]["train_accuracy"]
    assert train_acc["float32"] >= 0.9 and train_acc["bfloat16"] >= train_acc["float32"] - 0.1, train_acc
    with pytest.raises(ValueError, match="precision must be one of"):
        training.precision("float16", "cpu")


def test_the_anchors_are_credited_to_their_papers_and_compared_under_stated_conditions(tmp_path):
    """Issue 30: the ladder's 98.9 % is the goal, not the best published; each anchor's paper is
    credited (the Improved GAN is Salimans et al. 2016); this run's conditions (unlabelled images,
    steps, one encoder, label draws and their degrees of freedom) and which draw each selection used
    (from the parameter file) stand beside the comparison."""
    import yaml

    from aestudy.experiments.semisup import report as section
    from aestudy.report import profile

    df = _records(
        {
            "semi-supervised": [0.96, 0.965, 0.962],
            "untuned protocol": [0.70, 0.75, 0.73],
            "finetune": [0.8] * 3,
        }
    )
    from pathlib import Path

    params = yaml.safe_load((Path(__file__).resolve().parents[3] / "params" / "default.yaml").read_text())
    metrics = {
        "latent_dim": 10,
        "num_conv": 2,
        "n_pool": 7000,
        "recipe": {"steps": 400, "unlabelled_batch": 128},
    }
    params["stages"]["protocol"]["params"]["label_seeds"] = [0]
    text = section.markdown(df, metrics, params=params)
    assert "frontier" not in text
    assert (
        "not the best published: the Conv-Small Γ-model reports 99.11 % and the Improved GAN reports 99.07 %"
        in text
    )
    assert (
        "this run learns from 7,000 unlabelled training images for 400 steps, from one encoder, over 3 label draws "
        "(2 degrees of freedom)" in text
    )
    assert "the whole training set unlabelled (60,000 images)" in text
    assert "the fully connected ladder trains a permutation-invariant fully connected network" in text
    assert "chosen by cross-validation on label draw 0, which is also evaluated here" in text
    # named: the untuned protocol beside them was chosen by no search
    assert "The protocol of finetune was chosen by cross-validation on label draw 0" in text
    assert "the recipe on draw -1, which is not" in text
    for seeds, said in (
        (
            [0, 1, 2],
            "on label draws 0, 1 and 2, which are also evaluated here (the choice may favour them on those draws)",
        ),
        (
            [0, 5],
            "on label draws 0 and 5, of which label draw 0 is also evaluated here (the choice may favour them on that draw)",
        ),
    ):
        params["stages"]["protocol"]["params"]["label_seeds"] = seeds
        assert said in section.markdown(df, metrics, params=params)
    params["stages"]["protocol"]["params"]["label_seeds"] = [5]  # a search draw no run evaluates
    assert "comparators' protocols were chosen" not in section.markdown(df, metrics, params=params)
    params["stages"]["protocol"]["params"]["label_seeds"] = [0]
    assert "labels (the published results" not in text  # no n_labels recorded: nothing said of it
    # every anchor is at 100 labels: the smoke profile's 20 were left out of the conditions that differ
    twenty = section.markdown(df.assign(n_labels=20), metrics, params=params)
    assert "this run learns from 20 labels (the published results: 100) and 7,000 unlabelled" in twenty
    assert "labels (the published" not in section.markdown(df.assign(n_labels=100), metrics, params=params)
    untuned_only = section.markdown(df[df["method"] != "finetune"], metrics, params=params)
    assert "comparators' protocols were chosen" not in untuned_only  # the untuned protocol is chosen by none
    data = profile.ProfileData(
        tmp_path, tables={"semisup": df.assign(status="ok", run_id="semisup", n_labels=100)}, params=params
    )
    _, caption = section.accuracy(data)
    assert (
        "Rasmus et al. 2015: supervised Conv-Small, fully connected ladder, Conv-Small Γ-model; "
        "Salimans et al. 2016: Improved GAN" in caption
    )
    _, table_caption = section.methods_table(data)
    assert (
        "Improved GAN (Salimans et al. 2016), 100 labels and the whole training set unlabelled"
        in table_caption
    )
