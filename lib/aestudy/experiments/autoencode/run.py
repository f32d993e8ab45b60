"""Training and evaluation loops: reconstruction (autoencoder) and classification (transfer).

Plain loops over tensors already in memory: a seeded permutation per epoch, batches sliced
from it. Same parameters + seed + thread count give the same numbers on the CPU.

Speed (measured by benchmarks/train_throughput.py): the optimisers use torch's fused kernel
where the device has one (CPU, CUDA): one kernel per step instead of about ten per parameter
tensor, the largest single gain on the CPU. The training loss is summed on the device and read
once per epoch, so an accelerator never waits for the host inside an epoch; evaluation runs
under `inference_mode`.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import time

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ... import progress_file
from ...science.names import OPTIMIZERS, PRECISIONS, SCHEDULES
from ...science.steps import EagerStep, GraphedStep, autocast_for, use_graph


def pick_device(device: str = "auto") -> torch.device:
    """`auto`: CUDA, then Apple MPS, then CPU."""
    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def precision(name: str, device: str = "auto"):
    """A context for a whole classifier stage (protocol, transfer, semisup): every forward pass of its
    training and prediction under `name`. On this project's CPU bfloat16 made a transfer step about
    1.4x faster and a prediction over the test set about 3.5x (benchmarks/README.md). One autocast
    region spans many optimiser steps here, so its weight cache is off: with it, every forward pass
    would reuse the bfloat16 copies of the weights made at the first one, and nothing would learn."""
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {name!r}")
    if name == "float32":
        return contextlib.nullcontext()
    return torch.autocast(pick_device(device).type, dtype=torch.bfloat16, cache_enabled=False)


def setup(seed: int = 0, threads: int | None = None) -> None:
    """Seed every generator and fix the torch thread count (`LIB_THREADS` from the runner)."""
    threads = threads or int(os.environ.get("LIB_THREADS", "0") or 0)
    if threads > 0:
        torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


FUSED_DEVICES = ("cpu", "cuda")


def _fused(cls, params: list, **kwargs) -> torch.optim.Optimizer:
    """`cls(params, fused=True, ...)` where torch has a fused kernel for these parameters
    (floating point, all on one CPU or CUDA device), else the default implementation."""
    devices = {p.device.type for p in params}
    if (
        params
        and len(devices) == 1
        and devices <= set(FUSED_DEVICES)
        and all(p.dtype.is_floating_point for p in params)
    ):
        try:
            return cls(params, fused=True, **kwargs)
        except (RuntimeError, TypeError, ValueError):  # an older torch without this fused kernel
            pass
    return cls(params, **kwargs)


def make_optimizer(name: str, params, lr: float, capturable: bool = False) -> torch.optim.Optimizer:
    """`capturable` (Adam only): its step may be captured in a CUDA graph (science.steps)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    params = list(params)
    if name == "adam":
        return _fused(torch.optim.Adam, params, lr=lr, **({"capturable": True} if capturable else {}))
    return _fused(torch.optim.SGD, params, lr=lr, momentum=0.9)


def batches(
    n: int, batch_size: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
):
    """Index tensors covering range(n) in batches; shuffled when a generator is given. The
    permutation is drawn on the CPU (same numbers everywhere) and moved to `device` at once."""
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    return order.to(device).split(batch_size)


