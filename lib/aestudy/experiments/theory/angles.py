"""Question 3: a loss for angles, and the dense-sampling check of the properties such a loss needs
(symmetric, 2π-periodic, a function of the shorter arc only, increasing in it, differentiable)."""

from __future__ import annotations

import math
from collections.abc import Callable

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
    err_per = max(
        float((L(a + TWO_PI * k, b) - lab).abs().max()), float((L(a, b + TWO_PI * k) - lab).abs().max())
    )
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
        assert bool(torch.isfinite(right).all() and torch.isfinite(left).all()), (
            "difference quotients not finite"
        )
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


def check_angle_gradient(loss_fn: Callable, n_samples: int = 20001, seed: int = 0) -> dict:
    """Check the gradient statements of the answer by sampling: each partial derivative lies in
    [-1, 1], the gradient's norm is at most sqrt(2) and reaches it (at a - b = ±π/2), and the
    gradient vanishes only where a - b is a multiple of π (the minimum and the maximum).

    The bound is on autograd's gradient of ``loss_fn`` at ``n_samples`` random pairs plus the
    points a - b ∈ {±π/2}, where the norm is largest; the sentence it backs was once wrong
    ("the gradient is bounded by 1"), which is why it is checked rather than trusted."""
    gen = torch.Generator().manual_seed(seed)
    n = int(n_samples)
    a = (torch.rand(n, generator=gen, dtype=DTYPE) - 0.5) * 4 * TWO_PI
    b = (torch.rand(n, generator=gen, dtype=DTYPE) - 0.5) * 4 * TWO_PI
    quarter = torch.tensor([0.5, -0.5, 1.5, -1.5], dtype=DTYPE) * math.pi
    a = torch.cat([a, a[:4]])
    b = torch.cat([b, a[:4] - quarter])
    a.requires_grad_(True)
    b.requires_grad_(True)
    da, db = torch.autograd.grad(as_tensor(loss_fn(a, b)).sum(), (a, b))
    norm = torch.sqrt(da**2 + db**2)
    max_da, max_db, max_norm = float(da.abs().max()), float(db.abs().max()), float(norm.max())
    tol = 1e-12
    assert max_da <= 1 + tol and max_db <= 1 + tol, (
        f"a partial derivative exceeds 1 in absolute value: max |dL/da| = {max_da:.6g}, max |dL/db| = {max_db:.6g}"
    )
    assert max_norm <= math.sqrt(2) + tol, f"the gradient's norm exceeds sqrt(2): {max_norm:.6g}"
    assert max_norm >= math.sqrt(2) - 1e-9, (
        f"the gradient's norm never reaches sqrt(2) (max {max_norm:.6g}): the bound sqrt(2) is not tight"
    )
    delta = shorter_arc_distance(a.detach(), b.detach())
    off_pi = torch.minimum(delta, math.pi - delta)  # distance of a - b from the nearest multiple of π
    # vanishing only on πZ, as a sampled bound: ‖∇L‖ ≥ (2√2/π)·dist(a − b, πZ) (Jordan's inequality)
    floor = 2 * math.sqrt(2) / math.pi * off_pi
    gap = float((floor - norm).max())
    assert gap <= 1e-9, f"the gradient vanishes away from a - b ∈ πZ (‖∇L‖ falls {gap:.3g} below its floor)"
    return {
        "claim": "|∂L/∂α|, |∂L/∂β| ≤ 1 and ‖∇L‖ ≤ √2 (reached at α−β = ±π/2)",
        "pairs": n + 4,
        "max |∂L/∂α|": max_da,
        "max |∂L/∂β|": max_db,
        "max ‖∇L‖": max_norm,
    }


