"""Issue 25's levers of the semi-supervised recipe (experiments.semisup.fit): each off by default, so
the default and large profiles train exactly as before them; each, when on, does what it says."""

from __future__ import annotations

import pytest
import torch
from test_semisup import SPACE, TINY, _encoder, _pool, _weights
from torch import nn

from aestudy.experiments.semisup import augmentations
from aestudy.experiments.semisup import fit as semisup_fit
from aestudy.experiments.semisup import run as semisup
from aestudy.experiments.semisup.params import RecipeSpace, SemisupParams
from aestudy.schema import ParamsError, validate
from aestudy.science import artifacts, batched, data, training
from aestudy.science.fitting import augment, derived_seed
from conftest import main_without_test_split

LEVERS = {"ema": 0.9, "strong": "rand", "elastic": 2.0, "align": True, "schedule": "cosine"}


def _fit_before_the_levers(clf, x, y, unlabelled, rec, seed):
    """The training loop as it was before issue 25 (a verbatim copy), to pin the defaults to it; its
    optimiser the one every classifier stage has used since (`training.adamw`: fused AdamW)."""
    opt = training.adamw([{"params": list(clf.parameters()), "lr": rec["lr"]}], rec["weight_decay"])
    gen = torch.Generator().manual_seed(derived_seed("semisup", seed))
    loss, mask = torch.tensor(float("nan")), torch.zeros(1)
    for _ in range(rec["steps"]):
        clf.train()
        pick = torch.randint(0, len(unlabelled), (rec["unlabelled_batch"],), generator=gen).to(
            unlabelled.device
        )
        ub = unlabelled[pick]
        with torch.no_grad():
            prob, pseudo = clf(augment(ub, gen)).softmax(1).max(1)
        mask = (prob >= rec["threshold"]).to(ub.dtype)
        supervised = nn.functional.cross_entropy(clf(augment(x, gen)), y)
        strong = augment(ub, gen, max_shift=4.0, max_degrees=30.0)
        n, size = len(strong), strong.shape[-1]
        centre = torch.randint(0, size, (n, 2), generator=gen)
        grid = torch.arange(size)
        keep = ~(
            ((grid[None, :] - centre[:, :1]).abs() < 5)[:, :, None]
            & ((grid[None, :] - centre[:, 1:]).abs() < 5)[:, None, :]
        )
        strong = strong * keep[:, None].to(strong.dtype)
        consistency = (nn.functional.cross_entropy(clf(strong), pseudo, reduction="none") * mask).mean()
        loss = supervised + rec["unlabelled_weight"] * consistency
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    clf.eval()
    return {"final_loss": float(loss.detach()), "pseudo_label_rate": float(mask.mean())}


@pytest.mark.parametrize(
    "changes", [{}, {"threshold": 0.3, "lr": 1e-2}, {"init": "random", "unlabelled_weight": 0.5}]
)
def test_the_default_levers_train_bit_for_bit_as_the_loop_before_them(changes):
    """The default and large profiles' semisup numbers stay what they were: every lever off gives
    the same weights and summary, bit for bit, as a copy of the loop before issue 25."""
    pool = _pool()
    x, y = pool.images[:20], pool.labels[:20]
    rec = {**semisup.recipe(steps=6, unlabelled_batch=16), **changes}
    new, info = semisup.train(_encoder(), 8, x, y, pool.images, rec, seed=3)
    old = semisup_fit.build(_encoder(), 8, rec, 3)
    old_info = _fit_before_the_levers(old, x, y, pool.images, rec, 3)
    assert all(torch.equal(p, q) for p, q in zip(_weights(new), _weights(old)))
    assert info == old_info


