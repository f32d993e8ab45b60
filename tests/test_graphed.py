"""science.graphed: the classifier stages' step as a function of drawn numbers, replayable from a
CUDA graph. On the CPU the step function run eagerly gives what the loop before it gave; the
capture itself is tested on CUDA only."""

from __future__ import annotations

import contextlib
import copy

import pytest
import torch

from aestudy.experiments.semisup import augmentations
from aestudy.experiments.semisup import fit as semisup_fit
from aestudy.experiments.semisup import run as semisup
from aestudy.experiments.transfer import run as transfer
from aestudy.science import batched, fitting, graphed
from aestudy.science.models import AEConfig, Encoder

CFG = AEConfig(latent_dim=4, num_conv=2, c_factor=2, kernel_size=3, fc_hidden=16)
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _draws(sizes, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    xs = [torch.rand(n, 1, 28, 28, generator=g).to(device) for n in sizes]
    ys = [(torch.arange(n) % 10).to(device) for n in sizes]
    return xs, ys


def _encoder(device="cpu"):
    torch.manual_seed(0)
    return Encoder(CFG).to(device)


def test_affine_from_drawn_numbers_is_augment_exactly():
    x = torch.rand(9, 1, 28, 28)
    for shift, degrees in ((2.0, 10.0), (4.0, 30.0)):
        a = fitting.augment(x, torch.Generator().manual_seed(3), max_shift=shift, max_degrees=degrees)
        d = graphed.affine_draws(9, torch.Generator().manual_seed(3))
        assert torch.equal(graphed.affine(x, *d, max_shift=shift, max_degrees=degrees), a)


@pytest.mark.parametrize("kind, elastic", [("erase", 0.0), ("rand", 0.0), ("rand", 1.5), ("erase", 2.0)])
def test_strong_augmentation_from_drawn_numbers_is_the_strong_augmentation(kind, elastic):
    x = torch.rand(16, 1, 28, 28)
    a = augmentations.strong_augment(x, torch.Generator().manual_seed(5), kind, elastic)
    gen = torch.Generator().manual_seed(5)
    d = augmentations.strong_draws(16, gen, kind, elastic)
    torch.testing.assert_close(augmentations.strong_apply(x, d, kind, elastic), a, rtol=0, atol=1e-6)
    # and the generator is left where strong_augment leaves it
    ref = torch.Generator().manual_seed(5)
    augmentations.strong_augment(x, ref, kind, elastic)
    assert torch.equal(torch.rand(4, generator=gen), torch.rand(4, generator=ref))


def _old_fit_together(clfs, mode, xs, ys, protocol, seeds):
    """`batched.fit_together` as it was before its step became a function of drawn numbers."""
    p = {**fitting.untuned(mode), **protocol}
    frozen = mode == "frozen"
    net = batched.Stack(clfs, train_encoder=not frozen)
    groups = [{"params": list(net.heads.values()), "lr": p["lr"]}]
    if not frozen:
        groups.append({"params": list(net.encoders.values()), "lr": p["lr"] * p["encoder_lr"]})
    opt = torch.optim.AdamW(groups, weight_decay=p["weight_decay"])
    gens = [torch.Generator().manual_seed(fitting.derived_seed("augment", s)) for s in seeds]
    warmup = p["warmup"] if mode == "finetune" else 0
    y, mask, sizes = batched.padded_labels(ys)
    for step in range(p["steps"]):
        xb = batched.padded([fitting.augment(x, g) for x, g in zip(xs, gens)])
        with torch.no_grad() if frozen or step < warmup else contextlib.nullcontext():
            codes = net.encode(xb)
        losses = batched.mean_cross_entropy(net.head(codes), y, mask, sizes)
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        opt.step()
    net.write_back(clfs)
    return [float(v) for v in losses.detach()]


@pytest.mark.parametrize(
    "mode, protocol",
    [
        ("frozen", {"steps": 6, "augment": True}),
        ("finetune", {"steps": 10, "lr": 3e-3, "warmup": 4, "encoder_lr": 0.3, "augment": True}),
        ("augmented", {"steps": 6}),
    ],
)
def test_the_step_function_run_eagerly_gives_the_old_loops_losses(mode, protocol):
    xs, ys = _draws([12, 9, 12])
    enc = _encoder()
    a = [transfer.build_classifier(enc, 8, mode, s) for s in (0, 1, 2)]
    b = copy.deepcopy(a)
    new = batched.fit_together(a, mode, xs, ys, protocol, [0, 1, 2], graph=True)  # CPU: never captured
    old = _old_fit_together(b, mode, xs, ys, protocol, [0, 1, 2])
    assert new == pytest.approx(old, rel=1e-6, abs=1e-7)
    for ca, cb in zip(a, b):
        for p, q in zip(ca.parameters(), cb.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_the_loop_never_captures_on_the_cpu():
    calls = []
    loop = graphed.GraphedLoop(lambda d: calls.append(d) or d["a"] * 2, None, torch.device("cpu"), graph=True)
    for step in range(6):
        assert torch.equal(loop({"a": torch.ones(2) * step}, step), torch.ones(2) * 2 * step)
    assert loop.graph is None and loop.replays == 0 and len(calls) == 6


def _counting(monkeypatch):
    loops = []
    real = graphed.GraphedLoop

    def make(*args, **kw):
        loops.append(real(*args, **kw))
        return loops[-1]

    monkeypatch.setattr(graphed, "GraphedLoop", make)
    monkeypatch.setattr(batched, "GraphedLoop", make)
    return loops


@cuda
@pytest.mark.parametrize(
    "mode, protocol",
    [
        ("frozen", {"steps": 20, "lr": 3e-3}),
        ("finetune", {"steps": 30, "lr": 3e-3, "warmup": 6, "encoder_lr": 0.3, "augment": True}),
        ("scratch", {"steps": 20, "lr": 3e-3}),
    ],
)
def test_graphed_classifiers_agree_with_the_eager_vmapped_ones(monkeypatch, mode, protocol):
    loops = _counting(monkeypatch)
    xs, ys = _draws([30, 25, 30], device="cuda")
    enc = _encoder("cuda")
    out = {}
    for graph in (False, True):
        clfs = [transfer.build_classifier(enc, 8, mode, s).cuda() for s in (0, 1, 2)]
        out[graph] = batched.fit_together(clfs, mode, xs, ys, protocol, [0, 1, 2], graph=graph)
    assert loops[-1].replays > 0 and loops[0].replays == 0
    assert out[True] == pytest.approx(out[False], rel=2e-2, abs=1e-4)


@cuda
def test_graphed_semisup_agrees_with_the_eager_vmapped_one(monkeypatch):
    loops = _counting(monkeypatch)
    xs, ys = _draws([20, 20, 20], device="cuda")
    unlabelled = torch.rand(200, 1, 28, 28, device="cuda")
    rec = semisup.recipe(steps=20, unlabelled_batch=32, lr=1e-2, threshold=0.3, ema=0.9, strong="rand",
                         elastic=1.0, align=True)  # fmt: skip
    out = {}
    for graph in (False, True):
        clfs = [semisup_fit.build(_encoder("cuda"), 8, rec, s).cuda() for s in (0, 1, 2)]
        out[graph] = semisup_fit.fit_together(clfs, xs, ys, unlabelled, rec, [0, 1, 2], graph=graph)
    assert loops[-1].replays > 0
    for a, b in zip(out[False], out[True]):
        assert b["final_loss"] == pytest.approx(a["final_loss"], rel=5e-2, abs=1e-3)


@cuda
def test_a_refused_capture_warns_and_trains_eagerly(monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("capture refused")

    loops = _counting(monkeypatch)
    monkeypatch.setattr(torch.cuda, "graph", refuse)
    xs, ys = _draws([30, 25], device="cuda")
    enc = _encoder("cuda")
    proto = {"steps": 12, "lr": 3e-3, "augment": True}
    out = {}
    for graph in (False, True):
        clfs = [transfer.build_classifier(enc, 8, "scratch", s).cuda() for s in (0, 1)]
        if graph:
            with pytest.warns(RuntimeWarning, match="capture refused"):
                out[graph] = batched.fit_together(clfs, "scratch", xs, ys, proto, [0, 1], graph=True)
        else:
            out[graph] = batched.fit_together(clfs, "scratch", xs, ys, proto, [0, 1], graph=False)
    assert loops[-1].cuda.failed and loops[-1].replays == 0
    assert out[True] == pytest.approx(out[False], rel=1e-3, abs=1e-5)
