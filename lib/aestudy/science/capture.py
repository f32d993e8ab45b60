"""A training step captured once as a CUDA graph and replayed: what the three graphed steps share
(`steps.GraphedStep`, one autoencoder; `experiments.autoencode.together.GraphedSeedsStep`, the K
seeds of a cell; `graphed.GraphedLoop`, the classifier stages).

Each follows torch's recipe for whole-step capture: the first steps (at least the learning-rate
warm-up, whose rate changes every step, and `EAGER_BEFORE_CAPTURE`, the autograd and allocator
warm-up torch asks for) run eagerly on a side stream; at the first step after them the step is
recorded once, reading its inputs from static tensors that the caller owns; every later step
copies its inputs into those tensors and replays the graph. Where capture fails (an operation this
torch or device cannot capture, too little memory) a warning says so and every step stays eager:
always right, only slower. `AESTUDY_EAGER=1` turns capture off (a choice of how to execute, like
the thread count: not a parameter of a run, so not in its cache key).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

import torch

EAGER_BEFORE_CAPTURE = 3  # eager steps before capture: the autograd and allocator warm-up torch asks for


def eager_only() -> bool:
    """AESTUDY_EAGER=1: no CUDA graph and no batched training (`science.batched`), to compare."""
    return os.environ.get("AESTUDY_EAGER", "0") == "1"


class StepGraph:
    """The capture of one step on `device`: `due(step)` says when to record it, `capture(record,
    opt)` records `record()` (which reads the caller's static inputs and writes its static
    outputs), `replay()` runs it again; `eager(fn, ...)` runs a step on the side stream meanwhile,
    and for good once a capture failed. `what` names the step in the warning."""

    def __init__(self, device: torch.device, what: str, eager_steps: int = 0):
        self.device, self.what = device, what
        self.eager_steps = max(eager_steps, EAGER_BEFORE_CAPTURE)
        self.graph, self.failed, self.replays = None, False, 0
        self.side = None  # the side stream, made at the first eager step

    @property
    def captured(self) -> bool:
        return self.graph is not None

    def due(self, step: int) -> bool:
        """Whether `step` is the one to capture at: the first after the eager ones, unless a
        capture has already been made or has failed."""
        return self.graph is None and not self.failed and step >= self.eager_steps

    def eager(self, fn: Callable, *args, **kw):
        """`fn(*args, **kw)` on the side stream, ordered after the main stream's work and before
        its next (capture wants the warm-up's allocations made off the main stream)."""
        if self.side is None:
            self.side = torch.cuda.Stream(self.device)
        main = torch.cuda.current_stream(self.device)
        self.side.wait_stream(main)
        with torch.cuda.stream(self.side):
            out = fn(*args, **kw)
        main.wait_stream(self.side)
        return out

    def capture(self, record: Callable[[], None], opt: torch.optim.Optimizer) -> bool:
        """Record `record()` without running it. The gradients are set to None first, so that the
        graph allocates them from its own pool. On failure: warn, stay eager, return False."""
        opt.zero_grad(set_to_none=True)
        try:
            self.graph = self._record(record, self.device)
        except Exception as exc:  # noqa: BLE001 - any capture failure leaves the eager step
            warnings.warn(
                f"CUDA graph capture of {self.what} failed ({type(exc).__name__}: {exc}); "
                "training eagerly (AESTUDY_EAGER=1 skips the attempt)",
                RuntimeWarning,
                stacklevel=3,
            )
            self.failed = True
            opt.zero_grad(set_to_none=True)
            torch.cuda.synchronize(self.device)
            return False
        return True

    @staticmethod
    def _record(record: Callable[[], None], device: torch.device):
        """The CUDA graph of `record()` (the one place that calls torch's capture)."""
        torch.cuda.synchronize(device)  # the side stream's warm-up steps are done
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            record()
        return graph

    def replay(self) -> None:
        self.graph.replay()
        self.replays += 1