def test_every_lever_changes_training_and_repeats_itself():
    pool = _pool()
    few = pool.labels < 5  # labels of five classes: alignment to their frequencies moves every pseudo-label
    x, y = pool.images[few][:20], pool.labels[few][:20]
    rec = {**TINY, "threshold": 0.0, "lr": 1e-2}  # every pseudo-label counts
    off = _weights(semisup.train(_encoder(), 8, x, y, pool.images, rec, 1)[0])
    for name, value in LEVERS.items():
        a, b = (
            _weights(semisup.train(_encoder(), 8, x, y, pool.images, {**rec, name: value}, 1)[0])
            for _ in range(2)
        )
        assert all(torch.equal(p, q) for p, q in zip(a, b)), name
        assert not all(torch.equal(p, q) for p, q in zip(a, off)), name


def test_the_ema_teacher_is_what_is_returned():
    """A decay that rounds to 0 in float32 makes the teacher the student (the same weights as no
    teacher); a decay near 1 keeps the teacher, so the returned network, near the start."""
    pool, enc = _pool(), _encoder()
    x, y = pool.images[:20], pool.labels[:20]
    rec = {**TINY, "threshold": 0.3, "lr": 1e-2, "steps": 5}
    plain = _weights(semisup.train(enc, 8, x, y, pool.images, rec, 2)[0])
    tiny = _weights(semisup.train(enc, 8, x, y, pool.images, {**rec, "ema": 1e-12}, 2)[0])
    assert all(torch.equal(p, q) for p, q in zip(plain, tiny))
    start = _weights(semisup_fit.build(enc, 8, rec, 2))
    slow = _weights(semisup.train(enc, 8, x, y, pool.images, {**rec, "ema": 0.999999}, 2)[0])
    moved = sum(float((p - q).abs().max()) for p, q in zip(plain, start))
    assert sum(float((p - q).abs().max()) for p, q in zip(slow, start)) < 1e-3 * moved


def test_distribution_alignment_moves_the_pseudo_labels_towards_the_labelled_frequencies():
    target = torch.full((4,), 0.25)
    prob = torch.tensor([[0.7, 0.1, 0.1, 0.1]] * 8)  # a network that favours class 0 everywhere
    running = torch.full((4,), 0.25)
    for _ in range(1000):
        aligned, running = semisup_fit._align(prob, running, target)
    assert torch.allclose(aligned.sum(1), torch.ones(8))
    assert torch.allclose(running, prob[0], atol=1e-3)  # the running mean found the bias
    assert torch.allclose(aligned, torch.full_like(prob, 0.25), atol=1e-3)  # and divided it out
    same, _ = semisup_fit._align(torch.full((8, 4), 0.25), torch.full((4,), 0.25), target)
    assert torch.allclose(same, torch.full((8, 4), 0.25))  # balanced predictions stay as they are


def test_the_strong_augmentations_erase_a_square_and_the_elastic_one_is_smooth():
    x = torch.ones(6, 1, 28, 28)
    for kind in ("erase", "rand"):
        for elastic in (0.0, 2.0):
            out = augmentations.strong_augment(x, torch.Generator().manual_seed(0), kind, elastic)
            again = augmentations.strong_augment(x, torch.Generator().manual_seed(0), kind, elastic)
            assert (
                out.shape == x.shape
                and torch.equal(out, again)
                and 0 <= float(out.min()) <= float(out.max()) <= 1
            )
            assert all((img == 0).sum() >= 25 for img in out)
    with pytest.raises(ValueError, match="'erase' or 'rand'"):
        augmentations.strong_augment(x, torch.Generator(), "cutmix")
    digit = _pool().images[:6]
    assert torch.allclose(
        augmentations.elastic_warp(digit, torch.Generator().manual_seed(1), 0.0), digit, atol=1e-5
    )
    warped = augmentations.elastic_warp(digit, torch.Generator().manual_seed(1), 2.0)
    assert not torch.allclose(warped, digit, atol=1e-2) and float((warped - digit).abs().mean()) < 0.2


