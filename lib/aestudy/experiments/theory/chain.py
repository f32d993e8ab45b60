"""Question 4: chain-rule answers checked against sympy and high-precision numeric derivatives
on concrete (and random) choices of the abstract functions."""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import sympy as sp

from .checks import is_zero_symbolic

_s, _t = sp.symbols("s t")


def partial(f: sp.Lambda, i: int) -> sp.Lambda:
    """``∂_{i+1} f`` as a ``sympy.Lambda`` with the same variables as ``f`` (``i`` is 0-based)."""
    return sp.Lambda(f.variables, sp.diff(f.expr, f.variables[i]))


def derivative(f: sp.Lambda) -> sp.Lambda:
    """``f'`` for a one-variable ``sympy.Lambda``."""
    return partial(f, 0)


def _assert_same_derivative(composed, claim, x, name: str, n_points: int, rng) -> None:
    """Assert ``claim == d composed / dx`` symbolically (sympy) and at random numeric points.

    The numeric part evaluates the claim and differentiates the composed
    function numerically with mpmath (high precision finite differences), so
    it does not rely on sympy's differentiation.
    """
    truth = sp.diff(composed, x)
    assert is_zero_symbolic(truth - claim), f"{name}: claimed derivative differs from sympy's: {claim}"
    others = [
        sym for sym in sorted(composed.free_symbols | sp.sympify(claim).free_symbols, key=str) if sym != x
    ]
    F = sp.lambdify([x, *others], composed, "mpmath")
    C = sp.lambdify([x, *others], claim, "mpmath")
    with mpmath.workdps(30):
        for _ in range(n_points):
            vals = [mpmath.mpf(float(v)) for v in rng.uniform(-1, 1, size=1 + len(others))]
            num = mpmath.diff(lambda xx: F(xx, *vals[1:]), vals[0])
            got = C(*vals)
            assert abs(num - got) <= mpmath.mpf("1e-15") * (1 + abs(num)), (
                f"{name}: at x = {float(vals[0]):.4f} numeric derivative {float(num):.10g} "
                f"!= claimed {float(got):.10g}"
            )


def _pool_1d() -> list[sp.Lambda]:
    s = _s
    return [
        sp.Lambda(s, sp.sin(s)),
        sp.Lambda(s, sp.exp(s / 2)),
        sp.Lambda(s, s**2 + 1),
        sp.Lambda(s, sp.cos(2 * s) - s),
        sp.Lambda(s, sp.log(1 + s**2)),
        sp.Lambda(s, s**3 - s / 3),
        sp.Lambda(s, sp.atan(s)),
    ]


def _pool_2d() -> list[sp.Lambda]:
    s, t = _s, _t
    return [
        sp.Lambda((s, t), s * t),
        sp.Lambda((s, t), sp.sin(s + 2 * t)),
        sp.Lambda((s, t), s**2 + sp.cos(t)),
        sp.Lambda((s, t), t * sp.exp(-(s**2)) - s),
        sp.Lambda((s, t), sp.log(1 + s**2 + t**2)),
    ]


def check_chain_rule_a(claim: Callable, seed: int = 0, n_points: int = 5) -> dict:
    """Check ``d/dx f(x+y, 2x, z)`` against concrete ``f``.

    ``claim(D, x, y, z)`` receives ``D = [∂1 f, ∂2 f, ∂3 f]`` (sympy Lambdas)
    and returns the claimed derivative; it is compared with sympy's
    derivative of ``f(x+y, 2x, z)`` and with numeric differentiation.
    """
    rng = np.random.default_rng(seed)
    x, y, z = sp.symbols("x y z")
    u, v, w = sp.symbols("u v w")
    coeffs = rng.integers(-3, 4, size=6)
    fs = [
        sp.Lambda((u, v, w), sp.sin(u) * v**2 + sp.exp(u * w) + v * w**3),
        sp.Lambda((u, v, w), u**3 * v - sp.log(1 + v**2) * w + sp.cos(u * v * w)),
        sp.Lambda((u, v, w), sp.exp(u - v) * (w + u**2)),
        sp.Lambda(
            (u, v, w),
            sum(int(c) * m for c, m in zip(coeffs, [u * v, v**2, u * w, u**2 * v, w, v * w**2])) + u * v,
        ),
    ]
    for i, f in enumerate(fs):
        D = [partial(f, j) for j in range(3)]
        composed = f(x + y, 2 * x, z)
        _assert_same_derivative(composed, claim(D, x, y, z), x, f"4(a) f={f.expr}", n_points, rng)
    return {"claim": "d/dx f(x+y,2x,z) = f_1 + 2 f_2", "functions": len(fs)}


