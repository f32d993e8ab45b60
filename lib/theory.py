"""Machine checks for the theory questions (notebooks/theory.ipynb).

Every ``check_*`` function verifies one claim of the notebook, returns a small
``dict`` summarising what was checked, and raises ``AssertionError`` with a
clear message when the claim is false.  The notebook states its answers as
code (formulas, losses, derivative rules) and hands them to these functions,
so a wrong answer makes the notebook fail under papermill.

Conventions
-----------
* numeric work uses ``torch.float64``;
* symbolic work uses sympy; functions of one or several variables are
  ``sympy.Lambda`` objects, their partial derivatives come from
  :func:`partial` / :func:`derivative`;
* randomness is always driven by an explicit ``seed``.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import mpmath
import numpy as np
import sympy as sp
import torch
from sympy.matrices.expressions.matexpr import MatrixElement

TWO_PI = 2.0 * math.pi
DTYPE = torch.float64

__all__ = [
    "report",
    "expect_check_failure",
    # Q1
    "check_composition_linear",
    "check_composition_affine",
    # Q2
    "grad",
    "hessian",
    "gradient_descent",
    "check_gd_fixed_points",
    "classify_by_hessian",
    "empirical_nature",
    "check_second_order_test",
    "check_taylor_second_order",
    "check_taylor_coefficient_symbolic",
    # Q3
    "angle_loss",
    "naive_angle_loss",
    "shorter_arc_distance",
    "check_angle_loss",
    "plot_angle_loss",
    # Q4
    "partial",
    "derivative",
    "check_chain_rule_a",
    "check_chain_rule_b",
    "check_chain_rule_c",
    "check_chain_rule_d",
]


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------
def report(message: str, summary: dict | None = None) -> None:
    """Print ``✓ check passed: <message>`` plus a compact summary of the check's result dict."""
    line = f"✓ check passed: {message}"
    if summary:
        items = []
        for key, value in summary.items():
            if key == "claim":
                continue
            if isinstance(value, float):
                value = f"{value:.3g}"
            items.append(f"{key}={value}")
        if items:
            line += "  [" + ", ".join(items) + "]"
    print(line)


def expect_check_failure(check: Callable, *args, match: str | None = None, **kwargs) -> str:
    """Assert that ``check(*args, **kwargs)`` raises ``AssertionError``.

    Used to show that a *wrong* answer (e.g. a naive loss) is rejected.  If
    ``match`` is given, the error message must contain it (case-insensitive).
    Returns the error message.
    """
    try:
        check(*args, **kwargs)
    except AssertionError as err:  # the expected outcome
        msg = str(err)
        if match is not None:
            assert match.lower() in msg.lower(), (
                f"{check.__name__} failed, but not for the expected reason "
                f"{match!r}: {msg}"
            )
        return msg
    raise AssertionError(f"{check.__name__} accepted an answer that should have been rejected")


def _is_zero_symbolic(expr) -> bool:
    """True when a sympy scalar or matrix expression simplifies to zero."""
    if isinstance(expr, sp.MatrixBase):
        return all(_is_zero_symbolic(e) for e in expr)
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    # cheap refutation first: a clearly non-zero value at a random point
    syms = sorted(expr.atoms(sp.Symbol, MatrixElement), key=str)
    rng = np.random.default_rng(12345)
    for _ in range(3):
        point = {x: sp.Float(rng.uniform(-1, 1), 30) for x in syms}
        try:
            val = complex(expr.xreplace(point).evalf(30))
        except (TypeError, ValueError):  # not a finite number here: decide symbolically
            break
        if abs(val) > 1e-8:
            return False
    if sp.expand(expr) == 0:
        return True
    return sp.simplify(expr) == 0


def _as_tensor(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=DTYPE)


# ---------------------------------------------------------------------------
# Question 1: composition of linear / affine maps
# ---------------------------------------------------------------------------
def _symbolic_matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    """A ``rows x cols`` matrix of independent symbols ``name[i, j]``."""
    return sp.MatrixSymbol(name, rows, cols).as_explicit()


def check_composition_linear(
    matrix_of_composition: Callable,
    dims: Iterable[tuple[int, int, int]] = ((3, 4, 2), (3, 3, 3)),
) -> dict:
    """Check that ``h = f∘g`` with ``f(x)=Ax``, ``g(y)=My`` is linear with matrix ``matrix_of_composition(A, M)``.

    For each ``(d, m, n)`` the matrices ``A`` (d×m) and ``M`` (m×n) and the
    vectors ``u, v`` (n×1) have *symbolic* entries and ``s, t`` are symbolic
    scalars, so the identities below are proved for all values:

    * ``h(s u + t v) = s h(u) + t h(v)`` (linearity);
    * ``h(y) = W y`` with ``W = matrix_of_composition(A, M)`` of shape d×n.
    """
    dims = list(dims)
    s, t = sp.symbols("s t")
    for d, m, n in dims:
        A, M = _symbolic_matrix("A", d, m), _symbolic_matrix("M", m, n)
        u, v = _symbolic_matrix("u", n, 1), _symbolic_matrix("v", n, 1)

        def h(y):
            return A * (M * y)

        assert _is_zero_symbolic(h(s * u + t * v) - s * h(u) - t * h(v)), (
            f"f∘g is not linear for dims d,m,n={d},{m},{n}"
        )
        try:
            W = sp.Matrix(matrix_of_composition(A, M))
        except (sp.ShapeError, ValueError, TypeError) as err:
            raise AssertionError(
                f"claimed matrix of f∘g is not defined for A ({d}×{m}), M ({m}×{n}): {err}"
            ) from err
        assert W.shape == (d, n), f"claimed matrix of f∘g has shape {W.shape}, expected ({d}, {n})"
        assert _is_zero_symbolic(h(u) - W * u), (
            f"f∘g(y) != W y for the claimed matrix W (dims d,m,n={d},{m},{n})"
        )
    return {"claim": "composition of linear maps is linear, matrix AM", "dims (d,m,n)": dims}