def test_the_larger_network_is_conv_small_and_starts_at_random():
    enc = _encoder()
    rec = semisup.recipe(network="conv-small")
    a, b = semisup_fit.build(enc, 8, rec, 4), semisup_fit.build(enc, 8, rec, 4)
    assert isinstance(a, semisup_fit.ConvSmall) and a(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert all(torch.equal(p, q) for p, q in zip(_weights(a), _weights(b)))
    assert not all(
        torch.equal(p, q) for p, q in zip(_weights(a), _weights(semisup_fit.build(enc, 8, rec, 5)))
    )
    assert sum(p.numel() for p in a.parameters()) > 5 * sum(
        p.numel() for p in semisup_fit.build(enc, 8, semisup.recipe(), 4).parameters()
    )


@pytest.mark.parametrize("changes", [LEVERS, {"network": "conv-small", "ema": 0.9, "align": True}])
def test_levers_trained_together_give_what_one_by_one_gives(monkeypatch, changes):
    """The GPU path (vmapped) with the levers on, forced on the CPU: the same curve and summary."""
    pool, held = _pool(8), _pool(3, seed=1)
    rec = semisup.recipe(steps=12, unlabelled_batch=16, lr=1e-2, threshold=0.3, **changes)
    xs, ys = [pool.images[:20], pool.images[20:40]], [pool.labels[:20], pool.labels[20:40]]
    out, heard = {}, {}
    for together in (False, True):
        monkeypatch.setattr(batched, "batch_fits", lambda device, together=together: together)
        points = heard[together] = []
        out[together] = semisup.train_each(
            _encoder(),
            8,
            xs,
            ys,
            pool.images,
            rec,
            [1, 2],
            curve=(
                4,
                held.images,
                held.labels,
                lambda step, accs, points=points: points.extend((i, step, a) for i, a in accs.items()),
            ),
        )
    for together, trained in out.items():  # on_point heard each point as it was measured
        assert sorted(heard[together]) == sorted(
            (i, s, a) for i, (_, info) in enumerate(trained) for s, a in info["curve"]
        )
    for (_, a), (_, b) in zip(out[False], out[True]):
        assert [s for s, _ in a["curve"]] == [s for s, _ in b["curve"]] == [4, 8, 12]
        assert [v for _, v in b["curve"]] == pytest.approx(
            [v for _, v in a["curve"]], abs=1 / len(held.labels) + 1e-9
        )
        assert b["final_loss"] == pytest.approx(a["final_loss"], rel=1e-3)


def test_the_curve_ends_at_the_returned_networks_accuracy():
    pool, held = _pool(8), _pool(3, seed=1)
    rec = {**TINY, "steps": 6, "lr": 1e-2, "ema": 0.5}
    clf, info = semisup.train(
        _encoder(),
        8,
        pool.images[:20],
        pool.labels[:20],
        pool.images,
        rec,
        0,
        curve=(3, held.images, held.labels),
    )
    final = float((semisup.predict(clf, held.images) == held.labels).float().mean())
    assert [s for s, _ in info["curve"]] == [3, 6] and info["curve"][-1][1] == pytest.approx(final)
    assert (
        "curve"
        not in semisup.train(_encoder(), 8, pool.images[:20], pool.labels[:20], pool.images, rec, 0)[1]
    )


def test_a_lever_is_searched_only_where_the_space_lists_it():
    base = semisup.recipe(steps=4, unlabelled_batch=16)
    unlisted = semisup.candidates(base, SPACE, 6)
    listed_none = semisup.candidates(base, {**SPACE, **{k: None for k in LEVERS}, "network": None}, 6)
    assert unlisted == listed_none and all(c["ema"] == 0.0 and c["strong"] == "erase" for c in unlisted)
    searched = semisup.candidates(base, {**SPACE, "ema": [0.0, 0.99], "strong": ["erase", "rand"]}, 40)
    assert {c["ema"] for c in searched} == {0.0, 0.99} and {c["strong"] for c in searched} == {
        "erase",
        "rand",
    }
    with pytest.raises(ParamsError, match="0 <= ema < 1"):
        validate(RecipeSpace, {"ema": [1.0]}, "x")
    with pytest.raises(ParamsError, match="recipe.ema"):
        validate(SemisupParams, {"recipe": {"ema": 1.5}}, "x")


def test_a_lever_recipe_is_chosen_before_a_test_image_is_read(tmp_path, monkeypatch):
    """The stage's `main` with the levers in its space and base recipe: the choice is made (and
    written) before a loader that fails on the test split is asked for it; the evaluation then
    records its compute."""
    from aestudy.experiments.semisup.main import main

    pool = _pool()
    space = {
        **SPACE,
        "ema": [0.9, 0.0],
        "strong": ["rand"],
        "elastic": [2.0],
        "align": [True, False],
        "schedule": None,
        "network": None,
    }
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
        candidates=3,
        cv_steps=2,
        recipe={**TINY, **LEVERS},
        space=space,
        device="cpu",
    )
    with pytest.raises(AssertionError, match="the test split was read"):
        main(params, **kw)
    chosen = artifacts.read_json(tmp_path / "out" / "recipe.json")
    assert chosen["chosen"]["strong"] == "rand" and chosen["selection"]["candidates"] == 3
    monkeypatch.setattr(
        data, "load_split", lambda dataset="mnist", train=True, **kw: pool if train else _pool(2, 1)
    )
    main(params, **kw)
    metrics = artifacts.read_json(tmp_path / "out" / "metrics.json")
    compute = metrics["compute"]
    assert (
        compute["device"] == "cpu" and compute["search_steps"] == 3 * 2 * 2 and compute["steps_per_draw"] == 4
    )
    assert compute["search_seconds"] > 0 and compute["evaluation_seconds"] > 0
    assert {r["method"] for r in metrics["records"]} >= {"semi-supervised", "untuned protocol"}


