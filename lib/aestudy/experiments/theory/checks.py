"""What every theory check shares: how a passed check is reported, how a rejected answer is shown,
and the float64 / symbolic-zero tests the checks are built on."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp
import torch
from sympy.matrices.expressions.matexpr import MatrixElement

DTYPE = torch.float64


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
                f"{check.__name__} failed, but not for the expected reason {match!r}: {msg}"
            )
        return msg
    raise AssertionError(f"{check.__name__} accepted an answer that should have been rejected")


def is_zero_symbolic(expr) -> bool:
    """True when a sympy scalar or matrix expression simplifies to zero."""
    if isinstance(expr, sp.MatrixBase):
        return all(is_zero_symbolic(e) for e in expr)
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


def as_tensor(x) -> torch.Tensor:
    """``x`` as a tensor of :data:`DTYPE`, the dtype of all numeric checks."""
    return torch.as_tensor(x, dtype=DTYPE)
