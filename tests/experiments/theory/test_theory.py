"""Tests for notebooks/theory.ipynb and lib/aestudy/experiments/theory/.

* the committed notebook is clean (no outputs) and well formed;
* it executes under papermill, prints every check line and saves the plot;
* the checks in lib/aestudy/experiments/theory/ bite: wrong answers (dropped 1/2, swapped
  composition order, non-periodic / kinked / non-monotone losses, wrong chain
  rules, wrong Hessian classification) raise AssertionError;
* mutating the notebook's own answers makes the notebook fail under papermill.
"""

from __future__ import annotations

import math
import pathlib
import sys

import nbformat
import papermill as pm
import pytest
import sympy as sp
import torch

REPO = pathlib.Path(__file__).resolve().parents[3]
NOTEBOOK = REPO / "notebooks" / "theory.ipynb"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from aestudy.experiments.theory import run as T  # noqa: E402

CHECK_PREFIX = "✓ check passed:"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _code_sources(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _stream_text(nb) -> str:
    return "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "stream"
    )


def _execute(src: pathlib.Path, dst: pathlib.Path, **parameters):
    return pm.execute_notebook(
        str(src),
        str(dst),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(REPO),
        progress_bar=False,
    )


# ---------------------------------------------------------------------------
# the notebook file itself
# ---------------------------------------------------------------------------
def test_committed_notebook_is_clean_and_well_formed():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert (
        nb.metadata["kernelspec"]["name"] == "python3"
    )  # the rest as JupyterLab saves it: test_notebooks_tidy
    assert nb.metadata["language_info"]["name"] == "python"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], "notebook must be committed without outputs"
            assert cell.execution_count is None
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.splitlines()[0] == "# Theory"
    headings = [
        line
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("## ")
    ]
    assert [h.split(":")[0] for h in headings] == [f"## Question {i}" for i in range(1, 5)]
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code"
    params = {}
    exec(tagged[0].source, {}, params)
    assert params == {"seed": 0, "n_samples": 20001, "out_dir": None}


@pytest.mark.slow
def test_notebook_executes_and_every_check_passes(tmp_path):
    out_dir = tmp_path / "figures"
    nb = _execute(NOTEBOOK, tmp_path / "out.ipynb", seed=1, n_samples=20001, out_dir=str(out_dir))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    text = _stream_text(nb)
    printed = [line for line in text.splitlines() if line.startswith(CHECK_PREFIX)]
    n_reports = sum(src.count("theory.report(") for src in _code_sources(nb))
    assert n_reports >= 14
    assert len(printed) == n_reports, f"expected {n_reports} check lines, got {len(printed)}:\n{text}"
    for expected in [
        "composition of affine maps is affine with matrix AM (d×n) and offset Ac+b",
        "θ is a fixed point of the GD update ⇔ ∇f(θ) = 0",
        "½ hᵀHh + o(|h|²)",
        "Hessian test",
        "L(α,β) = 1 − cos(α−β) is symmetric",
        "for small errors L = ½(α−β)²",
        "each naive loss is rejected",
        "d/dx f(x+y, 2x, z) = f₁(x+y, 2x, z) + 2 f₂(x+y, 2x, z)",
        "g_k' = ∂1 f_k(x, g_{k+1}) + ∂2 f_k(x, g_{k+1}) · g_{k+1}'",
        "d/dx f(x + g(x + h(x)))",
    ]:
        assert any(expected in line for line in printed), f"missing check line containing {expected!r}"
    png = out_dir / "theory_loss.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


NOTEBOOK_MUTATIONS = [
    pytest.param(
        "return 1 - torch.cos(alpha - beta)", "return (alpha - beta) ** 2", "periodic", id="loss-not-periodic"
    ),
    pytest.param("half = 0.5", "half = 1.0", "o(|h|²)", id="taylor-without-half"),
]