def check_naive_numbers(h: float = 1e-7) -> dict:
    """The numbers the answer quotes about the naive losses, recomputed: (α−β)² costs ≈ 39.4 at
    α = 0, β = 2π − 0.01; the squared shorter arc's derivative in β jumps from +2π to −2π at β = π
    (α = 0); |sin((α−β)/2)| has one-sided derivatives −1/2 and +1/2 at β = α = 0; and the chosen
    loss ranges over [0, 2]."""
    sq = (TWO_PI - 0.01) ** 2
    assert round(sq, 1) == 39.4, f"(2π − 0.01)² = {sq:.3f}, not ≈ 39.4"
    pi = torch.tensor(math.pi, dtype=DTYPE)
    zero = torch.tensor(0.0, dtype=DTYPE)
    left = float((naive_angle_loss(zero, pi) - naive_angle_loss(zero, pi - h)) / h)
    right = float((naive_angle_loss(zero, pi + h) - naive_angle_loss(zero, pi)) / h)
    assert abs(left - TWO_PI) < 1e-4 and abs(right + TWO_PI) < 1e-4, (
        f"the squared arc's one-sided derivatives at β = π are {left:.5f}, {right:.5f}, not +2π, −2π"
    )
    kink = lambda x: abs(math.sin(-x / 2))  # noqa: E731  |sin((α−β)/2)| at α = 0
    left_s, right_s = (kink(0.0) - kink(-h)) / h, (kink(h) - kink(0.0)) / h
    assert abs(left_s + 0.5) < 1e-6 and abs(right_s - 0.5) < 1e-6, (
        f"|sin((α−β)/2)| has one-sided derivatives {left_s:.6f}, {right_s:.6f} at 0, not −1/2, +1/2"
    )
    grid = torch.linspace(-TWO_PI, TWO_PI, 4001, dtype=DTYPE)
    values = angle_loss(zero, grid)
    assert abs(float(values.min())) < 1e-12 and abs(float(values.max()) - 2) < 1e-9, (
        "L does not range over [0, 2]"
    )
    return {
        "(2π−0.01)²": sq,
        "δ² jump at π": (left, right),
        "|sin| jump at 0": (left_s, right_s),
        "range of L": (float(values.min()), float(values.max())),
    }


def check_small_error_series(
    loss, approx, alpha, beta, order: int = 4, within: tuple[float, float] = (0.1, 1e-3)
) -> dict:
    """The answer's "for small errors L ≈ approx" as a statement about the Taylor series in the
    error e = α − β (sympy): with α = β + e, ``loss − approx`` is O(e^order), so ``approx`` is the
    leading term and the relative error of the approximation is O(e^(order − 2)); the next term of
    the series is returned with it. ``within = (E, r)``: the relative error |L − approx| / L stays
    below r for 0 < |e| ≤ E (sampled). ``loss`` and ``approx`` are sympy expressions in ``alpha``
    and ``beta``."""
    import sympy as sp

    e = sp.Symbol("e", real=True)
    on_error = lambda expr: sp.simplify(sp.sympify(expr).subs(alpha, beta + e))  # noqa: E731
    diff = sp.series(on_error(loss) - on_error(approx), e, 0, order).removeO()
    assert sp.simplify(diff) == 0, (
        f"for small errors L is not {approx} up to O(e^{order}): the series of L − ({approx}) in e = α − β "
        f"starts with {sp.simplify(diff)}"
    )
    assert on_error(approx) != 0, "the approximation is 0: not a leading term"
    following = (
        sp.series(on_error(loss), e, 0, order + 2).removeO()
        - sp.series(on_error(loss), e, 0, order).removeO()
    )
    largest, bound = within
    grid = np.concatenate(
        [np.linspace(-largest, -largest / 1000, 500), np.linspace(largest / 1000, largest, 500)]
    )
    f, g = (sp.lambdify(e, on_error(x).subs(beta, 0), "numpy") for x in (loss, approx))
    rel = float(np.max(np.abs(f(grid) - g(grid)) / np.abs(f(grid))))
    assert rel < bound, (
        f"the relative error of {approx} reaches {rel:.3g} for |α − β| ≤ {largest}, not below {bound}"
    )
    return {
        "claim": f"L = {approx} + O((α−β)^{order}) for small errors",
        "next term": str(sp.simplify(following)),
        f"max relative error for |α−β| ≤ {largest}": rel,
    }


def plot_angle_loss(loss_fn: Callable = angle_loss, naive_fn: Callable | None = naive_angle_loss):
    """Plot ``L(0, β)`` and ``∂L/∂β`` for ``β ∈ [-2π, 2π]`` (and the naive loss for contrast)."""
    import matplotlib.pyplot as plt

    beta = torch.linspace(-TWO_PI, TWO_PI, 2001, dtype=DTYPE)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.6))
    curves = [("chosen: $1-\\cos(\\alpha-\\beta)$", loss_fn, "C0", "-")]
    if naive_fn is not None:
        curves.append(
            (
                "naive: $2\\delta^2/\\pi^2$ (shorter arc $\\delta$, scaled)",
                lambda x, y: 2 * naive_fn(x, y) / math.pi**2,
                "C3",
                "--",
            )
        )
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
    # below both panels: inside, it would cover the peaks at ±π, where the naive loss has its kink
    fig.legend(*ax0.get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=10, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
