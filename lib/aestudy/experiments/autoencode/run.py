"""Experiment 1's run: an autoencoder trained on reconstruction, and its error measured.

A plain loop over tensors already in memory: a seeded permutation per epoch, batches sliced
from it (`science.training`: seeding, device, fused optimisers, batch order, shared by every
stage). Same parameters + seed + thread count give the same numbers on the CPU. The training
loss is summed on the device and read once per epoch, so an accelerator never waits for the host
inside an epoch; evaluation runs under `inference_mode`.
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from ...progress_bar import LoopProgress
from ...science.names import SCHEDULES
from ...science.steps import EagerStep, GraphedStep, autocast_for, use_graph
from ...science.training import (  # noqa: F401 (also this module's names for them: train.setup, ...)
    FUSED_DEVICES,
    batches,
    make_optimizer,
    pick_device,
    resolved_precision,
    setup,
)


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
    progress: bool | None = None,
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
    (`learning_rate`); a changing rate trains eagerly (a CUDA graph bakes the rate in). `progress`:
    a progress bar; None: one unless the runner shows the run's progress (`progress_file.active`)."""
    dev = pick_device(device)
    model.to(dev)
    precision = resolved_precision(precision, dev)  # auto: what this device computes natively
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
    bar = LoopProgress(total_steps, "batch", "train", shown=progress, per=n_batches, runner_unit="epoch")
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
            bar.add(1)
        last = epoch == epochs or monitor_images is None
        test_err = reconstruction_error(model, test_images if last else monitor_images, device=dev)
        history["epoch"].append(epoch)
        history["train_error"].append(running.item() / seen)
        history["test_error"].append(test_err)
        if val_images is not None:
            history["val_error"].append(reconstruction_error(model, val_images, device=dev))
        bar.note(epoch=epoch, test_error=f"{test_err:.4f}")
        if on_epoch is not None:
            on_epoch(model, epoch)
    bar.close()
    history["train_seconds"] = time.perf_counter() - start
    history["graph_replays"] = getattr(train_step, "replays", 0)
    del train_step  # a captured graph holds the model's tensors: let them go before moving it
    model.to("cpu")
    return history
