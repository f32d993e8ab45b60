"""Question 2(a): gradient descent stops exactly at critical points.

Also home of the autograd gradient and Hessian that the second-order checks use."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from .checks import DTYPE, as_tensor


def grad(f: Callable, x) -> torch.Tensor:
    """Gradient of a scalar ``f`` at ``x`` by torch.autograd (float64)."""
    x = as_tensor(x).detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x)
    return g.detach()


def hessian(f: Callable, x) -> torch.Tensor:
    """Hessian of a scalar ``f`` at ``x`` by torch.autograd (float64)."""
    x = as_tensor(x).detach().clone()
    H = torch.autograd.functional.hessian(f, x)
    return H.detach().reshape(x.numel(), x.numel())


def gradient_descent(
    grad_fn: Callable, theta0, alpha: float = 0.1, max_steps: int = 10_000, tol: float = 1e-12
) -> dict:
    """Run ``θ_{n+1} = θ_n - α ∇f(θ_n)`` until ``‖θ_{n+1} - θ_n‖ < tol`` (a fixed point)."""
    theta = as_tensor(theta0).clone()
    for step in range(1, max_steps + 1):
        new = theta - alpha * grad_fn(theta)
        moved = float(torch.linalg.vector_norm(new - theta))
        theta = new
        if moved < tol:
            return {"theta": theta, "steps": step, "converged": True}
    return {"theta": theta, "steps": max_steps, "converged": False}


def check_gd_fixed_points(
    grad_fn: Callable,
    stationary_points: Sequence,
    alpha: float = 0.1,
    n_random: int = 1000,
    dim: int = 2,
    seed: int = 0,
) -> dict:
    """Check: ``θ`` is a fixed point of the GD update iff ``∇f(θ) = 0`` (for ``α > 0``).

    * at each given stationary point the gradient vanishes and the update
      returns ``θ`` exactly;
    * at random points the step length equals ``α‖∇f(θ)‖`` and is non-zero
      wherever the gradient is non-zero.
    """
    assert alpha > 0, "the step size must be positive"
    for p in stationary_points:
        p = as_tensor(p)
        g = grad_fn(p)
        assert float(torch.linalg.vector_norm(g)) < 1e-12, f"∇f({p.tolist()}) = {g.tolist()} is not 0"
        assert torch.equal(p - alpha * g, p), f"GD moves away from stationary point {p.tolist()}"
    gen = torch.Generator().manual_seed(seed)
    thetas = torch.randn(n_random, dim, generator=gen, dtype=DTYPE) * 2
    n_moved = 0
    for th in thetas:
        g = grad_fn(th)
        step = float(torch.linalg.vector_norm((th - alpha * g) - th))
        gnorm = float(torch.linalg.vector_norm(g))
        assert math.isclose(step, alpha * gnorm, rel_tol=1e-9, abs_tol=1e-15), "step != α‖∇f‖"
        if gnorm > 1e-9:
            assert step > 0, f"GD does not move at {th.tolist()} although ∇f ≠ 0"
            n_moved += 1
    return {"claim": "fixed point of GD ⇔ ∇f = 0", "stationary": len(stationary_points), "moved": n_moved}
