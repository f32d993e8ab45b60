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
step, as `steps.GraphedStep` does. The optimiser must be made `capturable` (AdamW) where a graph
is wanted.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch
from torch import nn

from .steps import EAGER_BEFORE_CAPTURE, eager_only


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
    captured CUDA graph after `eager_steps` eager steps (see the module). `replays` counts the
    replayed steps."""

    def __init__(
        self,
        step: Callable,
        opt: torch.optim.Optimizer,
        device: torch.device,
        eager_steps: int = 0,
        graph: bool = False,
    ):
        self.step, self.opt, self.device = step, opt, device
        self.want_graph = graph and device.type == "cuda"
        self.eager_steps = max(eager_steps, EAGER_BEFORE_CAPTURE)
        self.graph, self.capture_failed, self.replays = None, False, 0
        self.static_in: dict[str, torch.Tensor] = {}
        self.static_out = None
        self.side = torch.cuda.Stream(device) if self.want_graph else None

    def _to_device(self, inputs: dict) -> dict:
        if self.device.type != "cuda":
            return {k: v.to(self.device) for k, v in inputs.items()}
        return {k: v.pin_memory().to(self.device, non_blocking=True) for k, v in inputs.items()}

    def _eager_on_side_stream(self, inputs: dict, kw: dict):
        main = torch.cuda.current_stream(self.device)
        self.side.wait_stream(main)
        with torch.cuda.stream(self.side):
            out = self.step(inputs, **kw)
        main.wait_stream(self.side)
        return out

    def _capture(self, inputs: dict, kw: dict) -> bool:
        self.static_in = {k: v.clone() for k, v in inputs.items()}
        self.opt.zero_grad(set_to_none=True)  # the graph allocates the gradients from its own pool
        torch.cuda.synchronize(self.device)  # once: the side stream's warm-up steps are done
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self.static_out = self.step(self.static_in, **kw)
        except Exception as exc:  # noqa: BLE001 - any capture failure leaves the eager step
            warnings.warn(
                f"CUDA graph capture of the classifiers' step failed ({type(exc).__name__}: {exc}); "
                "training eagerly (AESTUDY_EAGER=1 skips the attempt)",
                RuntimeWarning,
                stacklevel=3,
            )
            self.capture_failed = True
            self.opt.zero_grad(set_to_none=True)
            torch.cuda.synchronize(self.device)
            return False
        self.graph = graph
        return True

    def __call__(self, inputs: dict, step: int, **kw):
        if not self.want_graph:
            return self.step(self._to_device(inputs), **kw)
        if self.graph is not None:
            for k, v in inputs.items():
                self.static_in[k].copy_(v.pin_memory(), non_blocking=True)
            self.graph.replay()
            self.replays += 1
            return self.static_out
        inputs = self._to_device(inputs)
        if self.graph is None and (
            step < self.eager_steps or self.capture_failed or not self._capture(inputs, kw)
        ):
            return self._eager_on_side_stream(inputs, kw)
        for k, v in inputs.items():
            self.static_in[k].copy_(v, non_blocking=True)
        self.graph.replay()
        self.replays += 1
        return self.static_out
