"""What every training loop of the study shares, whatever its experiment: seeding every generator
and taking the runner's thread share (`setup`, the first call of every run's `main`), the device
(`pick_device`), a classifier stage's precision (`precision`), the optimisers with torch's fused
kernel where the device has one (`make_optimizer`: one kernel per step instead of about ten per
parameter tensor, the largest single gain on the CPU, benchmarks/train_throughput.py) and a
seeded batch order (`batches`). Same parameters + seed + thread count give the same numbers on the
CPU."""

from __future__ import annotations

import contextlib
import os
import random
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..errors import BadInput
from .names import OPTIMIZERS, PRECISIONS


class DeviceMissing(BadInput, RuntimeError):
    """A stage's `device` names a device this machine does not have."""


def pick_device(device: str = "auto") -> torch.device:
    """`auto`: CUDA, then Apple MPS, then CPU. A device named outright must be on this machine:
    torch's own error ("Found no NVIDIA driver", "invalid device ordinal") comes from deep inside
    the first step and names neither the field nor what the machine has."""
    if device != "auto":
        chosen = torch.device(device)
        missing = _missing(chosen)
        if missing:
            raise DeviceMissing(f"device: {device}: {missing}; set `device: auto` or a device it has")
        return chosen
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _missing(device: torch.device) -> str:
    """Why this machine cannot compute on `device` ('' when it can)."""
    if device.type == "cuda":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n == 0:
            return "this machine has no CUDA device"
        if device.index is not None and device.index >= n:
            return f"this machine has {n} CUDA device{'s' if n > 1 else ''} (cuda:0{f' to cuda:{n - 1}' if n > 1 else ''})"
    if device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            return "this machine has no Apple MPS device"
    return ""


def native_bf16(device) -> bool:
    """Whether `device` computes bfloat16 products natively: a CUDA GPU that supports it, or a CPU
    with avx512_bf16 or AMX (Linux's /proc/cpuinfo flags). Elsewhere torch emulates them: on an
    AVX2-only CPU bfloat16 autocast trained the autoencoders 16-34x slower than float32
    (benchmarks/README.md)."""
    device = pick_device(device) if isinstance(device, str) else device
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and _cpu_has_bf16_units()


@lru_cache(maxsize=1)
def _cpu_has_bf16_units() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolved_precision(name: str, device="auto") -> str:
    """The precision a stage computes in: `auto` is bfloat16 where `device` computes it natively
    (`native_bf16`), float32 elsewhere; float32 and bfloat16 are themselves."""
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {name!r}")
    if name == "auto":
        return "bfloat16" if native_bf16(device) else "float32"
    return name


def precision(name: str, device: str = "auto"):
    """A context for a whole classifier stage (protocol, transfer, semisup): every forward pass of its
    training and prediction under `name`. On a CPU with avx512_bf16 bfloat16 made a transfer step about
    1.4x faster and a prediction over the test set about 3.5x (benchmarks/README.md). One autocast
    region spans many optimiser steps here, so its weight cache is off: with it, every forward pass
    would reuse the bfloat16 copies of the weights made at the first one, and nothing would learn."""
    if resolved_precision(name, device) == "float32":
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
    (floating point, all on one CPU or CUDA device), else the default implementation. `params`:
    tensors, or parameter groups (dicts with "params")."""
    tensors = [t for q in params for t in (q["params"] if isinstance(q, dict) else [q])]
    devices = {t.device.type for t in tensors}
    if (
        tensors
        and len(devices) == 1
        and devices <= set(FUSED_DEVICES)
        and all(t.dtype.is_floating_point for t in tensors)
    ):
        try:
            return cls(params, fused=True, **kwargs)
        except (RuntimeError, TypeError, ValueError):  # an older torch without this fused kernel
            pass
    return cls(params, **kwargs)


def adamw(groups: list, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW over parameter groups, fused where the device has the kernel: the classifier stages'
    optimiser (`fitting.fit`, the semi-supervised `fit`). On the CPU the unfused one runs a Python
    loop over the tensors at every step, a fifth of a transfer run's time (benchmarks/README.md)."""
    return _fused(torch.optim.AdamW, list(groups), weight_decay=weight_decay)


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
