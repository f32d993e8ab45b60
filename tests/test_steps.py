"""science.steps: where a training step is captured as a CUDA graph, and that the CPU never is."""

from __future__ import annotations

import pytest
import torch

from aestudy.experiments.autoencode import run as train
from aestudy.science import steps
from aestudy.science.models import AEConfig, AutoEncoder

SMALL = AEConfig(latent_dim=4, num_conv=2, c_factor=4, kernel_size=3, fc_hidden=32)


def _images(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_graphs_are_used_on_cuda_with_adam_only_and_can_be_turned_off(monkeypatch):
    monkeypatch.delenv("AESTUDY_EAGER", raising=False)
    assert steps.use_graph(torch.device("cuda"), "adam")
    assert not steps.use_graph(torch.device("cuda"), "sgd")
    assert not steps.use_graph(torch.device("cpu"), "adam")
    assert not steps.use_graph(torch.device("mps"), "adam")
    monkeypatch.setenv("AESTUDY_EAGER", "1")
    assert not steps.use_graph(torch.device("cuda"), "adam")


def test_cpu_training_is_the_plain_loop_bit_for_bit():
    """The step object changes nothing on the CPU: the same weights as the loop written out
    (seeded permutation, batch sliced by index, MSE, fused Adam, a shorter last batch)."""
    x, test_x = _images(70, 0), _images(16, 1)
    torch.manual_seed(0)
    model = AutoEncoder(SMALL)
    bare = AutoEncoder(SMALL)
    bare.load_state_dict(model.state_dict())
    hist = train.run(model, x, test_x, epochs=2, batch_size=32, lr=3e-3, seed=5, device="cpu", progress=False)
    opt = torch.optim.Adam(bare.parameters(), lr=3e-3, fused=True)
    g = torch.Generator().manual_seed(5)
    for _ in range(2):
        for idx in torch.randperm(len(x), generator=g).split(32):
            xb = x[idx]
            loss = torch.nn.functional.mse_loss(bare(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    assert hist["graph_replays"] == 0
    for (name, a), b in zip(model.state_dict().items(), bare.state_dict().values()):
        assert torch.equal(a, b), name


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_graphed_step_trains_like_the_eager_one_on_cuda(monkeypatch):
    """Tolerance: the final test error within 2 % of the eager loop's (cuDNN's backward is not
    bit-deterministic on a GPU, so equality cannot be asked)."""
    x, test_x = _images(1000, 0), _images(200, 1)
    errors, replays = {}, {}
    for flag in ("1", "0"):  # AESTUDY_EAGER: 1 eager, 0 graphed
        monkeypatch.setenv("AESTUDY_EAGER", flag)
        torch.manual_seed(0)
        model = AutoEncoder(SMALL)
        hist = train.run(
            model,
            x,
            test_x,
            epochs=3,
            batch_size=64,
            lr=3e-3,
            seed=0,
            device="cuda",
            progress=False,
            warmup_steps=5,
        )
        errors[flag], replays[flag] = hist["test_error"][-1], hist["graph_replays"]
    assert replays["1"] == 0 and replays["0"] == 3 * (1000 // 64) - 5
    assert errors["0"] == pytest.approx(errors["1"], rel=0.02)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_step_that_cannot_be_captured_trains_eagerly_with_a_warning(monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("capture refused")

    monkeypatch.delenv("AESTUDY_EAGER", raising=False)
    monkeypatch.setattr(torch.cuda, "graph", refuse)
    torch.manual_seed(0)
    model = AutoEncoder(SMALL)
    with pytest.warns(RuntimeWarning, match="capture refused"):
        hist = train.run(
            model,
            _images(300, 0),
            _images(50, 1),
            epochs=2,
            batch_size=64,
            lr=3e-3,
            seed=0,
            device="cuda",
            progress=False,
        )
    assert hist["graph_replays"] == 0 and hist["test_error"][-1] < hist["test_error"][0]