@pytest.mark.slow
@pytest.mark.parametrize("original, mutated, reason", NOTEBOOK_MUTATIONS)
def test_mutated_notebook_fails(tmp_path, original, mutated, reason):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    hits = [c for c in nb.cells if c.cell_type == "code" and original in c.source]
    assert len(hits) == 1, f"mutation target {original!r} not found exactly once"
    hits[0].source = hits[0].source.replace(original, mutated)
    src = tmp_path / "mutated.ipynb"
    nbformat.write(nb, src)
    with pytest.raises(pm.PapermillExecutionError) as info:
        _execute(src, tmp_path / "out.ipynb")
    assert info.value.ename == "AssertionError"
    assert reason in info.value.evalue


# ---------------------------------------------------------------------------
# Question 1
# ---------------------------------------------------------------------------
def good_affine(A, b, M, c):
    return A * M, A * c + b


def test_composition_checks_accept_correct_formulas():
    assert T.check_composition_linear(lambda A, M: A * M)["dims (d,m,n)"]
    assert T.check_composition_affine(good_affine)["dims (d,m,n)"]


@pytest.mark.parametrize(
    "formula",
    [
        pytest.param(lambda A, b, M, c: (M * A, A * c + b), id="swapped-matrix-MA"),
        pytest.param(lambda A, b, M, c: (A * M, M * b + c), id="swapped-offset-Mb+c"),
        pytest.param(lambda A, b, M, c: (A * M, A * c), id="offset-missing-b"),
        pytest.param(lambda A, b, M, c: (A * M, b + c), id="offset-b+c"),
        pytest.param(lambda A, b, M, c: (A * M, A * b + c), id="offset-Ab+c"),
    ],
)
def test_composition_affine_rejects_wrong_formulas(formula):
    with pytest.raises(AssertionError):
        T.check_composition_affine(formula)


def test_composition_swapped_order_rejected_by_value_for_square_matrices():
    with pytest.raises(AssertionError, match="f\\(g\\(y\\)\\) != W y \\+ w"):
        T.check_composition_affine(lambda A, b, M, c: (M * A, A * c + b), dims=[(3, 3, 3)])
    with pytest.raises(AssertionError):
        T.check_composition_linear(lambda A, M: M * A)
    with pytest.raises(AssertionError, match="f∘g\\(y\\) != W y"):
        T.check_composition_linear(lambda A, M: M * A, dims=[(2, 2, 2)])


# ---------------------------------------------------------------------------
# Question 2
# ---------------------------------------------------------------------------
def f_taylor(v):
    return torch.sin(v[0]) * torch.exp(v[1]) + v[0] ** 2 * v[1] + torch.cos(v[2]) * v[0]


X0 = torch.tensor([0.3, -0.7, 1.1], dtype=torch.float64)


def test_taylor_check_accepts_half_and_rejects_other_factors():
    res = T.check_taylor_second_order(f_taylor, X0, quad_factor=0.5)
    assert 2.5 < res["fitted order"] < 3.5
    for wrong in (1.0, 0.0, 0.25):
        with pytest.raises(AssertionError, match="o\\(\\|h\\|²\\)"):
            T.check_taylor_second_order(f_taylor, X0, quad_factor=wrong)


def test_taylor_check_with_explicit_gradient_and_hessian():
    # f(x) = sum(exp(x)): grad = exp(x), Hessian = diag(exp(x))
    f = lambda v: torch.exp(v).sum()  # noqa: E731
    T.check_taylor_second_order(f, X0, grad_f=torch.exp, hess_f=lambda v: torch.diag(torch.exp(v)))
    with pytest.raises(AssertionError):  # a wrong Hessian is caught as well
        T.check_taylor_second_order(f, X0, grad_f=torch.exp, hess_f=lambda v: 2 * torch.diag(torch.exp(v)))


def test_taylor_coefficient_symbolic():
    T.check_taylor_coefficient_symbolic(sp.Rational(1, 2))
    with pytest.raises(AssertionError, match="t² coefficient"):
        T.check_taylor_coefficient_symbolic(1)


CASES = [
    ("x²+y²", lambda v: v[0] ** 2 + v[1] ** 2, [0.0, 0.0], T.MIN),
    ("−(x²+y²)", lambda v: -(v[0] ** 2 + v[1] ** 2), [0.0, 0.0], T.MAX),
    ("x²−y²", lambda v: v[0] ** 2 - v[1] ** 2, [0.0, 0.0], T.NEITHER),
    ("x⁴", lambda v: v[0] ** 4, [0.0], T.MIN),
    ("−x⁴", lambda v: -(v[0] ** 4), [0.0], T.MAX),
    ("x³", lambda v: v[0] ** 3, [0.0], T.NEITHER),
    ("x²+y³", lambda v: v[0] ** 2 + v[1] ** 3, [0.0, 0.0], T.NEITHER),
]