def test_the_report_names_the_levers_the_compute_and_the_frontier():
    from pathlib import Path

    import pandas as pd

    from aestudy.experiments.semisup import choices
    from aestudy.experiments.semisup import report as section
    from aestudy.report.profile import ProfileData

    df = pd.DataFrame(
        [
            {"method": m, "label_seed": s, "accuracy": a, "train_accuracy": 1.0, "cv_accuracy": None}
            for m, accs in {
                "semi-supervised": [0.991, 0.990, 0.992],
                "untuned protocol": [0.8, 0.8, 0.8],
            }.items()
            for s, a in enumerate(accs)
        ]
    )
    rec = semisup.recipe(steps=8000, unlabelled_batch=448, ema=0.99, strong="rand", align=True)
    metrics = {
        "latent_dim": 10,
        "num_conv": 2,
        "n_pool": 60000,
        "recipe": rec,
        "records": df.to_dict("records"),
        "compute": {
            "device": "cuda",
            "precision": "float32",
            "search_seconds": 120.0,
            "evaluation_seconds": 300.0,
            "search_steps": 24000,
            "steps_per_draw": 8000,
        },
    }
    text = section.markdown(df, metrics)
    assert (
        "with an EMA teacher (decay 0.99), a RandAugment-like strong augmentation, distribution alignment"
        in text
    )
    assert "at or above the 98.9 % this extension aims at" in text
    assert (
        "2.0 min for the search (24,000 training steps) and 5.0 min for the 3 evaluated label draws" in text
    )
    short = section.markdown(df, {**metrics, "compute": {**metrics["compute"], "search_seconds": 42.4}})
    assert "It took 42 s for the search" in short
    assert "on cuda in float32" in text and "elastic" not in text
    assert (
        "It took" not in section.markdown(df, {**metrics, "compute": None})
        and choices.levers_on(semisup.recipe()) == ""
    )
    cands = [
        {**rec, "cv_accuracy": 0.9, "chosen": "True"},
        {**rec, "align": False, "cv_accuracy": 0.8, "chosen": "False"},
    ]
    table = section.recipe_table(cands)
    assert (
        "align" in table and "ema" not in table and "strong" not in table
    )  # levers alike in every candidate: in words
    params = {"stages": {"semisup": {"params": {"recipe": rec, "candidates": 3, "folds": 3}}}}
    rows = choices.choices(ProfileData(Path("."), params=params))
    assert rows[-1]["what"] == "issue 25's levers" and rows[-1]["on what data"] == "held-out training images"
    assert [r["what"] for r in choices.choices(ProfileData(Path("."), params={}))][
        -1
    ] == "semi-supervised budget"