def check_composition_affine(
    formula: Callable,
    dims: Iterable[tuple[int, int, int]] = ((3, 4, 2), (2, 3, 4), (3, 3, 3)),
) -> dict:
    """Check the claimed matrix/offset of ``f∘g`` for ``f(x)=Ax+b``, ``g(y)=My+c``.

    ``formula(A, b, M, c)`` must return ``(W, w)``.  For each ``(d, m, n)``
    with ``A`` d×m, ``b`` d×1, ``M`` m×n, ``c`` m×1 (all symbolic) the check
    asserts ``W`` is d×n, ``w`` is d×1, and ``f(g(y)) = W y + w`` identically
    in ``y``; it also checks ``y ↦ f(g(y)) - f(g(0))`` is linear, i.e. the
    composition is affine by definition.  Square dims (d=m=n) are included so
    that a formula with swapped order (``MA``) is caught by value, not only by
    shape.
    """
    dims = list(dims)
    s, t = sp.symbols("s t")
    for d, m, n in dims:
        A, b = _symbolic_matrix("A", d, m), _symbolic_matrix("b", d, 1)
        M, c = _symbolic_matrix("M", m, n), _symbolic_matrix("c", m, 1)
        y, u, v = (_symbolic_matrix(k, n, 1) for k in ("y", "u", "v"))

        def h(z):
            return A * (M * z + c) + b

        zero = sp.zeros(n, 1)
        lin = lambda z: h(z) - h(zero)  # noqa: E731
        assert _is_zero_symbolic(lin(s * u + t * v) - s * lin(u) - t * lin(v)), (
            "f∘g minus its value at 0 is not linear"
        )
        try:
            W, w = formula(A, b, M, c)
            W, w = sp.Matrix(W), sp.Matrix(w)
        except (sp.ShapeError, ValueError, TypeError) as err:
            raise AssertionError(
                f"claimed (matrix, offset) is not defined for A ({d}×{m}), b ({d}), "
                f"M ({m}×{n}), c ({m}): {err}"
            ) from err
        assert W.shape == (d, n), f"claimed matrix has shape {W.shape}, expected ({d}, {n}) (d×n)"
        assert w.shape == (d, 1), f"claimed offset has shape {w.shape}, expected ({d}, 1)"
        assert _is_zero_symbolic(h(y) - (W * y + w)), (
            f"f(g(y)) != W y + w for the claimed (W, w) (dims d,m,n={d},{m},{n})"
        )
    return {"claim": "f∘g(y) = (AM) y + (Ac + b)", "dims (d,m,n)": dims}


# ---------------------------------------------------------------------------
# Question 2: gradient descent, critical points, Hessian test, Taylor
# ---------------------------------------------------------------------------
def grad(f: Callable, x) -> torch.Tensor:
    """Gradient of a scalar ``f`` at ``x`` by torch.autograd (float64)."""
    x = _as_tensor(x).detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x)
    return g.detach()


def hessian(f: Callable, x) -> torch.Tensor:
    """Hessian of a scalar ``f`` at ``x`` by torch.autograd (float64)."""
    x = _as_tensor(x).detach().clone()
    H = torch.autograd.functional.hessian(f, x)
    return H.detach().reshape(x.numel(), x.numel())