def test_second_order_test_correct_classifier():
    rows = T.check_second_order_test(CASES)
    tests = {r["case"]: r["test"] for r in rows}
    assert tests == {
        "x²+y²": T.MIN,
        "−(x²+y²)": T.MAX,
        "x²−y²": T.SADDLE,
        "x⁴": T.INCONCLUSIVE,
        "−x⁴": T.INCONCLUSIVE,
        "x³": T.INCONCLUSIVE,
        "x²+y³": T.INCONCLUSIVE,
    }


def _psd_means_min(ev, tol=1e-9):
    ev = torch.as_tensor(ev)
    return T.MIN if bool((ev >= -tol).all()) else T.classify_by_hessian(ev)


def _swap_min_max(ev):
    c = T.classify_by_hessian(ev)
    return {T.MIN: T.MAX, T.MAX: T.MIN}.get(c, c)


def _indefinite_inconclusive(ev):
    c = T.classify_by_hessian(ev)
    return T.INCONCLUSIVE if c == T.SADDLE else c


def _indefinite_is_min(ev):
    c = T.classify_by_hessian(ev)
    return T.MIN if c == T.SADDLE else c


@pytest.mark.parametrize(
    "classify",
    [
        pytest.param(_psd_means_min, id="psd-means-min"),
        pytest.param(_swap_min_max, id="min-max-swapped"),
        pytest.param(_indefinite_inconclusive, id="indefinite-inconclusive"),
        pytest.param(_indefinite_is_min, id="indefinite-min"),
        pytest.param(lambda ev: T.INCONCLUSIVE, id="always-inconclusive"),
    ],
)
def test_second_order_test_rejects_wrong_classifiers(classify):
    with pytest.raises(AssertionError):
        T.check_second_order_test(CASES, classify=classify)


def test_second_order_test_rejects_wrong_case_data():
    with pytest.raises(AssertionError, match="sampling says"):  # x³ is not a minimum
        T.check_second_order_test([("x³", lambda v: v[0] ** 3, [0.0], T.MIN)])
    with pytest.raises(AssertionError, match="≠ 0"):  # not a critical point
        T.check_second_order_test([("x²", lambda v: v[0] ** 2, [1.0], T.MIN)])
    with pytest.raises(AssertionError, match="same nature"):  # inconclusive cases must differ in nature
        T.check_second_order_test(
            [
                ("x⁴", lambda v: v[0] ** 4, [0.0], T.MIN),
                ("y⁴", lambda v: v[0] ** 4 + v[1] ** 2, [0.0, 0.0], T.MIN),
            ]
        )


def test_gradient_descent_fixed_points():
    f = lambda v: v[0] ** 2 - v[1] ** 2  # noqa: E731
    g = lambda v: T.grad(f, v)  # noqa: E731
    T.check_gd_fixed_points(g, [[0.0, 0.0]])
    with pytest.raises(AssertionError, match="is not 0"):
        T.check_gd_fixed_points(g, [[1.0, 0.0]])
    run = T.gradient_descent(g, [1.0, 0.0], alpha=0.1)
    assert run["converged"] and float(run["theta"].abs().max()) < 1e-9
    assert not T.gradient_descent(g, [1.0, 1e-3], alpha=0.1, max_steps=200)["converged"]  # escapes off-axis


# ---------------------------------------------------------------------------
# Question 3
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_angle_loss_passes(seed):
    res = T.check_angle_loss(T.angle_loss, n_samples=5001, seed=seed)
    assert res["pairs"] == 5001
    T.check_angle_loss(lambda a, b: 2 * torch.sin((a - b) / 2) ** 2, n_samples=5001, seed=seed)


