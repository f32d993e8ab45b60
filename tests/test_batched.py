"""science.batched: classifiers trained together (vmapped) follow the one-by-one arithmetic."""

from __future__ import annotations

import copy

import pytest
import torch

from aestudy.experiments.transfer import run as transfer
from aestudy.science import batched, fitting
from aestudy.science.models import AEConfig, Encoder

CFG = AEConfig(latent_dim=4, num_conv=2, c_factor=2, kernel_size=3, fc_hidden=16)


def _draws(sizes, seed=0):
    g = torch.Generator().manual_seed(seed)
    xs = [torch.rand(n, 1, 28, 28, generator=g) for n in sizes]
    ys = [torch.arange(n) % 10 for n in sizes]
    return xs, ys


def _one_by_one(encoder, mode, xs, ys, protocol, seeds):
    clfs, losses = [], []
    for x, y, s in zip(xs, ys, seeds):
        clf = transfer.build_classifier(encoder, 8, mode, s)
        losses.append(fitting.fit(clf, mode, x, y, protocol, s))
        clfs.append(clf)
    return clfs, losses


@pytest.mark.parametrize(
    "mode, protocol",
    [
        ("frozen", {"steps": 12, "lr": 3e-3}),
        ("frozen", {"steps": 6, "augment": True}),
        ("finetune", {"steps": 10, "lr": 3e-3, "warmup": 4, "encoder_lr": 0.3, "weight_decay": 1e-2}),
        ("scratch", {"steps": 8, "lr": 3e-3}),
        ("augmented", {"steps": 6}),
    ],
)
def test_classifiers_trained_together_match_each_trained_alone(mode, protocol):
    torch.manual_seed(0)
    encoder = Encoder(CFG)
    before = copy.deepcopy(encoder.state_dict())
    xs, ys, seeds = *_draws([30, 27, 30]), [3, 4, 5]  # unequal sizes: the padding is masked out
    alone, alone_losses = _one_by_one(encoder, mode, xs, ys, protocol, seeds)
    together = [transfer.build_classifier(encoder, 8, mode, s) for s in seeds]
    losses = batched.fit_together(together, mode, xs, ys, protocol, seeds)
    assert losses == pytest.approx(alone_losses, rel=1e-4, abs=1e-6)
    for a, b, x in zip(alone, together, xs):
        for (name, wa), wb in zip(a.state_dict().items(), b.state_dict().values()):
            torch.testing.assert_close(wb, wa, rtol=1e-4, atol=1e-5, msg=name)
        assert torch.equal(transfer.predict(a, x), transfer.predict(b, x))
        assert not b.training
        assert all(q.requires_grad == (mode != "frozen") for q in b.encoder.parameters())
    fresh = transfer.build_classifier(encoder, 8, mode, seeds[0]).head[0].weight
    assert not torch.allclose(together[0].head[0].weight, fresh)  # it did train
    assert all(
        torch.equal(v, encoder.state_dict()[k]) for k, v in before.items()
    )  # the source encoder untouched


def test_frozen_classifiers_trained_on_given_codes_match_codes_computed_here():
    torch.manual_seed(1)
    encoder = Encoder(CFG)
    xs, ys = _draws([20, 20], seed=1)
    feats = [fitting.encode(encoder, x) for x in xs]
    a = [transfer.build_classifier(encoder, 8, "frozen", s) for s in (0, 1)]
    b = [transfer.build_classifier(encoder, 8, "frozen", s) for s in (0, 1)]
    la = batched.fit_together(a, "frozen", xs, ys, {"steps": 5}, [0, 1], features=feats)
    lb = batched.fit_together(b, "frozen", xs, ys, {"steps": 5}, [0, 1])
    assert la == pytest.approx(lb, rel=1e-5)


def test_fits_are_batched_on_cuda_only_and_can_be_turned_off(monkeypatch):
    monkeypatch.delenv("AESTUDY_EAGER", raising=False)
    assert batched.batch_fits(torch.device("cuda"))
    assert not batched.batch_fits(torch.device("cpu"))
    monkeypatch.setenv("AESTUDY_EAGER", "1")
    assert not batched.batch_fits(torch.device("cuda"))


class _Split:
    def __init__(self, n: int, g: torch.Generator):
        self.images, self.labels = torch.rand(n, 1, 28, 28, generator=g), torch.arange(n) % 10


def test_a_transfer_run_with_its_label_draws_trained_together_gives_the_same_records(monkeypatch):
    """What a GPU does (every (h1, mode) group of label draws as one vmapped network), forced on
    the CPU: the same records as one by one, to rounding."""
    torch.manual_seed(0)
    encoder = Encoder(CFG)
    g = torch.Generator().manual_seed(0)
    train, test = _Split(300, g), _Split(100, g)
    protocols = {"finetune": {"chosen": {"steps": 7, "warmup": 2, "augment": True}, "cv_accuracy": 0.5}}
    runs = {}
    for together in (False, True):
        monkeypatch.setattr(batched, "batch_fits", lambda device, together=together: together)
        runs[together] = transfer.run(
            encoder,
            train,
            test,
            [8, 16],
            ["frozen", "finetune", "scratch"],
            [0, 1],
            n_labels=30,
            protocols=protocols,
            baselines=False,
            device="cpu",
            progress=False,
            draw_key=(3, 10, 1),
        )["records"]
    assert len(runs[True]) == len(runs[False]) == 12
    for a, b in zip(runs[False], runs[True]):
        assert {k: a[k] for k in ("h1", "mode", "label_seed", "cv_accuracy")} == {
            k: b[k] for k in ("h1", "mode", "label_seed", "cv_accuracy")
        }
        assert b["accuracy"] == pytest.approx(a["accuracy"], abs=0.011)  # at most one test image of 100
        # seven steps amplify the kernels' rounding: 0.46 % apart for one draw on an AVX2 CPU at one
        # thread (the batched and the separate matmuls sum in different orders), 1e-7 at two threads
        assert b["final_loss"] == pytest.approx(a["final_loss"], rel=1e-2)


