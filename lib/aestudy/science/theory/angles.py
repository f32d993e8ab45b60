"""Question 3: a loss for angles, and the dense-sampling check of the properties such a loss needs
(symmetric, 2π-periodic, a function of the shorter arc only, increasing in it, differentiable)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from .checks import DTYPE, as_tensor

TWO_PI = 2.0 * math.pi


def angle_loss(alpha, beta):
    """Loss for predicting angle ``beta`` when the target is ``alpha`` (radians).

    ``L(α, β) = 1 - cos(α - β) = 2 sin²((α - β)/2)``: symmetric, 2π-periodic in
    each argument, a strictly increasing function of the shorter arc distance
    on ``[0, π]``, smooth everywhere.  Works on torch tensors and numpy arrays.
    """
    if isinstance(alpha, torch.Tensor) or isinstance(beta, torch.Tensor):
        return 1 - torch.cos(alpha - beta)
    return 1 - np.cos(np.asarray(alpha) - np.asarray(beta))


def shorter_arc_distance(alpha, beta):
    """Length of the shorter arc between two angles, in ``[0, π]`` (torch)."""
    d = torch.remainder(as_tensor(alpha) - as_tensor(beta), TWO_PI)
    return torch.minimum(d, TWO_PI - d)


def naive_angle_loss(alpha, beta):
    """A tempting but flawed loss: squared shorter arc distance (kinks at α-β = ±π)."""
    return shorter_arc_distance(alpha, beta) ** 2


def check_angle_loss(loss_fn: Callable, n_samples: int = 20001, seed: int = 0, h: float = 1e-6) -> dict:
    """Check the four required properties of an angle loss by dense sampling.

    ``loss_fn(alpha, beta)`` takes float64 tensors.  Checks, in order:

    1. symmetry ``L(a, b) = L(b, a)`` on random pairs;
    2. 2π-periodicity in each argument, ``L(a + 2πk, b) = L(a, b + 2πk) = L(a, b)``;
    3. ``L(a, b)`` depends only on the shorter arc distance ``δ(a, b)``:
       ``L(a, b) = L(0, δ)``;
    4. strict monotonic growth of ``δ ↦ L(0, δ)`` on ``[0, π]`` (``n_samples``
       grid points), so ``L`` is smallest exactly at the correct angle;
    5. differentiability: at random pairs *and* at ``a - b ∈ {0, ±π/2, ±π, ±2π,
       ±3π}`` (where naive formulas have kinks) the one-sided difference
       quotients in each argument agree, and the autograd gradient is finite
       and equals the central difference.
    """
    gen = torch.Generator().manual_seed(seed)
    n = int(n_samples)
    a = (torch.rand(n, generator=gen, dtype=DTYPE) - 0.5) * 4 * TWO_PI
    b = (torch.rand(n, generator=gen, dtype=DTYPE) - 0.5) * 4 * TWO_PI
    L = lambda x, y: as_tensor(loss_fn(x, y))  # noqa: E731
    lab = L(a, b)
    assert bool(torch.isfinite(lab).all()), "loss is not finite everywhere"
    scale = 1 + float(lab.abs().max())

    # 1. symmetry
    err_sym = float((lab - L(b, a)).abs().max())
    assert err_sym <= 1e-12 * scale, f"loss is not symmetric: max |L(a,b) - L(b,a)| = {err_sym:.3g}"

    # 2. periodicity
    k = torch.randint(1, 4, (n,), generator=gen).to(DTYPE) * torch.where(
        torch.rand(n, generator=gen) < 0.5, -1.0, 1.0
    ).to(DTYPE)
    err_per = max(float((L(a + TWO_PI * k, b) - lab).abs().max()),
                  float((L(a, b + TWO_PI * k) - lab).abs().max()))
    assert err_per <= 1e-9 * scale, f"loss is not 2π-periodic: max deviation {err_per:.3g}"

    # 3. only the shorter arc distance matters
    delta = shorter_arc_distance(a, b)
    err_arc = float((L(torch.zeros_like(delta), delta) - lab).abs().max())
    assert err_arc <= 1e-9 * scale, (
        f"loss is not a function of the shorter arc distance only: max |L(a,b) - L(0,δ)| = {err_arc:.3g}"
    )

    # 4. strictly increasing in δ on [0, π]
    grid = torch.linspace(0, math.pi, n, dtype=DTYPE)
    phi = L(torch.zeros_like(grid), grid)
    steps = phi[1:] - phi[:-1]
    worst = int(torch.argmin(steps))
    assert bool((steps > 0).all()), (
        f"loss is not strictly increasing in the shorter arc distance on [0, π]: "
        f"L(0, δ) decreases near δ = {float(grid[worst]):.4f}"
    )

    # 5. differentiability, including the special points
    special = torch.tensor([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0], dtype=DTYPE) * math.pi
    a_sp = (torch.rand(special.numel() * 8, generator=gen, dtype=DTYPE) - 0.5) * 2 * TWO_PI
    b_sp = a_sp - special.repeat(8)
    A = torch.cat([a_sp, a[: min(n, 2000)]])
    B = torch.cat([b_sp, b[: min(n, 2000)]])
    worst_jump = 0.0
    for which in (0, 1):
        X = (A if which == 0 else B).clone()

        def Lw(z):
            return L(z, B) if which == 0 else L(A, z)

        hp = (X + h) - X  # exact steps in floating point
        hm = X - (X - h)
        right = (Lw(X + h) - Lw(X)) / hp
        left = (Lw(X) - Lw(X - h)) / hm
        jump = (right - left).abs()
        worst_jump = max(worst_jump, float(jump.max()))
        bad = int(torch.argmax(jump))
        assert bool(torch.isfinite(right).all() and torch.isfinite(left).all()), "difference quotients not finite"
        assert float(jump.max()) <= 1e-3 * (1 + float(right.abs().max())), (
            f"loss is not differentiable in argument {which + 1}: one-sided derivatives "
            f"{float(left[bad]):.4g} vs {float(right[bad]):.4g} at a - b = {float(A[bad] - B[bad]):.6f}"
        )
        Xg = X.clone().requires_grad_(True)
        (gX,) = torch.autograd.grad(Lw(Xg).sum(), Xg)
        assert bool(torch.isfinite(gX).all()), f"autograd derivative not finite in argument {which + 1}"
        central = (right + left) / 2
        err_ad = float((gX - central).abs().max())
        assert err_ad <= 1e-4 * (1 + float(central.abs().max())), (
            f"autograd derivative disagrees with finite differences (max error {err_ad:.3g})"
        )
    return {
        "claim": "angle loss: symmetric, 2π-periodic, monotone in shorter arc, differentiable",
        "pairs": n,
        "grid on [0,π]": n,
        "special points": int(a_sp.numel()),
        "max one-sided jump": worst_jump,
    }


def plot_angle_loss(loss_fn: Callable = angle_loss, naive_fn: Callable | None = naive_angle_loss):
    """Plot ``L(0, β)`` and ``∂L/∂β`` for ``β ∈ [-2π, 2π]`` (and the naive loss for contrast)."""
    import matplotlib.pyplot as plt

    beta = torch.linspace(-TWO_PI, TWO_PI, 2001, dtype=DTYPE)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.6))
    curves = [("chosen: $1-\\cos(\\alpha-\\beta)$", loss_fn, "C0", "-")]
    if naive_fn is not None:
        curves.append(("naive: $2\\delta^2/\\pi^2$ (shorter arc $\\delta$, scaled)",
                       lambda x, y: 2 * naive_fn(x, y) / math.pi**2, "C3", "--"))
    for label, fn, color, ls in curves:
        bg = beta.clone().requires_grad_(True)
        val = as_tensor(fn(torch.zeros_like(bg), bg))
        (dval,) = torch.autograd.grad(val.sum(), bg)
        ax0.plot(beta, val.detach(), color=color, ls=ls, label=label)
        ax1.plot(beta, dval, color=color, ls=ls, label=label)
    for ax, title in ((ax0, "loss $L(0,\\beta)$"), (ax1, "derivative $\\partial L/\\partial\\beta$")):
        ax.set_xticks([k * math.pi for k in range(-2, 3)])
        ax.set_xticklabels(["$-2\\pi$", "$-\\pi$", "0", "$\\pi$", "$2\\pi$"])
        ax.set_xlabel("$\\beta$ (target $\\alpha = 0$)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    ax0.legend(loc="upper center", fontsize=8)
    fig.tight_layout()
    return fig
