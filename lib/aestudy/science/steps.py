"""One autoencoder training step, eager or replayed from a CUDA graph.

On a GPU a training step of the study's small models at batch 64 is bound by kernel launches
and Python, not by arithmetic: one step of the d = 10 model took 2.3 ms eager and 0.4 ms when
the whole step (index, forward, loss, backward, fused Adam) was captured as one CUDA graph and
replayed (../shared/notes/gpu.md, an H200). `GraphedStep` does that: the first steps (at least
the learning-rate warm-up, whose rate changes every step) run eagerly on a side stream, as
`torch.cuda.graph` requires, then the step is captured once and replayed for every full batch;
a last, shorter batch of an epoch runs eagerly on the same tensors. The data stay on the GPU
and only the batch's indices are copied in before each replay.

The CPU never captures (`use_graph` is false there), so CPU numbers stay the eager loop's, bit
for bit. `AESTUDY_EAGER=1` turns capture off on a GPU (a choice of how to execute, like the
thread count, so not a parameter of the run and not in its cache key). On a GPU the
replayed step runs the same kernels as the eager one; `benchmarks/gpu_graphs.py` measures the
agreement (test error within 2 % of the eager loop's after the same epochs).
"""

from __future__ import annotations

import contextlib
import os
import warnings

import torch
from torch import nn

from .names import PRECISIONS


def autocast_for(device: torch.device, precision: str):
    """A context factory for the training forward pass: `bfloat16` runs it under torch.autocast
    (matrix products and convolutions in bfloat16; the weights, their gradients, Adam's state and
    the loss stay float32), `float32` changes nothing. On this project's CPU (avx512_bf16) bfloat16
    trains the num_conv = 3 autoencoder about 1.6x faster per CPU second (benchmarks/README.md)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "float32":
        return contextlib.nullcontext
    return lambda: torch.autocast(device.type, dtype=torch.bfloat16)


EAGER_BEFORE_CAPTURE = 3  # eager steps before capture: the autograd and allocator warm-up torch asks for


def eager_only() -> bool:
    """AESTUDY_EAGER=1: no CUDA graph and no batched training (`science.batched`), to compare."""
    return os.environ.get("AESTUDY_EAGER", "0") == "1"


def use_graph(device: torch.device, optimizer: str) -> bool:
    """Capture on CUDA with Adam (made `capturable`), unless AESTUDY_EAGER=1."""
    return device.type == "cuda" and optimizer == "adam" and not eager_only()


def reconstruction_step(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    data: torch.Tensor,
    idx: torch.Tensor,
    set_to_none: bool = True,
    autocast=contextlib.nullcontext,
) -> torch.Tensor:
    """One eager step on the images `data[idx]`; returns the detached batch loss."""
    x = data.index_select(0, idx)
    with autocast():
        out = model(x)
    loss = nn.functional.mse_loss(out.float(), x)
    opt.zero_grad(set_to_none=set_to_none)
    loss.backward()
    opt.step()
    return loss.detach()


class EagerStep:
    """The plain step (CPU, MPS, SGD, or graphs turned off)."""

    def __init__(
        self,
        model: nn.Module,
        opt: torch.optim.Optimizer,
        data: torch.Tensor,
        autocast=contextlib.nullcontext,
    ):
        self.model, self.opt, self.data, self.autocast = model, opt, data, autocast
        self.replays = 0

    def __call__(self, idx: torch.Tensor, step: int) -> torch.Tensor:
        return reconstruction_step(self.model, self.opt, self.data, idx, autocast=self.autocast)


class GraphedStep(EagerStep):
    """Eager for the first `eager_steps` steps, then one captured step replayed per full batch.

    The learning rate must not change after `eager_steps` (it is baked into the graph): the
    caller passes its warm-up length. `replays` counts the replayed steps (for tests and the
    benchmark)."""

    def __init__(
        self,
        model: nn.Module,
        opt: torch.optim.Optimizer,
        data: torch.Tensor,
        batch_size: int,
        eager_steps: int = 0,
    ):
        super().__init__(model, opt, data)
        self.batch_size = batch_size
        self.eager_steps = max(eager_steps, EAGER_BEFORE_CAPTURE)
        self.graph, self.capture_failed = None, False
        self.static_idx = torch.zeros(batch_size, dtype=torch.long, device=data.device)
        self.static_loss = None
        self.side = torch.cuda.Stream(data.device)

    def _eager_on_side_stream(self, idx: torch.Tensor) -> torch.Tensor:
        main = torch.cuda.current_stream(self.data.device)
        self.side.wait_stream(main)
        with torch.cuda.stream(self.side):
            loss = reconstruction_step(self.model, self.opt, self.data, idx)
        main.wait_stream(self.side)
        return loss

    def _capture(self) -> bool:
        """Record the step without running it. Where this torch or device cannot capture it, warn
        and return False: the run goes on eagerly, which is always right, only slower."""
        self.opt.zero_grad(set_to_none=True)  # the graph allocates the gradients from its own pool
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                x = self.data.index_select(0, self.static_idx)
                loss = nn.functional.mse_loss(self.model(x), x)
                loss.backward()
                self.opt.step()
                self.static_loss = loss.detach()
        except Exception as exc:  # noqa: BLE001 - any capture failure leaves the eager step
            warnings.warn(
                f"CUDA graph capture failed ({type(exc).__name__}: {exc}); training eagerly "
                "(AESTUDY_EAGER=1 skips the attempt)",
                RuntimeWarning,
                stacklevel=2,
            )
            self.capture_failed = True
            self.opt.zero_grad(set_to_none=True)
            torch.cuda.synchronize(self.data.device)
            return False
        self.graph = graph
        return True

    def __call__(self, idx: torch.Tensor, step: int) -> torch.Tensor:
        if len(idx) != self.batch_size:  # an epoch's last, shorter batch: eager on the graph's gradients
            return reconstruction_step(self.model, self.opt, self.data, idx, set_to_none=self.graph is None)
        if self.graph is None and (step < self.eager_steps or self.capture_failed or not self._capture()):
            return self._eager_on_side_stream(idx)
        self.static_idx.copy_(idx)
        self.graph.replay()
        self.replays += 1
        return self.static_loss