def test_cross_validation_with_its_folds_trained_together_gives_the_same_scores(monkeypatch):
    from aestudy.experiments.protocol import run as protocol

    torch.manual_seed(0)
    encoder = Encoder(CFG)
    (x,), (y,) = _draws([40], seed=2)
    folds = protocol.stratified_folds(y, 3, seed=0)  # 14 / 13 / 13 validation images: unequal training sets
    scores = {}
    for together in (False, True):
        monkeypatch.setattr(batched, "batch_fits", lambda device, together=together: together)
        scores[together] = protocol.cross_validate(
            encoder, "finetune", 8, x, y, {"steps": 6, "warmup": 2, "lr": 3e-3}, folds, seed=1
        )
    assert scores[True] == pytest.approx(scores[False], abs=1 / 13 + 1e-9)


@pytest.mark.parametrize("mode", ["frozen", "finetune", "scratch"])
def test_candidate_protocols_that_differ_in_rates_and_decay_train_together_each_as_alone(mode):
    """A search's candidates of one shape (steps, augmentation, warm-up) train as one vmapped
    network, each with its own rate, encoder rate and decay: each as `fitting.fit` trains it."""
    torch.manual_seed(0)
    encoder = Encoder(CFG)
    shape = {"steps": 8, "augment": mode != "frozen", "warmup": 3 if mode == "finetune" else 0}
    protocols = [
        {**shape, "lr": 3e-3, "weight_decay": 0.0, "encoder_lr": 1.0},
        {**shape, "lr": 1e-3, "weight_decay": 1e-2, "encoder_lr": 0.3},
        {**shape, "lr": 1e-2, "weight_decay": 1e-4, "encoder_lr": 0.1},
    ]
    xs, ys = _draws([30, 27, 30])
    seeds = [3, 3, 5]
    alone = [transfer.build_classifier(encoder, 8, mode, s) for s in seeds]
    alone_losses = [
        fitting.fit(c, mode, x, y, p, s) for c, x, y, p, s in zip(alone, xs, ys, protocols, seeds)
    ]
    together = [transfer.build_classifier(encoder, 8, mode, s) for s in seeds]
    losses = batched.fit_together(together, mode, xs, ys, protocols, seeds)
    assert losses == pytest.approx(alone_losses, rel=1e-4, abs=1e-6)
    assert len({round(v, 4) for v in alone_losses}) == 3  # three protocols, three trainings
    for a, b in zip(alone, together):
        for (name, wa), wb in zip(a.state_dict().items(), b.state_dict().values()):
            torch.testing.assert_close(wb, wa, rtol=1e-4, atol=1e-5, msg=name)


def test_protocols_of_different_shapes_train_in_separate_groups_in_the_order_given(monkeypatch):
    torch.manual_seed(0)
    encoder = Encoder(CFG)
    protocols = [
        {"steps": 4},
        {"steps": 6, "lr": 3e-3},
        {"steps": 4, "lr": 1e-2},
        {"steps": 4, "augment": True},
    ]
    xs, ys = _draws([20] * 4)
    calls = []
    real = batched.fit_together
    monkeypatch.setattr(
        batched, "fit_together", lambda clfs, *a, **k: calls.append(len(clfs)) or real(clfs, *a, **k)
    )
    losses = {}
    for together in (False, True):
        monkeypatch.setattr(batched, "batch_fits", lambda device, together=together: together)
        clfs = [transfer.build_classifier(encoder, 8, "scratch", s) for s in range(4)]
        losses[together] = batched.fit_each(clfs, "scratch", xs, ys, protocols, [0, 1, 2, 3])
    assert sorted(calls) == [1, 1, 2]
    assert losses[True] == pytest.approx(losses[False], rel=1e-4)
    with pytest.raises(ValueError, match="equal in"):
        real(
            [transfer.build_classifier(encoder, 8, "scratch", s) for s in range(4)],
            "scratch",
            xs,
            ys,
            protocols,
            [0] * 4,
        )


def test_a_search_with_its_candidates_trained_together_chooses_as_one_by_one(monkeypatch):
    """`protocol.run` cross-validates every candidate on a draw in one call: on a GPU (forced here)
    the candidates of one shape share a vmapped network; the scores agree to rounding."""
    from aestudy.experiments.protocol import run as protocol

    torch.manual_seed(0)
    encoder = Encoder(CFG)
    (x,), (y,) = _draws([40], seed=2)
    space = {"steps": [4, 6], "lr": [1e-3, 3e-3, 1e-2], "weight_decay": [0.0, 1e-2], "encoder_lr": [1.0, 0.3]}
    draws = [{"encoder": encoder, "x": x, "y": y, "seed": 7}]
    out = {}
    for together in (False, True):
        monkeypatch.setattr(batched, "batch_fits", lambda device, together=together: together)
        out[together] = protocol.run(draws, ["finetune", "scratch"], 8, space, n_candidates=5, n_folds=3)
    for mode in ("finetune", "scratch"):
        a, b = out[False][mode]["candidates"], out[True][mode]["candidates"]
        assert [c["protocol"] for c in a] == [c["protocol"] for c in b] and len(a) == 5
        for ca, cb in zip(a, b):
            assert cb["cv_folds"] == pytest.approx(ca["cv_folds"], abs=1 / 13 + 1e-9)
