"""Question 1: the composition of linear (affine) maps is linear (affine), with matrix ``AM``.

The maps have symbolic entries, so each identity is proved for all values, not sampled."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sympy as sp

from .checks import is_zero_symbolic


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

        assert is_zero_symbolic(h(s * u + t * v) - s * h(u) - t * h(v)), (
            f"f∘g is not linear for dims d,m,n={d},{m},{n}"
        )
        try:
            W = sp.Matrix(matrix_of_composition(A, M))
        except (sp.ShapeError, ValueError, TypeError) as err:
            raise AssertionError(
                f"claimed matrix of f∘g is not defined for A ({d}×{m}), M ({m}×{n}): {err}"
            ) from err
        assert W.shape == (d, n), f"claimed matrix of f∘g has shape {W.shape}, expected ({d}, {n})"
        assert is_zero_symbolic(h(u) - W * u), (
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
        assert is_zero_symbolic(lin(s * u + t * v) - s * lin(u) - t * lin(v)), (
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
        assert is_zero_symbolic(h(y) - (W * y + w)), (
            f"f(g(y)) != W y + w for the claimed (W, w) (dims d,m,n={d},{m},{n})"
        )
    return {"claim": "f∘g(y) = (AM) y + (Ac + b)", "dims (d,m,n)": dims}
