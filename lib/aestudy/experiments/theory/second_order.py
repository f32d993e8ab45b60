"""Question 2(b): the Hessian second-order test at critical points and the second-order Taylor expansion.

The test's verdicts are compared with the point's nature found by sampling ``f`` around it, and
the ``½ hᵀHh`` term is checked numerically (remainder order) and symbolically (``t²`` coefficient)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp
import torch

from .checks import DTYPE, as_tensor, is_zero_symbolic
from .descent import grad, hessian

MIN, MAX, SADDLE, INCONCLUSIVE, NEITHER = (
    "local minimum",
    "local maximum",
    "saddle point",
    "inconclusive",
    "neither",
)


def classify_by_hessian(eigenvalues, tol: float = 1e-9) -> str:
    """Second-order test at a critical point from the Hessian's eigenvalues.

    * all ``> 0`` (positive definite)  -> ``"local minimum"``
    * all ``< 0`` (negative definite)  -> ``"local maximum"``
    * some ``> 0`` and some ``< 0`` (indefinite) -> ``"saddle point"``
    * otherwise (semi-definite with a zero eigenvalue) -> ``"inconclusive"``
    """
    ev = as_tensor(eigenvalues)
    if bool((ev > tol).all()):
        return MIN
    if bool((ev < -tol).all()):
        return MAX
    if bool((ev > tol).any()) and bool((ev < -tol).any()):
        return SADDLE
    return INCONCLUSIVE


def empirical_nature(
    f: Callable,
    x0,
    radii: Sequence[float] = (1e-1, 1e-2, 1e-3),
    n_directions: int = 200,
    seed: int = 0,
    extra_directions: torch.Tensor | None = None,
) -> str:
    """Sample ``f(x0 + h) - f(x0)`` on small spheres around ``x0``.

    Directions: ± coordinate axes, ± Hessian eigenvectors, ``extra_directions``
    and random unit vectors.  Returns ``"local minimum"`` if every sample is
    ``> 0``, ``"local maximum"`` if every sample is ``< 0``, ``"neither"`` if
    both signs occur (e.g. saddle, inflection), ``"flat"`` otherwise.
    """
    x0 = as_tensor(x0)
    dim = x0.numel()
    gen = torch.Generator().manual_seed(seed)
    eye = torch.eye(dim, dtype=DTYPE)
    _, vecs = torch.linalg.eigh(hessian(f, x0))
    dirs = [eye, vecs.T, torch.randn(n_directions, dim, generator=gen, dtype=DTYPE)]
    if extra_directions is not None:
        dirs.append(as_tensor(extra_directions).reshape(-1, dim))
    dirs = torch.cat(dirs)
    dirs = dirs / torch.linalg.vector_norm(dirs, dim=1, keepdim=True)
    dirs = torch.cat([dirs, -dirs])
    f0 = f(x0.reshape(x0.shape))
    diffs = torch.stack([f(x0 + r * d.reshape(x0.shape)) - f0 for r in radii for d in dirs])
    if bool((diffs > 0).all()):
        return MIN
    if bool((diffs < 0).all()):
        return MAX
    if bool((diffs > 0).any()) and bool((diffs < 0).any()):
        return NEITHER
    return "flat"


def check_second_order_test(
    cases: Sequence[tuple[str, Callable, object, str]],
    classify: Callable = classify_by_hessian,
    tol: float = 1e-9,
    seed: int = 0,
) -> list[dict]:
    """Check the second-order test on example critical points.

    ``cases`` holds ``(name, f, x0, true_nature)`` with ``true_nature`` in
    ``{"local minimum", "local maximum", "neither"}``.  For each case:

    1. ``∇f(x0) = 0`` (it is a critical point);
    2. sampling around ``x0`` confirms ``true_nature``;
    3. the test ``classify(eigenvalues of H)`` is right when it decides
       (min ↔ min, max ↔ max, saddle ↔ neither) and says ``"inconclusive"`` only
       when ``H`` is semi-definite and singular;
    4. necessary conditions: a minimum has ``H ⪰ 0``, a maximum ``H ⪯ 0``.

    Finally, if several cases are inconclusive, they must include different
    true natures (which shows the semi-definite test cannot decide).
    Returns one row per case.
    """
    rows = []
    for name, f, x0, true_nature in cases:
        x0 = as_tensor(x0)
        g = grad(f, x0)
        assert float(torch.linalg.vector_norm(g)) < 1e-9, f"{name}: ∇f(x0) = {g.tolist()} ≠ 0"
        ev = torch.linalg.eigvalsh(hessian(f, x0))
        test = classify(ev)
        nature = empirical_nature(f, x0, seed=seed)
        assert nature == true_nature, f"{name}: sampling says {nature!r}, case claims {true_nature!r}"
        if test != INCONCLUSIVE:
            expected = {MIN: MIN, MAX: MAX, SADDLE: NEITHER}.get(test)
            assert expected == nature, (
                f"{name}: Hessian eigenvalues {ev.tolist()} classified as {test!r}, "
                f"but the point is a {nature!r}"
            )
        else:
            semidefinite = bool((ev >= -tol).all()) or bool((ev <= tol).all())
            singular = bool((ev.abs() <= tol).any())
            assert semidefinite and singular, (
                f"{name}: classified 'inconclusive' although H (eigenvalues {ev.tolist()}) "
                "is definite or indefinite, where the test decides"
            )
        if nature == MIN:
            assert bool((ev >= -tol).all()), f"{name}: a minimum with a non-PSD Hessian {ev.tolist()}"
        if nature == MAX:
            assert bool((ev <= tol).all()), f"{name}: a maximum with a non-NSD Hessian {ev.tolist()}"
        rows.append(
            {
                "case": name,
                "eigenvalues": [round(float(e), 6) + 0.0 for e in ev],
                "test": test,
                "sampled": nature,
            }
        )
    inconclusive = {r["sampled"] for r in rows if r["test"] == INCONCLUSIVE}
    if sum(r["test"] == INCONCLUSIVE for r in rows) >= 2:
        assert len(inconclusive) >= 2, (
            "all inconclusive cases have the same nature; the examples do not show that the "
            "semi-definite case is undecided"
        )
    return rows


def check_taylor_second_order(
    f: Callable,
    x0,
    grad_f: Callable | None = None,
    hess_f: Callable | None = None,
    quad_factor: float = 0.5,
    n_directions: int = 8,
    ts: Sequence[float] = tuple(10.0 ** (-k / 2) for k in range(2, 9)),
    seed: int = 0,
) -> dict:
    """Check that ``f(x0+h) = f(x0) + ∇f·h + quad_factor·hᵀHh + o(‖h‖²)`` numerically.

    Along random unit directions ``u`` and ``h = t u`` with ``t`` from 1e-1
    down to 1e-4 the remainder ``r(t)`` must satisfy ``r(t)/t² → 0``: the
    ratio at the smallest ``t`` is below ``1e-2·(1 + |uᵀHu|)`` and the observed
    order of ``r`` (median local slope of ``log r`` against ``log t``, above the
    rounding floor) is ``> 2.5`` (it is 3 for smooth ``f``).  With the wrong
    factor (e.g. 1 instead of 1/2) ``r(t)/t²`` tends to a non-zero constant
    and the check fails.  ``grad_f``/``hess_f`` default to torch.autograd.
    """
    x0 = as_tensor(x0)
    g = as_tensor(grad_f(x0)) if grad_f is not None else grad(f, x0)
    H = as_tensor(hess_f(x0)) if hess_f is not None else hessian(f, x0)
    gen = torch.Generator().manual_seed(seed)
    f0 = float(f(x0))
    orders, final_ratios = [], []
    ts = np.asarray(ts, dtype=float)
    for _ in range(n_directions):
        u = torch.randn(x0.numel(), generator=gen, dtype=DTYPE)
        u = u / torch.linalg.vector_norm(u)
        gu, uHu = float(g @ u), float(u @ H @ u)
        errs = np.array([abs(float(f(x0 + t * u)) - (f0 + t * gu + quad_factor * t * t * uHu)) for t in ts])
        ratio = errs / ts**2
        final_ratios.append(float(ratio[-1]))
        assert ratio[-1] < 1e-2 * (1 + abs(uHu)), (
            f"Taylor remainder is not o(|h|²): r(t)/t² = {ratio[-1]:.3g} at t = {ts[-1]:.1g} "
            f"(quad_factor = {quad_factor}, uᵀHu = {uHu:.3g})"
        )
        usable = errs > 1e3 * np.finfo(float).eps * (1 + abs(f0))  # above the rounding floor
        if usable.sum() >= 2:  # otherwise f is (numerically) exactly quadratic along u
            # median of the local slopes of log r against log t: robust to an accidental
            # cancellation of the cubic and quartic terms at one t
            lt, le = np.log(ts[usable]), np.log(errs[usable])
            order = float(np.median(np.diff(le) / np.diff(lt)))
            orders.append(order)
            assert order > 2.5, f"Taylor remainder has order {order:.2f} in |h|, expected > 2 (o(|h|²))"
    return {
        "claim": "second-order Taylor remainder is o(|h|^2)",
        "directions": n_directions,
        "r(t)/t^2 at the smallest t (largest over the directions)": max(final_ratios),
        "fitted order": round(float(np.median(orders)), 2) if orders else "exact",
    }


def check_taylor_coefficient_symbolic(quad_factor=sp.Rational(1, 2)) -> dict:
    """Symbolic check: the ``t²`` coefficient of ``f(p + t u)`` is ``quad_factor·uᵀ H(p) u``.

    Done with sympy for a few concrete ``f(x, y)`` at a symbolic point ``p``
    and a symbolic direction ``u``.
    """
    x, y, p, q, u, v, t = sp.symbols("x y p q u v t", real=True)
    funcs = [sp.sin(x) * sp.exp(y), x**3 * y - y**2 + x * y, sp.cos(x * y) + x**4]
    for fx in funcs:
        H = sp.hessian(fx, (x, y)).subs({x: p, y: q})
        uu = sp.Matrix([u, v])
        along = fx.subs({x: p + t * u, y: q + t * v}, simultaneous=True)
        c2 = sp.series(along, t, 0, 3).removeO().coeff(t, 2)
        assert is_zero_symbolic(c2 - quad_factor * (uu.T * H * uu)[0, 0]), (
            f"t² coefficient of f(p+tu) for f = {fx} is not {quad_factor}·uᵀHu"
        )
    return {"claim": "t^2 coefficient = (1/2) u^T H u", "functions": len(funcs)}
