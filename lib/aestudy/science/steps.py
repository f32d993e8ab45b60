"""One autoencoder training step, eager or replayed from a CUDA graph.

On a GPU a training step of the study's small models at batch 64 is bound by kernel launches
and Python, not by arithmetic: one step of the d = 10 model took 2.3 ms eager and 0.4 ms when
the whole step (index, forward, loss, backward, fused Adam) was captured as one CUDA graph and
replayed (../shared/notes/gpu.md, an H200). `GraphedStep` does that (`capture.StepGraph`: eager
warm-up steps on a side stream, then one capture replayed for every full batch); a last, shorter
batch of an epoch runs eagerly on the same tensors. The data stay on the GPU and only the batch's
indices are copied in before each replay.

The CPU never captures (`use_graph` is false there), so CPU numbers stay the eager loop's, bit
for bit. On a GPU the replayed step runs the same kernels as the eager one;
`benchmarks/gpu_steps.py` measures the agreement (test error within 2 % of the eager loop's
after the same epochs), and `tests/test_steps.py` checks it where CUDA is.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from .capture import StepGraph, eager_only
from .training import resolved_precision


def autocast_for(device: torch.device, precision: str):
    """A context factory for the training forward pass: `bfloat16` runs it under torch.autocast
    (matrix products and convolutions in bfloat16; the weights, their gradients, Adam's state and
    the loss stay float32), `float32` changes nothing, `auto` is bfloat16 only where the hardware has
    bf16 units (`training.resolved_precision`). On a CPU with avx512_bf16 bfloat16 trained the
    num_conv = 3 autoencoder about 1.6x faster per CPU second; on an AVX2-only one 16-34x slower
    (benchmarks/README.md)."""
    if resolved_precision(precision, device) == "float32":
        return contextlib.nullcontext
    return lambda: torch.autocast(device.type, dtype=torch.bfloat16)


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

    replays = 0  # an eager step never replays

    def __call__(self, idx: torch.Tensor, step: int) -> torch.Tensor:
        return reconstruction_step(self.model, self.opt, self.data, idx, autocast=self.autocast)


class GraphedStep(EagerStep):
    """Eager for the first `eager_steps` steps, then one captured step replayed per full batch
    (`capture.StepGraph`).

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
        self.cuda = StepGraph(data.device, "the autoencoder's step", eager_steps)
        self.static_idx = torch.zeros(batch_size, dtype=torch.long, device=data.device)
        self.static_loss = None

    @property
    def replays(self) -> int:
        return self.cuda.replays

    def _record(self) -> None:
        x = self.data.index_select(0, self.static_idx)
        loss = nn.functional.mse_loss(self.model(x), x)
        loss.backward()
        self.opt.step()
        self.static_loss = loss.detach()

    def __call__(self, idx: torch.Tensor, step: int) -> torch.Tensor:
        if len(idx) != self.batch_size:  # an epoch's last, shorter batch: eager on the graph's gradients
            return reconstruction_step(
                self.model, self.opt, self.data, idx, set_to_none=not self.cuda.captured
            )
        if self.cuda.due(step):
            self.cuda.capture(self._record, self.opt)
        if not self.cuda.captured:
            return self.cuda.eager(reconstruction_step, self.model, self.opt, self.data, idx)
        self.static_idx.copy_(idx)
        self.cuda.replay()
        return self.static_loss