def learning_rate(
    step: int, lr: float, warmup_steps: int = 0, total_steps: int = 0, schedule: str = "constant"
) -> float:
    """The rate of step `step` (0-based): a linear warm-up from lr / warmup_steps to `lr` over the
    first `warmup_steps`, then `lr` (`constant`) or a cosine decay from `lr` to 0 at `total_steps`
    (`cosine`, a one-cycle-like schedule: on this CPU it reached a lower validation error than a
    constant rate in the same steps, benchmarks/ae_fidelity.py)."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    if schedule == "constant" or total_steps <= warmup_steps:
        return lr
    done = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
    return lr * 0.5 * (1.0 + math.cos(math.pi * done))


@torch.inference_mode()
def reconstruction_error(
    model: nn.Module, images: torch.Tensor, batch_size: int = 1000, device: torch.device | str = "cpu"
) -> float:
    """Mean squared error per pixel over `images`."""
    model.eval()
    total = 0.0
    for idx in batches(len(images), batch_size):
        x = images[idx].to(device, non_blocking=True)
        total += torch.nn.functional.mse_loss(model(x), x, reduction="sum").item()
    return total / images.numel()


def run(
    model: nn.Module,
    train_images: torch.Tensor,
    test_images: torch.Tensor,
    epochs: int,
    batch_size: int = 64,
    optimizer: str = "adam",
    lr: float = 1e-3,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
    monitor_images: torch.Tensor | None = None,
    warmup_steps: int = 0,
    on_epoch=None,
    precision: str = "float32",
    val_images: torch.Tensor | None = None,
    schedule: str = "constant",
) -> dict:
    """Train on MSE; return per-epoch train and test reconstruction error and wall time.
    With `monitor_images` (a fixed subset of the test images), the epochs before the last are
    evaluated on that subset only, and the last epoch on all of `test_images`: the curve costs
    less and the final error, which the study compares, is always the whole test set's.
    `warmup_steps` > 0 raises the learning rate linearly from lr / warmup_steps to lr over the
    first steps; `on_epoch(model, epoch)` is called after each epoch (diagnostics). `precision`
    `bfloat16` trains under autocast (`steps.autocast_for`; eagerly, never from a CUDA graph); the
    errors are always measured in float32. With `val_images` (held-out training images) the
    validation error is measured after every epoch too (`val_error`): how far training had
    converged, judged without the test set. `schedule`: the rate after the warm-up
    (`learning_rate`); a changing rate trains eagerly (a CUDA graph bakes the rate in)."""
    dev = pick_device(device)
    model.to(dev)
    autocast = autocast_for(dev, precision)
    graphed = use_graph(dev, optimizer) and precision == "float32" and schedule == "constant"
    opt = make_optimizer(optimizer, model.parameters(), lr, capturable=graphed)
    step = 0
    g = torch.Generator().manual_seed(seed)
    train_x = train_images.to(dev)
    train_step = (
        GraphedStep(model, opt, train_x, batch_size, eager_steps=warmup_steps)
        if graphed
        else EagerStep(model, opt, train_x, autocast=autocast)
    )
    history = {"epoch": [], "train_error": [], "test_error": []} | (
        {"val_error": []} if val_images is not None else {}
    )
    start = time.perf_counter()
    n_batches = -(-len(train_x) // batch_size)
    total_steps = epochs * n_batches
    bar = tqdm(total=epochs * n_batches, desc="train", unit="batch", disable=not progress, mininterval=1.0)
    for epoch in range(1, epochs + 1):
        model.train()
        # summed in float64 on the device, in batch order: the same number as adding
        # loss.item() * len(idx) in Python, without a host sync per step
        running, seen = torch.zeros((), dtype=torch.float64, device=dev), 0
        for idx in batches(len(train_x), batch_size, g, device=dev):
            if step < warmup_steps or schedule != "constant":
                for group in opt.param_groups:
                    group["lr"] = learning_rate(step, lr, warmup_steps, total_steps, schedule)
            loss = train_step(idx, step)
            step += 1
            running.add_(loss, alpha=len(idx))
            seen += len(idx)
            bar.update(1)
            progress_file.report(
                epoch - 1 + seen / len(train_x), epochs, "epoch"
            )  # throttled; the runner shows it
        last = epoch == epochs or monitor_images is None
        test_err = reconstruction_error(model, test_images if last else monitor_images, device=dev)
        history["epoch"].append(epoch)
        history["train_error"].append(running.item() / seen)
        history["test_error"].append(test_err)
        if val_images is not None:
            history["val_error"].append(reconstruction_error(model, val_images, device=dev))
        bar.set_postfix(epoch=epoch, test_error=f"{test_err:.4f}")
        if on_epoch is not None:
            on_epoch(model, epoch)
    bar.close()
    history["train_seconds"] = time.perf_counter() - start
    history["graph_replays"] = getattr(train_step, "replays", 0)
    del train_step  # a captured graph holds the model's tensors: let them go before moving it
    model.to("cpu")
    return history
