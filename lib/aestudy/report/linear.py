"""The linear model the verdicts are decided on: every independent model the study trains is one
observation.

Why. The study trains each cell of its grid (d x num_conv) once per seed: 12 cells x 5 seeds = 60
autoencoders. Reducing a claim to one number per seed and taking a t-interval over the seeds
leaves 4 degrees of freedom, and under Holm over a dozen claims almost nothing can be decided,
although 60 independent models were measured. Here each model is one observation of

    y[m] = mu[cell(m)] + b[block(m)] + e[m],     e independent, one variance sigma^2,

y on the verdict's scale (the log of the measure for a trend), mu one mean per cell of the design's
factors, b the replicate (the seed, or one encoder) as a block. The blocks are effect-coded (their
effects sum to 0), so mu[c] is the cell's mean averaged over the blocks. A claim is a linear
contrast w'mu of the cell means: a trend's least-squares slope over the swept factor within each
level of the other factor, averaged over those levels; each adjacent step; a mean difference. Its
estimate, its standard error s * sqrt(w' (X'X)^-1 w) (the cell-mean part of (X'X)^-1, X the
design matrix) and its t-interval use the residual variance s^2 = RSS / df and the residual degrees
of freedom df = n - rank(X): 60 autoencoders, 12 cells, 5 seeds -> 60 - 12 - 4 = 44.

With one model per cell and seed (C cells, S seeds) this is the two-way analysis of variance
without interaction: the estimate is sum_c w_c ybar_c (ybar_c the cell's mean over seeds), its
variance s^2 sum_c w_c^2 / S, and s^2 the cell x seed interaction mean square on (C - 1)(S - 1)
degrees of freedom (tests/report/test_verdict_rules.py checks this by hand). A contrast within blocks is
the comparison of a randomised block design: its variance is the same whether the seeds are taken
as fixed or as drawn at random, so its interval speaks of seeds at large. A plain mean (a
difference that is already paired within each unit) is not a contrast within blocks: for it the
seed is not a block (that would drop the seed-to-seed spread of the effect from its error), only
the design's fixed factors are cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .stats import MODELS, SEED, SEEDS


@dataclass
class Fit:
    """A fitted model: the cells (tuples of factor levels, in column order), their estimated
    means, the unscaled covariance (X'X)^+ of the whole coefficient vector, the residual variance
    and degrees of freedom, and what an estimate needs to say of its units."""

    factors: tuple
    cells: list
    coef: np.ndarray
    xtx_inv: np.ndarray
    estimable: np.ndarray  # the projection onto X's row space (a contrast is estimable iff unchanged by it)
    s2: float
    df: int
    n: int
    unit: str
    seeds: int
    df_per_seed: float

    @property
    def means(self) -> dict:
        """cell -> estimated mean (averaged over the blocks)."""
        return dict(zip(self.cells, self.coef[: len(self.cells)]))

    @property
    def cov_means(self) -> np.ndarray:
        """The covariance of the cell means (s^2 times their part of (X'X)^+)."""
        k = len(self.cells)
        return self.s2 * self.xtx_inv[:k, :k]

    def delta_se(self, stat, h: float = 1e-4) -> float:
        """The standard error of stat(cell means) (a smooth function of the dict cell -> mean) by
        the delta method: its central-difference gradient g at the fitted means, sqrt(g' V g) with
        V the cell means' covariance; what a contrast's se is when stat is linear."""
        base = {c: float(v) for c, v in self.means.items()}
        g = np.zeros(len(self.cells))
        for i, c in enumerate(self.cells):
            up, down = dict(base), dict(base)
            up[c] += h
            down[c] -= h
            g[i] = (stat(up) - stat(down)) / (2 * h)
        return float(np.sqrt(max(g @ self.cov_means @ g, 0.0)))

    def contrast(self, weights: dict) -> dict:
        """The estimate of sum w_c mu_c (`weights`: cell -> w; cells not fitted must have no
        weight): mean, se, df, n, unit, seeds, df_per_seed (nan when it is not estimable)."""
        w = np.zeros(len(self.coef))
        index = {c: i for i, c in enumerate(self.cells)}
        for c, v in weights.items():
            c = c if isinstance(c, tuple) else (c,)
            if c not in index:
                raise KeyError(f"cell {c} has no observation")
            w[index[c]] += v
        ok = bool(np.allclose(w @ self.estimable, w, atol=1e-8))
        mean = float(w @ self.coef) if ok else float("nan")
        se = (
            float(np.sqrt(max(self.s2 * (w @ self.xtx_inv @ w), 0.0))) if ok and self.df > 0 else float("nan")
        )
        return estimate_dict(mean, se, self.df, self.n, self.unit, self.seeds, self.df_per_seed)


def estimate_dict(mean, se, df, n, unit, seeds, df_per_seed) -> dict:
    """What every estimate of the verdicts carries: the value, its standard error, the residual
    degrees of freedom, the observations it rests on (n, in `unit`), the seeds among them and how
    many degrees of freedom one more seed would add (for the power of a larger design)."""
    return {
        "mean": float(mean),
        "se": float(se),
        "df": int(df),
        "n": int(n),
        "unit": unit,
        "seeds": int(seeds),
        "df_per_seed": float(df_per_seed),
    }


def one_sample(values, unit: str = SEEDS) -> dict:
    """Each value one independent unit (a seed's statistic): the estimate of their mean, se =
    sd / sqrt(n), n - 1 degrees of freedom."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    mean = float(x.mean()) if n else float("nan")
    se = float(x.std(ddof=1) / np.sqrt(n)) if n >= 2 else float("nan")
    return estimate_dict(mean, se, max(n - 1, 0), n, unit, n, 1.0)


def _design(df: pd.DataFrame, y: str, cells: list, blocks: list, seed: str):
    """The rows used (missing `y` dropped), the design matrix, `y`, the cell levels and the block
    levels that come with each new seed."""
    d = df.dropna(subset=[y] + cells)
    d = d[np.isfinite(d[y].to_numpy(float))]
    keys = [tuple(k) for k in d[cells].itertuples(index=False, name=None)]
    levels = sorted(set(keys))
    col = {c: i for i, c in enumerate(levels)}
    n = len(d)
    parts = [np.zeros((n, len(levels)))]
    parts[0][np.arange(n), [col[k] for k in keys]] = 1.0
    grows = 0  # block levels that come with each new seed
    for b in blocks:
        v = d[b].astype(str).to_numpy()
        lv = sorted(set(v))
        if len(lv) < 2:
            continue
        x = np.zeros((n, len(lv) - 1))
        for j, level in enumerate(lv[1:]):
            x[:, j] = (v == level).astype(float) - (v == lv[0]).astype(float)
        parts.append(x)
        if seed in d and (d.assign(_b=v).groupby("_b")[seed].nunique() <= 1).all():
            grows += len(lv)
    return d, np.hstack(parts), d[y].to_numpy(float), levels, grows


def fit(df: pd.DataFrame, y: str, cells, blocks=(), unit: str = MODELS, seed: str = SEED) -> Fit:
    """Least squares of `y` on one mean per cell of `cells` (factor columns) plus the effect-coded
    `blocks` (columns; a block with one level adds nothing). Rows with a missing `y` are dropped."""
    cells, blocks = list(cells), list(blocks)
    d, X, yv, levels, grows = _design(df, y, cells, blocks, seed)
    n = len(d)
    coef, *_ = np.linalg.lstsq(X, yv, rcond=None) if n else (np.zeros(X.shape[1]),)
    rank = int(np.linalg.matrix_rank(X)) if n else 0
    dof = n - rank
    resid = yv - X @ coef
    s2 = float(resid @ resid / dof) if dof > 0 else float("nan")
    pinv = np.linalg.pinv(X)
    seeds = int(d[seed].nunique()) if seed in d and n else 1
    return Fit(
        tuple(cells),
        levels,
        coef,
        np.linalg.pinv(X.T @ X),
        pinv @ X,
        s2,
        dof,
        n,
        unit,
        seeds,
        (n - grows) / seeds if seeds else float("nan"),
    )


def studentized(df: pd.DataFrame, y: str, cells, blocks=(), seed: str = SEED) -> pd.Series:
    """Each row's externally studentized residual under `fit`'s model: e / (s_(i) sqrt(1 - h)), h its
    leverage and s_(i) the residual spread of the fit without it, which under the model's normal,
    one-variance errors follows Student's t on df - 1 degrees of freedom. How far one observation
    lies from what its cell and block predict: the check of the one-variance assumption that a single
    model far from its cell breaks (indexed like `df`'s rows used; empty with df < 2)."""
    d, X, yv, _, _ = _design(df, y, list(cells), list(blocks), seed)
    if not len(d):
        return pd.Series(dtype=float)
    pinv = np.linalg.pinv(X)
    dof = len(d) - int(np.linalg.matrix_rank(X))
    if dof < 2:
        return pd.Series(dtype=float)
    resid = yv - X @ (pinv @ yv)
    spare = np.clip(1 - np.einsum("ij,ji->i", X, pinv), 1e-12, None)  # 1 - the leverages
    internal = resid / np.sqrt(resid @ resid / dof * spare)
    external = internal * np.sqrt((dof - 1) / np.clip(dof - internal**2, 1e-12, None))
    return pd.Series(external, index=d.index)


def _w(v):
    return int(v) if float(v).is_integer() else v


def trend(df: pd.DataFrame, x: str, y: str, other: str, unit: str = MODELS, seed: str = SEED):
    """A trend of `y` along `x` from the model with cells `x` x `other` and the seed as a block:
    (the slope, {'5→10': step, ...}). The slope is the least-squares slope over the cell means of
    `x` within each level of `other` (those with two x values at least), averaged over them; a
    step is the difference of adjacent x values' cell means, averaged over the levels of `other`
    that have both."""
    f = fit(df, y, [x, other], [seed], unit=unit, seed=seed)
    by = {}
    for xv, ov in f.cells:
        by.setdefault(ov, []).append(xv)
    blocks = {o: sorted(xs) for o, xs in by.items() if len(xs) >= 2}
    if not blocks:
        nan = estimate_dict(float("nan"), float("nan"), f.df, f.n, unit, f.seeds, f.df_per_seed)
        return nan, {}
    w = {}
    for o, xs in blocks.items():
        xa = np.asarray(xs, dtype=float)
        dx = xa - xa.mean()
        for xv, d in zip(xs, dx):
            w[(xv, o)] = w.get((xv, o), 0.0) + d / (dx @ dx) / len(blocks)
    slope = f.contrast(w)
    xs = sorted({xv for xv, _ in f.cells})
    steps = {}
    for a, b in zip(xs, xs[1:]):
        both = [o for o in by if a in by[o] and b in by[o]]
        if both:
            steps[f"{_w(a)}→{_w(b)}"] = f.contrast(
                {**{(b, o): 1 / len(both) for o in both}, **{(a, o): -1 / len(both) for o in both}}
            )
    return slope, steps


def mean_over_cells(df: pd.DataFrame, y: str, cells, unit: str, seed: str = SEED, only=None) -> dict:
    """A paired difference (one value per unit) estimated as the mean of its cell means over the
    design's fixed factors `cells` (no block: see the module's docstring), the residual variance
    pooled over the cells; `only`: the cells to average (default all)."""
    f = fit(df, y, cells, [], unit=unit, seed=seed)
    chosen = [c for c in f.cells if only is None or c in only]
    if not chosen:
        return estimate_dict(float("nan"), float("nan"), f.df, f.n, unit, f.seeds, f.df_per_seed)
    return f.contrast({c: 1 / len(chosen) for c in chosen})