def test_candidate_recipes_trained_together_each_follow_their_own_recipe(monkeypatch):
    """A search's candidates differ in rate, decay, threshold, weight, teacher and start: on a GPU
    they train as one vmapped network (forced here on the CPU), each as it would alone, to rounding."""
    pool, held = _pool(8), _pool(3, seed=1)
    base = semisup.recipe(steps=10, unlabelled_batch=16, strong="rand", align=True)
    recs = [
        {**base, "lr": 1e-2, "threshold": 0.3},
        {**base, "lr": 3e-3, "weight_decay": 1e-2, "threshold": 0.5, "ema": 0.9},
        {**base, "lr": 1e-2, "unlabelled_weight": 0.5, "init": "random", "threshold": 0.2},
        {**base, "lr": 5e-3, "ema": 0.5, "init": "random", "threshold": 0.0},
    ]
    xs = [pool.images[i * 15 : (i + 1) * 15] for i in range(4)]
    ys = [pool.labels[i * 15 : (i + 1) * 15] for i in range(4)]
    out = {}
    for together in (False, True):
        monkeypatch.setattr(batched, "batch_fits", lambda device, together=together: together)
        out[together] = semisup.train_each(
            _encoder().eval(),  # as a stage loads it: pre-trained copies in eval mode, new encoders not
            8,
            xs,
            ys,
            pool.images,
            recs,
            [1, 2, 1, 3],
            curve=(5, held.images, held.labels),
        )
    for (a, info_a), (b, info_b) in zip(out[False], out[True]):
        assert info_b["final_loss"] == pytest.approx(info_a["final_loss"], rel=1e-3)
        assert info_b["pseudo_label_rate"] == pytest.approx(info_a["pseudo_label_rate"], abs=1 / 16 + 1e-9)
        assert [v for _, v in info_b["curve"]] == pytest.approx(
            [v for _, v in info_a["curve"]], abs=1 / len(held.labels) + 1e-9
        )
        for wa, wb in zip(_weights(a), _weights(b)):
            torch.testing.assert_close(wb, wa, rtol=1e-3, atol=1e-4)
    losses = [info["final_loss"] for _, info in out[False]]
    assert len(set(losses)) == 4  # four recipes, four trainings


def test_recipes_that_shape_the_step_differently_train_in_separate_groups(monkeypatch):
    """Only recipes equal in `fit.SHARED` share a vmapped network: `train_each` groups them and
    returns every network in the order given; `fit_together` refuses a mixture outright."""
    pool = _pool(8)
    recs = [
        semisup.recipe(steps=3, unlabelled_batch=8, strong=kind, lr=lr)
        for kind, lr in [("erase", 1e-2), ("rand", 1e-2), ("erase", 3e-3)]
    ]
    xs, ys = [pool.images[:20]] * 3, [pool.labels[:20]] * 3
    calls = []
    real = semisup_fit.fit_together
    monkeypatch.setattr(
        semisup, "fit_together", lambda clfs, *a, **k: calls.append(len(clfs)) or real(clfs, *a, **k)
    )
    monkeypatch.setattr(batched, "batch_fits", lambda device: True)
    together = semisup.train_each(_encoder(), 8, xs, ys, pool.images, recs, [0, 0, 0])
    assert sorted(calls) == [1, 2]
    monkeypatch.setattr(batched, "batch_fits", lambda device: False)
    alone = semisup.train_each(_encoder(), 8, xs, ys, pool.images, recs, [0, 0, 0])
    for (_, a), (_, b) in zip(alone, together):
        assert b["final_loss"] == pytest.approx(a["final_loss"], rel=1e-3)
    clfs = [semisup_fit.build(_encoder(), 8, r, 0) for r in recs]
    with pytest.raises(ValueError, match="equal in"):
        semisup_fit.fit_together(clfs, xs, ys, pool.images, recs, [0, 0, 0])
