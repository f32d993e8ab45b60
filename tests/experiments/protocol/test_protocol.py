"""Experiment 4's training protocols: chosen per mode by cross-validation on labelled images,
with the same budget for every mode, never reading the test set."""

from __future__ import annotations

import pytest
import torch

from aestudy.experiments.protocol import run as protocol
from aestudy.experiments.transfer import run as transfer
from aestudy.science import artifacts, data, fitting
from aestudy.science.models import AEConfig, AutoEncoder
from conftest import main_without_test_split

SPACE = {
    "steps": [3, 6],
    "lr": [1e-3, 3e-3],
    "weight_decay": [0.0, 1e-2],
    "augment": [False, True],
    "warmup": [0, 2],
    "encoder_lr": [1.0, 0.1],
}
MODES = ["frozen", "finetune", "scratch", "augmented"]


def _labelled(n_per_class: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat(n_per_class)
    x = torch.rand(len(y), 1, 28, 28, generator=g) * 0.2
    for i, c in enumerate(y.tolist()):
        x[i, 0, 2 * c : 2 * c + 6, 4:20] = 1.0
    return x, y


def _encoder(d: int = 4):
    torch.manual_seed(0)
    return AutoEncoder(AEConfig(latent_dim=d, num_conv=1, c_factor=2, fc_hidden=16)).encoder


def test_every_mode_gets_the_same_number_of_distinct_candidates_the_untuned_protocol_first():
    for n in (1, 3, 5):
        sets = {m: protocol.candidates(m, SPACE, n, seed=0) for m in MODES}
        assert {len(c) for c in sets.values()} == {n}
        for mode, cands in sets.items():
            assert cands[0] == fitting.untuned(mode)
            assert len({tuple(sorted(c.items())) for c in cands}) == n
            assert all(c["warmup"] < c["steps"] for c in cands[1:])
    assert all(
        c["augment"] for c in protocol.candidates("augmented", SPACE, 5)
    )  # the control always augments
    assert all(c["warmup"] == 0 and c["encoder_lr"] == 1.0 for c in protocol.candidates("scratch", SPACE, 5))
    assert protocol.candidates("finetune", SPACE, 4, seed=1) == protocol.candidates(
        "finetune", SPACE, 4, seed=1
    )


def test_folds_are_stratified_disjoint_and_cover_the_labelled_images():
    _, y = _labelled(n_per_class=6)
    folds = protocol.stratified_folds(y, 3, seed=0)
    vals = torch.cat([va for _, va in folds])
    assert sorted(vals.tolist()) == list(range(len(y)))
    for tr, va in folds:
        assert not set(tr.tolist()) & set(va.tolist())
        assert torch.bincount(y[va], minlength=10).tolist() == [2] * 10
    with pytest.raises(ValueError):
        protocol.stratified_folds(y, 1, seed=0)


@pytest.mark.parametrize("together", [False, True])
def test_the_search_reports_progress_fit_by_fit_up_to_its_total(monkeypatch, together):
    """Every candidate of a draw is cross-validated in one call, so the progress bar counts fold
    fits: one at a time on the CPU, a group at a time on a GPU (forced here), ending at the total."""
    from aestudy import progress_file
    from aestudy.science import batched

    heard = []
    monkeypatch.setattr(progress_file, "report", lambda done, total, unit: heard.append((done, total, unit)))
    monkeypatch.setattr(batched, "batch_fits", lambda device: together)
    x, y = _labelled()
    draws = [{"encoder": _encoder(), "x": x, "y": y, "seed": s} for s in (0, 1)]
    protocol.run(draws, ["finetune", "scratch"], 8, SPACE, n_candidates=3, n_folds=2)
    total = protocol.search_size(["finetune", "scratch"], SPACE, 3, 2) * 2
    assert heard[-1] == (total, total, "fold fit") and total == 2 * 3 * 2 * 2
    assert [d for d, _, _ in heard] == sorted(d for d, _, _ in heard)  # it only grows
    if together:  # a report per group of candidates of one shape, at least one per (mode, draw)
        assert 2 * 2 <= len(heard) < total
    else:  # a report per fit
        assert len(heard) == total


def test_the_best_cross_validation_accuracy_wins_and_ties_keep_the_earlier(monkeypatch):
    scores = iter([[0.5, 0.5], [0.7, 0.9], [0.8, 0.8]] + [[0.6, 0.6]] * 3)
    monkeypatch.setattr(protocol, "cross_validate_each", lambda *a, **k: [next(scores) for _ in a[5]])
    x, y = _labelled()
    out = protocol.run(
        [{"encoder": _encoder(), "x": x, "y": y, "seed": 0}], ["finetune", "scratch"], 8, SPACE, 3, 2
    )
    fin = out["finetune"]
    assert fin["cv_accuracy"] == pytest.approx(0.8) and fin["chosen"] == fin["candidates"][1]["protocol"]
    assert out["scratch"]["chosen"] == fitting.untuned("scratch")  # a tie: the untuned protocol stays


def test_every_candidate_records_its_folds_and_their_standard_error(monkeypatch):
    assert protocol.fold_se([0.7, 0.9]) == pytest.approx(0.1)  # sd 0.1414 / sqrt 2
    assert protocol.fold_se([0.6, 0.7, 0.8]) == pytest.approx(0.1 / 3**0.5)
    assert protocol.fold_se([0.5]) is None
    scores = iter([[0.5, 0.5], [0.7, 0.9], [0.8, 0.8]] * 2)
    monkeypatch.setattr(protocol, "cross_validate_each", lambda *a, **k: [next(scores) for _ in a[5]])
    x, y = _labelled()
    draw = {"encoder": _encoder(), "x": x, "y": y, "seed": 0}
    fin = protocol.run([draw], ["finetune"], 8, SPACE, 3, 2)["finetune"]
    assert [c["cv_folds"] for c in fin["candidates"]] == [[0.5, 0.5], [0.7, 0.9], [0.8, 0.8]]
    assert [c["cv_se"] for c in fin["candidates"]] == pytest.approx([0.0, 0.1, 0.0])
    two = protocol.run([draw, {**draw, "seed": 1}], ["finetune"], 8, SPACE, 1, 2)[
        "finetune"
    ]  # folds of every draw
    assert two["candidates"][0]["cv_folds"] == [0.5, 0.5, 0.7, 0.9]
    assert protocol.table({"finetune": fin})["cv_se"].tolist() == pytest.approx([0.0, 0.1, 0.0])


def test_frozen_training_never_changes_the_encoder_even_with_augmentation():
    enc = _encoder()
    x, y = _labelled()
    for aug in (False, True):
        clf = transfer.build_classifier(enc, 8, "frozen", seed=0)
        before = {k: v.clone() for k, v in clf.encoder.state_dict().items()}
        fitting.fit(clf, "frozen", x, y, {"steps": 4, "augment": aug}, seed=0)
        assert all(torch.equal(before[k], v) for k, v in clf.encoder.state_dict().items())


def test_the_warmup_trains_the_head_alone():
    enc = _encoder()
    x, y = _labelled()
    clf = transfer.build_classifier(enc, 8, "finetune", seed=0)
    before = {k: v.clone() for k, v in clf.encoder.state_dict().items()}
    head = {k: v.clone() for k, v in clf.head.state_dict().items()}
    fitting.fit(clf, "finetune", x, y, {"steps": 3, "warmup": 3}, seed=0)
    assert all(torch.equal(before[k], v) for k, v in clf.encoder.state_dict().items())
    assert not all(torch.equal(head[k], v) for k, v in clf.head.state_dict().items())
    fitting.fit(clf, "finetune", x, y, {"steps": 3, "warmup": 1}, seed=0)
    assert not all(torch.equal(before[k], v) for k, v in clf.encoder.state_dict().items())


def test_augmentation_shifts_and_rotates_but_keeps_the_ink():
    x, _ = _labelled()
    g = torch.Generator().manual_seed(0)
    a = fitting.augment(x, g)
    assert a.shape == x.shape and not torch.equal(a, x)
    assert (a.sum((1, 2, 3)) / x.sum((1, 2, 3))).sub(1).abs().max() < 0.35


def test_the_same_protocol_and_seed_give_the_same_classifier():
    x, y = _labelled()
    runs = []
    for _ in range(2):
        clf, loss = transfer.train_mode(_encoder(), "augmented", 8, x, y, seed=3, protocol={"steps": 4})
        runs.append((loss, clf.state_dict()))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])


