"""experiments.autoencode.together: the seeds of one cell trained in one step give each seed what
separate training (train.run) gives it, to float rounding."""

from __future__ import annotations

import pytest
import torch
from test_train import TEST_X, _images

from aestudy.experiments.autoencode import run as train
from aestudy.experiments.autoencode import together as seeds_together
from aestudy.science import steps
from aestudy.science.models import AEConfig, AutoEncoder

SMALL = AEConfig(latent_dim=4, num_conv=2, c_factor=4, kernel_size=3, fc_hidden=32)
TRAIN_X = _images(200, 3)  # 200 images at batch 32: six full batches and a short one per epoch
SEEDS = [0, 1, 2]


def _separate(seed: int, monkeypatch, **kw) -> tuple[dict, dict]:
    """train.run on one model, recording the loss of every step."""
    losses = []

    class Recording(steps.EagerStep):
        def __call__(self, idx, step):
            loss = super().__call__(idx, step)
            losses.append(float(loss))
            return loss

    monkeypatch.setattr(train, "EagerStep", Recording)
    train.setup(seed)
    model = AutoEncoder(SMALL)
    hist = train.run(model, TRAIN_X, TEST_X, batch_size=32, seed=seed, device="cpu", progress=False, **kw)
    hist["step_loss"] = losses
    return model.state_dict(), hist


@pytest.mark.parametrize(
    "kw",
    [
        dict(epochs=3, optimizer="adam", lr=3e-3, warmup_steps=5),
        dict(
            epochs=2, optimizer="sgd", lr=0.05, schedule="cosine", warmup_steps=3, monitor_images=TEST_X[:8]
        ),
    ],
    ids=["adam-warmup", "sgd-cosine-monitor"],
)
def test_each_seed_trains_as_it_would_alone(kw, monkeypatch):
    models = seeds_together.build(SMALL, SEEDS)
    together = seeds_together.run_together(
        models,
        SEEDS,
        TRAIN_X,
        TEST_X,
        batch_size=32,
        device="cpu",
        record_steps=True,
        val_images=TEST_X[:16],
        **kw,
    )
    for seed, model, hist in zip(SEEDS, models, together):
        state, alone = _separate(seed, monkeypatch, val_images=TEST_X[:16], **kw)
        assert len(hist["step_loss"]) == len(alone["step_loss"]) == kw["epochs"] * 7
        torch.testing.assert_close(
            torch.tensor(hist["step_loss"]), torch.tensor(alone["step_loss"]), rtol=1e-4, atol=1e-6
        )
        for key in ("train_error", "test_error", "val_error"):
            assert hist[key] == pytest.approx(alone[key], rel=1e-4), key
        assert hist["epoch"] == alone["epoch"]
        for name, value in model.state_dict().items():
            torch.testing.assert_close(value, state[name], rtol=1e-4, atol=1e-5, msg=name)
    # the seeds really differ (own initialisation and batch order)
    assert together[0]["step_loss"] != together[1]["step_loss"]


def test_unstack_round_trips_and_refuses_mixed_architectures():
    models = seeds_together.build(SMALL, [5, 6])
    params, _ = seeds_together.stack(models, torch.device("cpu"))
    for model, state in zip(models, seeds_together.unstack(params)):
        assert state.keys() == model.state_dict().keys()
        for name, value in model.state_dict().items():
            assert torch.equal(value, state[name])
    other = AutoEncoder(AEConfig(latent_dim=5, num_conv=2, c_factor=4, kernel_size=3, fc_hidden=32))
    with pytest.raises(ValueError):
        seeds_together.stack([models[0], other], torch.device("cpu"))
    with pytest.raises(ValueError, match="one seed per model"):
        seeds_together.run_together(models, [5], TRAIN_X, TEST_X, epochs=1, device="cpu")


def test_the_existing_single_model_path_is_untouched():
    """The batched path is opt-in: train.run's numbers do not depend on this module being used."""
    train.setup(0)
    a = AutoEncoder(SMALL)
    h1 = train.run(a, TRAIN_X, TEST_X, epochs=1, batch_size=32, seed=0, device="cpu", progress=False)
    seeds_together.run_together(
        seeds_together.build(SMALL, [0, 1]), [0, 1], TRAIN_X, TEST_X, epochs=1, batch_size=32, device="cpu"
    )
    train.setup(0)
    b = AutoEncoder(SMALL)
    h2 = train.run(b, TRAIN_X, TEST_X, epochs=1, batch_size=32, seed=0, device="cpu", progress=False)
    assert h1["train_error"] == h2["train_error"] and h1["test_error"] == h2["test_error"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_graphed_batched_step_trains_like_separate_eager_training_on_cuda(monkeypatch):
    monkeypatch.setenv("AESTUDY_EAGER", "0")
    models = seeds_together.build(SMALL, SEEDS)
    together = seeds_together.run_together(
        models, SEEDS, TRAIN_X, TEST_X, epochs=3, batch_size=32, device="cuda", warmup_steps=5, lr=3e-3
    )
    assert together[0]["graph_replays"] > 0
    monkeypatch.setenv("AESTUDY_EAGER", "1")
    for seed, hist in zip(SEEDS, together):
        train.setup(seed)
        alone = train.run(
            AutoEncoder(SMALL),
            TRAIN_X,
            TEST_X,
            epochs=3,
            batch_size=32,
            seed=seed,
            device="cuda",
            progress=False,
            warmup_steps=5,
            lr=3e-3,
        )
        assert hist["test_error"][-1] == pytest.approx(alone["test_error"][-1], rel=0.02)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_refused_capture_of_the_batched_step_trains_eagerly(monkeypatch):
    monkeypatch.setenv("AESTUDY_EAGER", "0")

    def refuse(*a, **k):
        raise RuntimeError("no capture here")

    monkeypatch.setattr(torch.cuda, "graph", refuse)
    models = seeds_together.build(SMALL, [0, 1])
    with pytest.warns(RuntimeWarning, match="training eagerly"):
        hist = seeds_together.run_together(
            models, [0, 1], TRAIN_X, TEST_X, epochs=1, batch_size=32, device="cuda"
        )
    assert hist[0]["graph_replays"] == 0 and hist[0]["test_error"][-1] > 0
