"""science.capture and the three steps built on it, checked on the CPU: torch's capture is replaced by
a stand-in whose replay runs the recorded step again (on the static inputs, writing the gradients
as a replayed graph does, not adding to them), so that what each wrapper does around it (when it
captures, what it copies in before a replay, what it returns, the short last batch, a refused
capture) is tested here. That CUDA replays the recorded kernels is for the CUDA tests
(tests/test_steps.py, tests/test_graphed.py, tests/experiments/autoencode/test_together.py)."""

from __future__ import annotations

import pytest
import torch

from aestudy.experiments.autoencode import together
from aestudy.science import capture, graphed, steps
from aestudy.science.models import AEConfig, AutoEncoder

SMALL = AEConfig(latent_dim=4, num_conv=2, c_factor=4, kernel_size=3, fc_hidden=32)


class ReplayedStep:
    """Stands in for a CUDA graph: `replay()` runs the recorded step again."""

    def __init__(self, record):
        self.record = record

    def replay(self):
        self.record()


@pytest.fixture
def stand_in_capture(monkeypatch):
    """StepGraph without CUDA: eager steps run in place, a capture records the step as a
    `ReplayedStep` (`refuse()` makes the next capture fail as a real one can)."""
    refused = []
    real_capture = capture.StepGraph.capture

    def record(step, device):
        if refused:
            raise RuntimeError(refused[0])
        return ReplayedStep(step)

    def capture_(self, step, opt):
        def written():  # a replayed graph writes the gradients it allocated; it does not add to them
            opt.zero_grad(set_to_none=False)
            step()

        return real_capture(self, written, opt)

    monkeypatch.setattr(capture.StepGraph, "_record", staticmethod(record))
    monkeypatch.setattr(capture.StepGraph, "capture", capture_)
    monkeypatch.setattr(capture.StepGraph, "eager", lambda self, fn, *a, **kw: fn(*a, **kw))
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
    return refused.append


def _images(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def _batches(n: int, batch_size: int, epochs: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    return [idx for _ in range(epochs) for idx in torch.randperm(n, generator=gen).split(batch_size)]


def _train_autoencoder(step_cls, batches, **kw):
    torch.manual_seed(0)
    model = AutoEncoder(SMALL)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    data = _images(100, 1)
    step = step_cls(model, opt, data, **kw)
    losses = [float(step(idx, i)) for i, idx in enumerate(batches)]
    return losses, model, step


def test_the_step_is_eager_then_captured_once_then_replayed_and_trains_as_the_eager_step(stand_in_capture):
    batches = _batches(100, 32, 2, seed=4)  # 3 full batches and a short one per epoch
    eager, eager_model, _ = _train_autoencoder(steps.EagerStep, batches)
    graphed_, model, step = _train_autoencoder(steps.GraphedStep, batches, batch_size=32, eager_steps=2)
    assert graphed_ == eager
    for a, b in zip(model.parameters(), eager_model.parameters()):
        assert torch.equal(a, b)
    # steps 0-2 eager (at least EAGER_BEFORE_CAPTURE), 3 the short batch, 4 captured, 4-6 replayed, 7 short
    assert capture.EAGER_BEFORE_CAPTURE == 3 and step.replays == 3 and step.cuda.captured


def test_a_refused_capture_warns_once_and_every_later_step_stays_eager(stand_in_capture):
    stand_in_capture("no capture here")
    batches = _batches(100, 32, 2, seed=4)
    eager, _, _ = _train_autoencoder(steps.EagerStep, batches)
    with pytest.warns(RuntimeWarning, match=r"capture of the autoencoder's step failed .*no capture here"):
        graphed_, _, step = _train_autoencoder(steps.GraphedStep, batches, batch_size=32)
    assert graphed_ == eager and step.replays == 0 and step.cuda.failed and not step.cuda.captured


def test_the_seeds_of_a_cell_replayed_train_as_they_do_eagerly(stand_in_capture):
    data, k = _images(100, 1), 3

    def train(graphed_step: bool):
        models = together.build(SMALL, list(range(k)))
        params, base = together.stack(models, torch.device("cpu"))
        net = together.Stacked(params, base)
        opt = torch.optim.Adam(params.values(), lr=3e-3)
        step = (
            together.GraphedSeedsStep(net, opt, data, k, 32, eager_steps=4)
            if graphed_step
            else together.EagerSeedsStep(net, opt, data)
        )
        seeds = [_batches(100, 32, 2, seed=s) for s in range(k)]
        losses = [step(torch.stack(idx), i).tolist() for i, idx in enumerate(zip(*seeds))]
        return losses, params, step

    eager, eager_params, _ = train(False)
    replayed, params, step = train(True)
    assert replayed == eager and step.replays == 3  # steps 0-3 eager (3 short), 4 captured, 4-6 replayed
    for name in params:
        assert torch.equal(params[name], eager_params[name]), name


def test_the_classifiers_loop_copies_each_steps_inputs_in_before_a_replay(stand_in_capture, monkeypatch):
    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda self: self)  # no pinned memory without CUDA
    x = torch.randn(64, 5, generator=torch.Generator().manual_seed(0))
    y = x @ torch.arange(1.0, 6.0)

    def train(graphed_loop: bool):
        w = torch.zeros(5, requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.05)

        def step(inputs, scale=1.0):
            idx = inputs["idx"]
            loss = scale * (x[idx] @ w - y[idx]).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss.detach()

        loop = graphed.GraphedLoop(step, opt, torch.device("cpu"), eager_steps=3, graph=graphed_loop)
        if graphed_loop:  # as on CUDA
            loop.cuda = capture.StepGraph(torch.device("cpu"), "the classifiers' step", 3)
        gen = torch.Generator().manual_seed(1)
        losses = [
            float(loop({"idx": torch.randint(0, 64, (16,), generator=gen)}, i, scale=0.5)) for i in range(10)
        ]
        return losses, w, loop

    eager, w_eager, plain = train(False)
    replayed, w, loop = train(True)
    assert plain.graph is None and plain.replays == 0
    assert replayed == eager and torch.equal(w, w_eager)
    assert loop.replays == 7 and loop.graph is not None  # steps 3-9: captured at 3, then replayed