def test_angle_loss_numpy_and_torch_agree():
    a, b = torch.linspace(-7, 7, 11, dtype=torch.float64), torch.linspace(3, -9, 11, dtype=torch.float64)
    assert torch.allclose(T.angle_loss(a, b), torch.as_tensor(T.angle_loss(a.numpy(), b.numpy())))
    assert math.isclose(float(T.angle_loss(0.0, math.pi)), 2.0)


@pytest.mark.parametrize(
    "loss, reason",
    [
        pytest.param(lambda a, b: (a - b) ** 2, "periodic", id="squared-difference"),
        pytest.param(lambda a, b: torch.abs(torch.sin((a - b) / 2)), "differentiable", id="abs-kink-at-0"),
        pytest.param(T.naive_angle_loss, "differentiable", id="squared-arc-kink-at-pi"),
        pytest.param(lambda a, b: 1 - torch.cos(2 * (a - b)), "increasing", id="not-monotone"),
        pytest.param(lambda a, b: torch.cos(a - b), "increasing", id="decreasing"),
        pytest.param(lambda a, b: (torch.sin(a) - torch.sin(b)) ** 2, "shorter arc", id="not-arc-only"),
        pytest.param(
            lambda a, b: 1 - torch.cos(a - b) + 0.1 * torch.sin(a - b), "symmetric", id="asymmetric"
        ),
    ],
)
def test_angle_loss_check_rejects_bad_losses(loss, reason):
    with pytest.raises(AssertionError, match=reason):
        T.check_angle_loss(loss, n_samples=5001, seed=0)


def test_angle_gradient_bound_is_sqrt2_not_1():
    res = T.check_angle_gradient(T.angle_loss, n_samples=5001, seed=0)
    assert res["max ‖∇L‖"] > 1.41 and res["max |∂L/∂β|"] <= 1 + 1e-12


@pytest.mark.parametrize(
    "loss, reason",
    [
        pytest.param(
            lambda a, b: 2 * (1 - torch.cos(a - b)), "partial derivative exceeds 1", id="twice-steeper"
        ),
        pytest.param(lambda a, b: 0.5 * (1 - torch.cos(a - b)), "never reaches", id="bound-not-tight"),
        pytest.param(
            lambda a, b: torch.cos(a - b) / 2 - torch.cos(3 * (a - b)) / 6,
            "vanishes away",
            id="flat-off-the-lattice",
        ),
    ],
)
def test_angle_gradient_check_rejects_wrong_statements(loss, reason):
    with pytest.raises(AssertionError, match=reason):
        T.check_angle_gradient(loss, n_samples=5001, seed=0)


def test_naive_loss_numbers_quoted_by_the_answer():
    res = T.check_naive_numbers()
    assert round(res["(2π−0.01)²"], 1) == 39.4 and res["range of L"][1] == pytest.approx(2.0)


def test_expect_check_failure_raises_when_check_passes():
    with pytest.raises(AssertionError, match="accepted"):
        T.expect_check_failure(T.check_angle_loss, T.angle_loss, n_samples=501)
    with pytest.raises(AssertionError, match="expected reason"):
        T.expect_check_failure(T.check_angle_loss, lambda a, b: (a - b) ** 2, n_samples=501, match="monotone")