def gradient_descent(
    grad_fn: Callable, theta0, alpha: float = 0.1, max_steps: int = 10_000, tol: float = 1e-12
) -> dict:
    """Run ``θ_{n+1} = θ_n - α ∇f(θ_n)`` until ``‖θ_{n+1} - θ_n‖ < tol`` (a fixed point)."""
    theta = _as_tensor(theta0).clone()
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
        p = _as_tensor(p)
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
    ev = _as_tensor(eigenvalues)
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
    x0 = _as_tensor(x0)
    dim = x0.numel()
    gen = torch.Generator().manual_seed(seed)
    eye = torch.eye(dim, dtype=DTYPE)
    _, vecs = torch.linalg.eigh(hessian(f, x0))
    dirs = [eye, vecs.T, torch.randn(n_directions, dim, generator=gen, dtype=DTYPE)]
    if extra_directions is not None:
        dirs.append(_as_tensor(extra_directions).reshape(-1, dim))
    dirs = torch.cat(dirs)
    dirs = dirs / torch.linalg.vector_norm(dirs, dim=1, keepdim=True)
    dirs = torch.cat([dirs, -dirs])
    f0 = f(x0.reshape(x0.shape))
    diffs = torch.stack(
        [f(x0 + r * d.reshape(x0.shape)) - f0 for r in radii for d in dirs]
    )
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
        x0 = _as_tensor(x0)
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
        rows.append({"case": name, "eigenvalues": [round(float(e), 6) + 0.0 for e in ev],
                     "test": test, "sampled": nature})
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
    x0 = _as_tensor(x0)
    g = _as_tensor(grad_f(x0)) if grad_f is not None else grad(f, x0)
    H = _as_tensor(hess_f(x0)) if hess_f is not None else hessian(f, x0)
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
        "max r(t)/t^2 at smallest t": max(final_ratios),
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
        assert _is_zero_symbolic(c2 - quad_factor * (uu.T * H * uu)[0, 0]), (
            f"t² coefficient of f(p+tu) for f = {fx} is not {quad_factor}·uᵀHu"
        )
    return {"claim": "t^2 coefficient = (1/2) u^T H u", "functions": len(funcs)}


# ---------------------------------------------------------------------------
# Question 3: a loss for angles
# ---------------------------------------------------------------------------
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
    d = torch.remainder(_as_tensor(alpha) - _as_tensor(beta), TWO_PI)
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
    L = lambda x, y: _as_tensor(loss_fn(x, y))  # noqa: E731
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
        val = _as_tensor(fn(torch.zeros_like(bg), bg))
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


# ---------------------------------------------------------------------------
# Question 4: chain rule
# ---------------------------------------------------------------------------
_s, _t, _w = sp.symbols("s t w")


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
    assert _is_zero_symbolic(truth - claim), f"{name}: claimed derivative differs from sympy's: {claim}"
    others = [sym for sym in sorted(composed.free_symbols | sp.sympify(claim).free_symbols, key=str) if sym != x]
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
        sp.Lambda((u, v, w), sum(int(c) * m for c, m in zip(coeffs, [u * v, v**2, u * w, u**2 * v, w, v * w**2])) + u * v),
    ]
    for i, f in enumerate(fs):
        D = [partial(f, j) for j in range(3)]
        composed = f(x + y, 2 * x, z)
        _assert_same_derivative(composed, claim(D, x, y, z), x, f"4(a) f={f.expr}", n_points, rng)
    return {"claim": "d/dx f(x+y,2x,z) = f_1 + 2 f_2", "functions": len(fs)}


def check_chain_rule_b(claim: Callable, seed: int = 0, max_depth: int = 5, n_random: int = 6,
                       n_points: int = 3) -> dict:
    """Check ``d/dx f1(f2(...fn(x)))`` for random chains of concrete functions.

    ``claim(fs, x)`` receives ``fs = [f1, ..., fn]`` (one-variable sympy
    Lambdas) and returns the claimed derivative (it may use :func:`derivative`).
    """
    rng = np.random.default_rng(seed)
    x = sp.Symbol("x")
    pool = _pool_1d()
    chains = [[pool[0]]] + [[pool[j] for j in rng.choice(len(pool), size=int(rng.integers(2, max_depth + 1)))]
                            for _ in range(n_random)]
    chains.append(pool[:max_depth])
    for fs in chains:
        composed = x
        for f in reversed(fs):
            composed = f(composed)
        _assert_same_derivative(composed, claim(fs, x), x, f"4(b) n={len(fs)}", n_points, rng)
    return {"claim": "(f1∘…∘fn)' = Π f_k'(inner)", "chains": len(chains),
            "depths": sorted({len(c) for c in chains})}


def check_chain_rule_c(claim: Callable, seed: int = 0, max_depth: int = 4, n_random: int = 6,
                       n_points: int = 3) -> dict:
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
    return {"claim": "g_k' = ∂1 f_k + ∂2 f_k · g_{k+1}'", "chains": len(chains),
            "depths": sorted({len(c) for c in chains})}


def check_chain_rule_d(claim: Callable, seed: int = 0, n_random: int = 6, n_points: int = 3) -> dict:
    """Check ``d/dx f(x + g(x + h(x)))``; ``claim(f, g, h, x)`` gets one-variable Lambdas."""
    rng = np.random.default_rng(seed)
    x = sp.Symbol("x")
    pool = _pool_1d()
    triples = [tuple(pool[:3])] + [tuple(pool[j] for j in rng.choice(len(pool), size=3)) for _ in range(n_random)]
    for f, g, h in triples:
        composed = f(x + g(x + h(x)))
        _assert_same_derivative(composed, claim(f, g, h, x), x, f"4(d) f={f.expr}, g={g.expr}, h={h.expr}", n_points, rng)
    return {"claim": "f'(x+g(x+h)) (1 + g'(x+h) (1 + h'))", "triples": len(triples)}
