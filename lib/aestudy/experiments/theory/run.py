"""Machine checks for the theory questions (notebooks/theory.ipynb), one module per question.

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

from .angles import (
    angle_loss,
    check_angle_gradient,
    check_angle_loss,
    check_naive_numbers,
    check_small_error_series,
    naive_angle_loss,
    plot_angle_loss,
)
from .chain import (
    check_chain_rule_a,
    check_chain_rule_b,
    check_chain_rule_c,
    check_chain_rule_d,
    derivative,
    partial,
)
from .checks import expect_check_failure, report
from .compose import check_composition_affine, check_composition_linear
from .descent import check_gd_fixed_points, grad, gradient_descent, hessian
from .second_order import (
    INCONCLUSIVE,
    MAX,
    MIN,
    NEITHER,
    SADDLE,
    check_second_order_test,
    check_taylor_coefficient_symbolic,
    check_taylor_second_order,
    classify_by_hessian,
)

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
    "MIN",
    "MAX",
    "SADDLE",
    "INCONCLUSIVE",
    "NEITHER",
    "classify_by_hessian",
    "check_second_order_test",
    "check_taylor_second_order",
    "check_taylor_coefficient_symbolic",
    # Q3
    "angle_loss",
    "naive_angle_loss",
    "check_angle_loss",
    "check_angle_gradient",
    "check_naive_numbers",
    "check_small_error_series",
    "plot_angle_loss",
    # Q4
    "partial",
    "derivative",
    "check_chain_rule_a",
    "check_chain_rule_b",
    "check_chain_rule_c",
    "check_chain_rule_d",
]