def test_plot_angle_loss(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    fig = T.plot_angle_loss(T.angle_loss)
    fig.savefig(tmp_path / "x.png")
    assert len(fig.axes) == 2 and (tmp_path / "x.png").stat().st_size > 0


# ---------------------------------------------------------------------------
# Question 4
# ---------------------------------------------------------------------------
def answer_4a(D, x, y, z):
    p = (x + y, 2 * x, z)
    return D[0](*p) + 2 * D[1](*p)


def answer_4b(fs, x):
    args = [x]
    for f in reversed(fs[1:]):
        args.append(f(args[-1]))
    args.reverse()
    return sp.Mul(*(T.derivative(f)(a) for f, a in zip(fs, args)))


def answer_4c(fs, x, drop_first=False, sign=1):
    g, dg = fs[-1](x), T.derivative(fs[-1])(x)
    for f in reversed(fs[:-1]):
        first = 0 if drop_first else T.partial(f, 0)(x, g)
        g, dg = f(x, g), first + sign * T.partial(f, 1)(x, g) * dg
    return dg


def answer_4d(f, g, h, x):
    df, dg, dh = T.derivative(f), T.derivative(g), T.derivative(h)
    return df(x + g(x + h(x))) * (1 + dg(x + h(x)) * (1 + dh(x)))


def test_chain_rule_checks_accept_correct_answers():
    T.check_chain_rule_a(answer_4a)
    T.check_chain_rule_b(answer_4b)
    T.check_chain_rule_c(answer_4c)
    T.check_chain_rule_d(answer_4d)


@pytest.mark.parametrize(
    "check, claim",
    [
        pytest.param(
            T.check_chain_rule_a,
            lambda D, x, y, z: D[0](x + y, 2 * x, z) - 2 * D[1](x + y, 2 * x, z),
            id="4a-sign",
        ),
        pytest.param(
            T.check_chain_rule_a,
            lambda D, x, y, z: D[0](x + y, 2 * x, z) + D[1](x + y, 2 * x, z),
            id="4a-missing-factor-2",
        ),
        pytest.param(
            T.check_chain_rule_a, lambda D, x, y, z: D[0](x, y, z) + 2 * D[1](x, y, z), id="4a-wrong-point"
        ),
        pytest.param(
            T.check_chain_rule_b, lambda fs, x: sp.Mul(*(T.derivative(f)(x) for f in fs)), id="4b-all-at-x"
        ),
        pytest.param(
            T.check_chain_rule_b,
            lambda fs, x: answer_4b(fs, x) / T.derivative(fs[-1])(x),
            id="4b-missing-innermost",
        ),
        pytest.param(
            T.check_chain_rule_c, lambda fs, x: answer_4c(fs, x, drop_first=True), id="4c-missing-d1"
        ),
        pytest.param(T.check_chain_rule_c, lambda fs, x: answer_4c(fs, x, sign=-1), id="4c-sign"),
        pytest.param(
            T.check_chain_rule_d,
            lambda f, g, h, x: (
                T.derivative(f)(x + g(x + h(x))) * (1 + T.derivative(g)(x + h(x)) * T.derivative(h)(x))
            ),
            id="4d-missing-inner-1",
        ),
        pytest.param(
            T.check_chain_rule_d,
            lambda f, g, h, x: (
                T.derivative(f)(x + g(x + h(x))) * T.derivative(g)(x + h(x)) * (1 + T.derivative(h)(x))
            ),
            id="4d-missing-outer-1",
        ),
    ],
)
def test_chain_rule_checks_reject_wrong_answers(check, claim):
    with pytest.raises(AssertionError, match="claimed derivative differs"):
        check(claim)


def test_the_small_error_approximation_of_the_angle_loss_is_checked():
    """Issue 30: 'L = 1/2 (a - b)^2 for small errors' is a series statement, checked by sympy; a
    wrong leading term is rejected."""
    import sympy as sp

    a, b = sp.symbols("alpha beta", real=True)
    res = T.check_small_error_series(1 - sp.cos(a - b), (a - b) ** 2 / 2, a, b)
    assert res["next term"] == "-e**4/24" and res["max relative error for |α−β| ≤ 0.1"] < 1e-3
    with pytest.raises(AssertionError, match="is not"):
        T.check_small_error_series(1 - sp.cos(a - b), (a - b) ** 2, a, b)
    with pytest.raises(AssertionError, match="relative error"):
        T.check_small_error_series(1 - sp.cos(a - b), (a - b) ** 2 / 2, a, b, within=(1.0, 1e-3))


def test_the_angle_check_states_its_number_of_pairs_not_the_parameter_name():
    """Review C3: the Q3 check's description prints n as a number ('n = 12,345 (`n_samples`)'),
    from the run's own parameter; no markdown cell leaves `n_samples` where a number belongs."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any("= `n_samples`" in c.source for c in nb.cells if c.cell_type == "markdown")
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and "*Check.* With $n$" in c.source]
    shown = []
    exec(cell.source, {"n_samples": 12345, "Markdown": str, "display": shown.append})
    assert len(shown) == 1 and shown[0].startswith(
        "*Check.* With $n$ = 12,345 (`n_samples`) random pairs in $"
    )
    assert "on an $n$-point grid" in shown[0]
