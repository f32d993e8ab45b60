"""How one classifier of experiment 4 is trained by a *protocol*, and what the protocols share.

A protocol holds every choice the original leaves open: `steps` (full-batch AdamW steps), `lr`,
`weight_decay`, `augment` (random shifts of up to 2 pixels and rotations of up to 10 degrees,
redrawn every step) and, for fine-tuning, `warmup` (the first steps train the head only) and
`encoder_lr` (the encoder's learning rate as a fraction of the head's). The untuned protocol, every search's first candidate, is 100 full-batch Adam steps at 1e-3:
this project's starting point (the original recorded none). `fit` trains one classifier by a protocol;
`science.batched` trains several by the same protocol at once (on a GPU). Used by the transfer,
protocol and semi-supervised stages.
"""

from __future__ import annotations

import contextlib
import hashlib
import math

import torch
from torch import nn

from . import training
from .models import Classifier

UNTUNED = {"steps": 100, "lr": 1e-3, "weight_decay": 0.0, "augment": False, "warmup": 0, "encoder_lr": 1.0}
FORCED = {"augmented": {"augment": True}}  # the strong control always trains on augmented images


def untuned(mode: str) -> dict:
    """The untuned protocol for `mode` (with what the mode forces)."""
    return {**UNTUNED, **FORCED.get(mode, {})}


def derived_seed(*parts) -> int:
    """A seed for a named purpose (e.g. ('scratch-encoder', 0)): stable across runs and platforms."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "little") & 0x7FFFFFFF


@torch.no_grad()
def encode(encoder: nn.Module, images: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    encoder.eval()
    return torch.cat([encoder(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])


@contextlib.contextmanager
def single_thread():
    """The head-only problems (100 x d inputs) are far too small to gain from several threads,
    and on a busy CPU the threads' waiting made them 30x slower (measured): run them on one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def augment(x: torch.Tensor, gen: torch.Generator, max_shift: float = 2.0, max_degrees: float = 10.0):
    """Each image shifted by up to `max_shift` pixels and rotated by up to `max_degrees`."""
    n, size = len(x), x.shape[-1]
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(max_degrees)
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * (2 * max_shift / size)
    cos, sin = angle.cos(), angle.sin()
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = nn.functional.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    return nn.functional.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def fit(
    clf: Classifier,
    mode: str,
    x: torch.Tensor,
    y: torch.Tensor,
    protocol: dict,
    seed: int,
    features: torch.Tensor | None = None,
) -> float:
    """Train `clf` (encoder + head) on (x, y) by `protocol`; returns the last loss. In `frozen`
    mode no gradient reaches the encoder, and without augmentation the head trains on
    `features` (the encoder's codes of x, computed here if not given)."""
    p = {**untuned(mode), **protocol}
    head, enc = list(clf.head.parameters()), list(clf.encoder.parameters())
    frozen = mode == "frozen"
    if frozen:
        for q in enc:
            q.requires_grad_(False)
    groups = [{"params": head, "lr": p["lr"]}]
    if not frozen:
        groups.append({"params": enc, "lr": p["lr"] * p["encoder_lr"]})
    opt = training.adamw(groups, p["weight_decay"])
    gen = torch.Generator().manual_seed(derived_seed("augment", seed)) if p["augment"] else None
    warmup = p["warmup"] if mode == "finetune" else 0
    if frozen and gen is None and features is None:
        features = encode(clf.encoder, x)
    clf.train()
    loss = torch.tensor(float("nan"))
    with single_thread() if frozen and gen is None else contextlib.nullcontext():
        for step in range(p["steps"]):
            xb = x if gen is None else augment(x, gen)
            if frozen and gen is None:
                out = clf.head(features)
            elif frozen or step < warmup:
                with torch.no_grad():
                    codes = clf.encoder(xb)
                out = clf.head(codes)
            else:
                out = clf(xb)
            loss = nn.functional.cross_entropy(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    clf.eval()
    return float(loss.detach())