def check_chain_rule_b(
    claim: Callable, seed: int = 0, max_depth: int = 5, n_random: int = 6, n_points: int = 3
) -> dict:
    """Check ``d/dx f1(f2(...fn(x)))`` for random chains of concrete functions.

    ``claim(fs, x)`` receives ``fs = [f1, ..., fn]`` (one-variable sympy
    Lambdas) and returns the claimed derivative (it may use :func:`derivative`).
    """
    rng = np.random.default_rng(seed)
    x = sp.Symbol("x")
    pool = _pool_1d()
    chains = [[pool[0]]] + [
        [pool[j] for j in rng.choice(len(pool), size=int(rng.integers(2, max_depth + 1)))]
        for _ in range(n_random)
    ]
    chains.append(pool[:max_depth])
    for fs in chains:
        composed = x
        for f in reversed(fs):
            composed = f(composed)
        _assert_same_derivative(composed, claim(fs, x), x, f"4(b) n={len(fs)}", n_points, rng)
    return {
        "claim": "(f1∘…∘fn)' = Π f_k'(inner)",
        "chains": len(chains),
        "depths": sorted({len(c) for c in chains}),
    }


def check_chain_rule_c(
    claim: Callable, seed: int = 0, max_depth: int = 4, n_random: int = 6, n_points: int = 3
) -> dict:
    """Check ``d/dx f1(x, f2(x, ... f_{n-1}(x, fn(x))))``.

    ``claim(fs, x)`` receives ``fs = [f1, ..., fn]``: ``f1..f_{n-1}`` are
    two-variable sympy Lambdas ``f_k(x, y)``, ``fn`` is a one-variable Lambda.
    """
    rng = np.random.default_rng(seed)
    x = sp.Symbol("x")
    p1, p2 = _pool_1d(), _pool_2d()
    chains = [[p1[0]], [p2[0], p1[1]]]
    for _ in range(n_random):
        k = int(rng.integers(2, max_depth + 1))
        chains.append([p2[j] for j in rng.choice(len(p2), size=k - 1)] + [p1[int(rng.integers(len(p1)))]])
    for fs in chains:
        composed = fs[-1](x)
        for f in reversed(fs[:-1]):
            composed = f(x, composed)
        _assert_same_derivative(composed, claim(fs, x), x, f"4(c) n={len(fs)}", n_points, rng)
    return {
        "claim": "g_k' = ∂1 f_k + ∂2 f_k · g_{k+1}'",
        "chains": len(chains),
        "depths": sorted({len(c) for c in chains}),
    }


def check_chain_rule_d(claim: Callable, seed: int = 0, n_random: int = 6, n_points: int = 3) -> dict:
    """Check ``d/dx f(x + g(x + h(x)))``; ``claim(f, g, h, x)`` gets one-variable Lambdas."""
    rng = np.random.default_rng(seed)
    x = sp.Symbol("x")
    pool = _pool_1d()
    triples = [tuple(pool[:3])] + [
        tuple(pool[j] for j in rng.choice(len(pool), size=3)) for _ in range(n_random)
    ]
    for f, g, h in triples:
        composed = f(x + g(x + h(x)))
        _assert_same_derivative(
            composed, claim(f, g, h, x), x, f"4(d) f={f.expr}, g={g.expr}, h={h.expr}", n_points, rng
        )
    return {"claim": "f'(x+g(x+h)) (1 + g'(x+h) (1 + h'))", "triples": len(triples)}