def test_the_protocol_stage_reads_no_test_image(tmp_path, monkeypatch):
    """The protocol stage's `main` (all its notebook runs) with a loader that fails on the test split."""
    from aestudy.experiments.protocol.main import main

    x, y = _labelled(n_per_class=6)
    params, kw = main_without_test_split(
        "protocol",
        data.Split(x, y),
        tmp_path,
        monkeypatch,
        "the protocol stage read the test split",
        h1=8,
        n_labels=20,
        folds=2,
        candidates=2,
        space={**SPACE, "steps": [2]},
        precision="bfloat16",
    )
    main(params, **kw)  # choose, write protocol.json
    chosen = artifacts.read_json(tmp_path / "out" / "protocol.json")
    assert set(chosen) == set(MODES) and all(0 <= c["cv_accuracy"] <= 1 for c in chosen.values())
    assert transfer.protocols_from([str(tmp_path / "out" / "protocol.json")]) == chosen


def test_a_protocol_run_per_mode_chooses_exactly_what_one_run_for_every_mode_does(tmp_path):
    """A grid over `modes` splits the search into runs side by side: each mode's search owns its
    random streams, so the split changes no score, and the transfer runs merge the per-mode files."""
    x, y = _labelled()
    draws = [{"encoder": _encoder(), "x": x, "y": y, "seed": 5}]
    space = {**SPACE, "steps": [2, 3]}
    together = protocol.run(draws, MODES, 8, space, 2, 2, seed=1)
    alone = {m: protocol.run(draws, m, 8, space, 2, 2, seed=1)[m] for m in reversed(MODES)}
    assert alone == together
    paths = []
    for m, res in alone.items():
        paths.append(str(tmp_path / f"{m}.json"))
        artifacts.write_json(paths[-1], {m: {"chosen": res["chosen"], "cv_accuracy": res["cv_accuracy"]}})
    assert transfer.protocols_from(paths) == {
        m: {"chosen": r["chosen"], "cv_accuracy": r["cv_accuracy"]} for m, r in together.items()
    }
    with pytest.raises(ValueError, match="'frozen' has a protocol in both"):
        transfer.protocols_from([paths[-1], paths[-1]])
