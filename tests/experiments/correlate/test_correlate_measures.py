"""Experiment 3's measures: the latent correlation (off the diagonal, constant dimensions, shapes), the
participation ratio, and what a remixing of the code changes; on hand-made inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aestudy.experiments.correlate import run as correlation

# ------------------------------------------------------------------ correlations


def test_latent_correlation_hand_computed_and_offdiag_ignores_diagonal():
    # b = 2a (corr +1), c is orthogonal to a and b after centring (corr 0), e = reversed a (corr -1 with a, b; 0 with c)
    a = [1.0, 2.0, 3.0, 4.0]
    b = [2.0, 4.0, 6.0, 8.0]
    c = [1.0, 0.0, 0.0, 1.0]
    e = [4.0, 3.0, 2.0, 1.0]
    z = np.array([a, b, c, e]).T
    res = correlation.latent_correlation(z)
    expected = np.array([[1, 1, 0, -1], [1, 1, 0, -1], [0, 0, 1, 0], [-1, -1, 0, 1]], dtype=float)
    np.testing.assert_allclose(res["matrix"], expected, atol=1e-12)
    # off-diagonal: 12 entries, 6 of them |1|  -> 0.5 ; with the diagonal: (4 + 6) / 16
    assert res["offdiag"] == pytest.approx(6 / 12)
    assert res["with_diag"] == pytest.approx(10 / 16)
    assert res["constant_dims"] == []
    # the diagonal alone (uncorrelated dims) gives offdiag 0 but with_diag 1/d
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(50, 5)))
    q = q - q.mean(0)  # centred columns of an orthonormal basis are not exactly orthogonal: re-orthogonalise
    q, _ = np.linalg.qr(q)
    res = correlation.latent_correlation(q)
    assert res["offdiag"] < 0.2
    assert res["with_diag"] == pytest.approx((1 + 4 * res["offdiag"]) / 5)


def test_latent_correlation_constant_dimension_counts_as_zero():
    z = np.array([[1.0, 2.0, 5.0], [2.0, 4.0, 5.0], [3.0, 6.5, 5.0], [4.0, 8.0, 5.0]])
    res = correlation.latent_correlation(z)
    assert res["constant_dims"] == [2]
    assert not np.isnan(res["matrix"]).any()
    assert res["matrix"][2, 2] == 1.0 and res["matrix"][0, 2] == 0.0
    r01 = np.corrcoef(z[:, 0], z[:, 1])[0, 1]
    assert res["offdiag"] == pytest.approx(2 * abs(r01) / 6)


def test_latent_correlation_single_dimension_and_bad_shape():
    assert math.isnan(correlation.latent_correlation(np.arange(5.0).reshape(5, 1))["offdiag"])
    with pytest.raises(ValueError):
        correlation.latent_correlation(np.zeros((1, 3)))


# ------------------------------------------------------------------ participation ratio and remixing


def test_participation_ratio_is_d_for_even_variance_and_one_for_a_single_direction():
    assert correlation.participation_ratio(np.eye(7)) == pytest.approx(7)
    v = np.arange(1.0, 6.0)
    assert correlation.participation_ratio(np.outer(v, v)) == pytest.approx(1)  # rank one
    assert correlation.participation_ratio(np.diag([1.0, 1.0, 0.0, 0.0])) == pytest.approx(2)
    assert math.isnan(correlation.participation_ratio(np.zeros((3, 3))))


def test_remixing_the_code_keeps_its_rank_but_raises_the_correlations():
    """The loss cannot see an invertible remixing z -> Az; the correlations between coordinates
    change with it, the number of directions the code really uses (its effective rank) does not
    grow: three independent directions spread over six coordinates."""
    g = np.random.default_rng(0)
    z = g.normal(size=(4000, 3)) * [3.0, 2.0, 1.0]
    spread = z @ g.normal(size=(3, 6))  # six coordinates, three directions
    own, mixed = correlation.latent_correlation(z), correlation.latent_correlation(spread)
    assert own["offdiag"] < 0.05 < 0.3 < mixed["offdiag"]
    assert mixed["participation_ratio"] <= 3.0 + 1e-9 and own["participation_ratio"] == pytest.approx(
        (9 + 4 + 1) ** 2 / (81 + 16 + 1), rel=0.1
    )
    # the correlation matrix's ratio is d^2 / (d + sum of squared off-diagonal correlations)
    r = mixed["matrix"]
    assert mixed["participation_ratio_corr"] == pytest.approx(36 / (6 + (r**2).sum() - 6))
