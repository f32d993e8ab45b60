"""The classifier stages' training step (protocol, transfer, semi-supervised), replayed from a
CUDA graph on a GPU.

`batched.fit_together` and `semisup.fit.fit_together` train several classifiers as one vmapped
network; each step is a few hundred tiny kernels, launch-bound on a GPU as the autoencoder's step
is (`steps.GraphedStep`). Both are written as a *step function* of a few input tensors: the
random numbers of that step's augmentations (and the semi-supervised stage's unlabelled batch
indices), drawn on the host from each classifier's own `torch.Generator` in the order the
classifier trained alone draws them, so each still sees its own batches and augmented images.
The arithmetic of the augmentations (`affine` here; `semisup.fit`'s strong ones) runs on the
device from those tensors, inside the step. `GraphedLoop` runs the step function eagerly (the CPU,
`AESTUDY_EAGER=1`, a changing learning rate), or, on CUDA, eagerly on a side stream for the first
`eager_steps` (at least the warm-up, whose step differs), then captures it once as a CUDA graph
with static input buffers and replays it: each step's inputs are written into pinned host memory
and copied asynchronously into those buffers, so a step needs no host sync. The classifier stages
train on all their labelled images every step and on a fixed-size unlabelled batch, so every step
has the same shape: there is no short last batch. A capture that fails warns and leaves the eager
step, as `steps.GraphedStep` does. The optimiser must be capturable where a graph is wanted
(`stacked_adamw.adamw(..., capturable=True)`: torch's AdamW made capturable, or StackedAdamW,
whose step count and factors always live on the device).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .capture import StepGraph, eager_only


def graph_fits(device: torch.device) -> bool:
    """Replay the classifier stages' step from a CUDA graph: on CUDA, unless AESTUDY_EAGER=1."""
    return device.type == "cuda" and not eager_only()


def affine(
    x: torch.Tensor,
    angle_u: torch.Tensor,
    shift_u: torch.Tensor,
    max_shift: float = 2.0,
    max_degrees: float = 10.0,
) -> torch.Tensor:
    """`fitting.augment`'s arithmetic from its random numbers: x [n, C, H, W], angle_u [n] and
    shift_u [n, 2] uniform on [0, 1) (`torch.rand(n)` then `torch.rand(n, 2)` of the generator give
    `augment(x, gen)` exactly)."""
    size = x.shape[-1]
    angle = (angle_u * 2 - 1) * math.radians(max_degrees)
    shift = (shift_u * 2 - 1) * (2 * max_shift / size)
    cos, sin = angle.cos(), angle.sin()
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = nn.functional.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    return nn.functional.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def affine_draws(n: int, gen: torch.Generator) -> list[torch.Tensor]:
    """The random numbers `fitting.augment` draws for n images, in its order."""
    return [torch.rand(n, generator=gen), torch.rand(n, 2, generator=gen)]


def flat(x: torch.Tensor) -> torch.Tensor:
    """[M, N, ...] as [M * N, ...]."""
    return x.reshape(-1, *x.shape[2:])


class GraphedLoop:
    """Runs `step(inputs, **kw)` (a dict of tensors in, tensors out) eagerly, or on CUDA from one
    captured CUDA graph after `eager_steps` eager steps (`capture.StepGraph`; see the module).
    `replays` counts the replayed steps."""

    def __init__(
        self,
        step: Callable,
        opt: torch.optim.Optimizer,
        device: torch.device,
        eager_steps: int = 0,
        graph: bool = False,
    ):
        self.step, self.opt, self.device = step, opt, device
        wanted = graph and device.type == "cuda"
        self.cuda = StepGraph(device, "the classifiers' step", eager_steps) if wanted else None
        self.static_in: dict[str, torch.Tensor] = {}
        self.static_out = None

    @property
    def graph(self):
        return self.cuda.graph if self.cuda else None

    @property
    def replays(self) -> int:
        return self.cuda.replays if self.cuda else 0

    def _to_device(self, inputs: dict) -> dict:
        if self.device.type != "cuda":
            return {k: v.to(self.device) for k, v in inputs.items()}
        return {k: v.pin_memory().to(self.device, non_blocking=True) for k, v in inputs.items()}

    def __call__(self, inputs: dict, step: int, **kw):
        if self.cuda is None:
            return self.step(self._to_device(inputs), **kw)
        if self.cuda.captured:  # from pinned host memory straight into the static inputs
            for k, v in inputs.items():
                self.static_in[k].copy_(v.pin_memory(), non_blocking=True)
            self.cuda.replay()
            return self.static_out
        inputs = self._to_device(inputs)
        if self.cuda.due(step):  # `kw` is recorded with the step: the same for every later one
            self.static_in = {k: v.clone() for k, v in inputs.items()}
            self.cuda.capture(lambda: self._record(kw), self.opt)
        if not self.cuda.captured:
            return self.cuda.eager(self.step, inputs, **kw)
        for k, v in inputs.items():
            self.static_in[k].copy_(v, non_blocking=True)
        self.cuda.replay()
        return self.static_out

    def _record(self, kw: dict) -> None:
        self.static_out = self.step(self.static_in, **kw)
