"""The estimates the verdicts are decided on: over the seeds, or over cells of independent models.

Two designs. Under `seed_scope: cell` (the default since 2026-12-07) each model's seed is drawn for
its own (d, num_conv) cell, so no two models share anything random: every model is its own unit,
and each claim's estimate, a linear combination of cell means (a slope, a step, a mean over cells),
gets a Welch interval with each cell's own variance and Welch-Satterthwaite degrees of freedom
(`welch_over_cells`, `trend_of_cells`, `mean_over_cells(independent=...)`): 3-13 df for the
default's verdicts in its first sweep under it, where the seeds gave 3, and 3.8-5.0 % decided on
null data at 5 % nominal (benchmarks/verdict_calibration.py --welch; benchmarks/README.md). Under
`seed_scope: shared`, and for runs from before it was recorded, each seed is one observation:

Why the seed and not the model there. The study trains each cell of its grid (d x num_conv) once per
seed, 12 cells x 5 seeds = 60 autoencoders, but the models of one seed are not independent of
each other: they share its batch order and, within one num_conv, its convolutions' initialisation,
and the seed spread of a measure differs from cell to cell (15-20x in experiment 3's log correlation). A model over every model
with one pooled variance (this module until 2026-12-07) took 60 models as 60 independent
observations: on null data shaped like the study's tables it decided a trend 7-11 % of the time
(16-23 % where a seed's effect is shared by its cells) and a paired mean up to 16 %, at a nominal
5 % (benchmarks/verdict_calibration.py), and it printed p-values such as 1e-39 for a trend over
4 seeds. So each claim is first computed within
each seed, from all of that seed's models (its least-squares slope over the swept factor within
each level of the other, averaged; its steps; its mean paired difference over the design's
cells), and the seeds' values are then one sample: mean, se = sd / sqrt(seeds), seeds - 1 degrees
of freedom (`one_sample`). Exact whatever the models of one seed share and however their spread
differs across cells, as long as the seeds are independent; the price is the degrees of freedom
of the seeds alone. The estimate itself still uses every model.

`fit` and `studentized` (one mean per cell, the seed an effect-coded block, one pooled variance)
remain as a yardstick for a single model far from its cell (experiment 1's check), not for any
verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .stats import SEED, SEEDS


@dataclass
class Fit:
    """A fitted model with one pooled variance (a yardstick for a model far from its cell, never a
    verdict): the cells (tuples of factor levels, in column order), the residual variance, its
    degrees of freedom and the observations."""

    cells: list
    s2: float
    df: int
    n: int


def estimate_dict(mean, se, df, n, unit, seeds, df_per_seed, welch: bool = False) -> dict:
    """What every estimate of the verdicts carries: the value, its standard error, its
    degrees of freedom, the observations it rests on (n, in `unit`), the seeds among them and how
    many degrees of freedom one more seed would add (for the power of a larger design); `welch`:
    a Welch t-interval over cells of independent units (`welch_over_cells`), its df rounded down."""
    return {
        "mean": float(mean),
        "se": float(se),
        "df": int(df),
        "n": int(n),
        "unit": unit,
        "seeds": int(seeds),
        "df_per_seed": float(df_per_seed),
        "welch": bool(welch),
    }


def welch_satterthwaite(terms) -> float:
    """The Welch-Satterthwaite degrees of freedom of a sum of independent terms, each (its variance,
    its df): (sum v)^2 / sum v^2 / df, unrounded; nan where undefined (no term, a term without df, or
    no variance at all)."""
    a = np.array(list(terms), dtype=float).reshape(-1, 2)
    if a.size == 0 or (a[:, 1] < 1).any() or not np.isfinite(a).all():
        return float("nan")
    denominator = (a[:, 0] ** 2 / a[:, 1]).sum()
    return float(a[:, 0].sum() ** 2 / denominator) if denominator > 0 else float("nan")


def welch_over_cells(cells: dict, weights: dict, unit: str, names: tuple = ()) -> dict:
    """The linear combination sum_c w_c * mean_c of cell means, every value of every cell an
    independent unit (`cells`: cell -> its units' values; `weights`: cell -> w_c, a cell without
    weight unused): se^2 = sum_c w_c^2 s_c^2 / n_c with each cell's own variance s_c^2, and the
    Welch-Satterthwaite degrees of freedom (sum_c v_c)^2 / sum_c v_c^2 / (n_c - 1), v_c = w_c^2 s_c^2 / n_c,
    rounded down (conservative). No interval (se nan) where a cell it weighs has fewer than two
    units. n: the units of the cells it weighs; seeds: the most units a cell has; df_per_seed: the
    df one more unit in every cell adds (df / (seeds - 1)), for the power of a larger design.
    `df_cells`: the df its cells would give with one spread (the sum of their units less one);
    `widest` and `share`: the cell whose term is the largest and its share of the variance, named
    by `names` (the columns of a cell's levels, 'd=10, num_conv=3'), a Welch df falling toward that
    cell's units less one where it dominates."""
    used = {c: np.asarray(cells.get(c, []), dtype=float) for c, w in weights.items() if w != 0}
    used = {c: x[np.isfinite(x)] for c, x in used.items()}
    n = sum(len(x) for x in used.values())
    if not used or any(len(x) == 0 for x in used.values()):
        return estimate_dict(float("nan"), float("nan"), 0, n, unit, 0, 1.0, welch=len(used) > 1)
    mean = float(sum(weights[c] * x.mean() for c, x in used.items()))
    most = max(len(x) for x in used.values())
    if any(len(x) < 2 for x in used.values()):
        return estimate_dict(mean, float("nan"), 0, n, unit, most, 1.0, welch=len(used) > 1)
    terms = [(weights[c] ** 2 * x.var(ddof=1) / len(x), len(x) - 1) for c, x in used.items()]
    var = sum(v for v, _ in terms)
    pooled = sum(len(x) - 1 for x in used.values())  # the df where no cell varies at all
    df = welch_satterthwaite(terms)
    df = min(df, pooled) if np.isfinite(df) else pooled
    est = estimate_dict(
        mean, np.sqrt(var), np.floor(df + 1e-9), n, unit, most, df / max(most - 1, 1), welch=len(used) > 1
    )
    if var > 0:
        widest, (v, _) = max(zip(used, terms), key=lambda ct: ct[1][0])
        est.update(df_cells=int(pooled), widest=cell_words(widest, names), share=float(v / var))
    return est


def cell_words(cell: tuple, names: tuple = ()) -> str:
    """A cell as the report names it: 'd=10, num_conv=3' (its levels, in the order of `names`, d
    first), or its bare levels without names."""
    from .. import vocabulary as vocab
    from .text import whole

    cell = cell if isinstance(cell, tuple) else (cell,)
    if len(names) != len(cell):
        return ", ".join(str(whole(v)) for v in cell)
    pairs = sorted(zip(names, cell), key=lambda nv: nv[0] != "latent_dim")
    return ", ".join(f"{vocab.label(n)}={whole(v)}" for n, v in pairs)


def slope_weights(cells) -> dict:
    """(other, x) -> the weight of that cell's mean in the mean over the levels of `other` (those with
    two x values at least) of each level's least-squares slope over x: (x - its level's mean x) /
    the sum of squares, over the number of such levels. A cell at the mean of its level's x (the middle
    of three equally spaced ones) weighs exactly 0."""
    by_other: dict = {}
    for o, v in cells:
        by_other.setdefault(o, []).append(v)
    spans = {o: sorted(xs) for o, xs in by_other.items() if len(xs) >= 2}
    weights = {}
    for o, xs in spans.items():
        dx = np.asarray(xs, float) - np.mean(xs)
        for v, w in zip(xs, dx / (dx * dx).sum()):
            weights[(o, v)] = w / len(spans)
    return weights


def cell_units(df: pd.DataFrame, y: str, cells: list, seed: str) -> dict:
    """cell (a tuple of `cells` levels) -> the values of its units: each seed's mean of `y` in it
    (rows repeated within a seed and cell, such as label draws, averaged first)."""
    m = df.groupby([*cells, seed])[y].mean()
    return {
        (k if isinstance(k, tuple) else (k,)): g.to_numpy(float)
        for k, g in m.groupby(level=list(range(len(cells))))
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


def _design(df: pd.DataFrame, y: str, cells: list, blocks: list):
    """The rows used (missing `y` dropped), the design matrix, `y` and the cell levels."""
    d = df.dropna(subset=[y] + cells)
    d = d[np.isfinite(d[y].to_numpy(float))]
    keys = [tuple(k) for k in d[cells].itertuples(index=False, name=None)]
    levels = sorted(set(keys))
    col = {c: i for i, c in enumerate(levels)}
    n = len(d)
    parts = [np.zeros((n, len(levels)))]
    parts[0][np.arange(n), [col[k] for k in keys]] = 1.0
    for b in blocks:
        v = d[b].astype(str).to_numpy()
        lv = sorted(set(v))
        if len(lv) < 2:
            continue
        x = np.zeros((n, len(lv) - 1))
        for j, level in enumerate(lv[1:]):
            x[:, j] = (v == level).astype(float) - (v == lv[0]).astype(float)
        parts.append(x)
    return d, np.hstack(parts), d[y].to_numpy(float), levels


def fit(df: pd.DataFrame, y: str, cells, blocks=()) -> Fit:
    """Least squares of `y` on one mean per cell of `cells` (factor columns) plus the effect-coded
    `blocks` (columns; a block with one level adds nothing). Rows with a missing `y` are dropped."""
    d, X, yv, levels = _design(df, y, list(cells), list(blocks))
    n = len(d)
    coef, *_ = np.linalg.lstsq(X, yv, rcond=None) if n else (np.zeros(X.shape[1]),)
    dof = n - (int(np.linalg.matrix_rank(X)) if n else 0)
    resid = yv - X @ coef
    return Fit(levels, float(resid @ resid / dof) if dof > 0 else float("nan"), dof, n)


def studentized(df: pd.DataFrame, y: str, cells, blocks=()) -> pd.Series:
    """Each row's externally studentized residual under `fit`'s model: e / (s_(i) sqrt(1 - h)), h its
    leverage and s_(i) the residual spread of the fit without it, which under the model's normal,
    one-variance errors follows Student's t on df - 1 degrees of freedom. How far one observation
    lies from what its cell and block predict: the check of the one-variance assumption that a single
    model far from its cell breaks (indexed like `df`'s rows used; empty with df < 2)."""
    d, X, yv, _ = _design(df, y, list(cells), list(blocks))
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


def block_slope(df: pd.DataFrame, x: str, y: str, block: str) -> float:
    """Least-squares slope of `y` on `x` within each level of `block` (rows repeated at one x are
    averaged first), averaged over the blocks with at least two x values; nan when none has."""
    slopes = []
    for _, g in df.groupby(block):
        m = g.groupby(x)[y].mean()
        xs, ys = m.index.to_numpy(float), m.to_numpy(float)
        if len(xs) >= 2:
            dx = xs - xs.mean()
            slopes.append(float((dx * (ys - ys.mean())).sum() / (dx * dx).sum()))
    return float(np.mean(slopes)) if slopes else float("nan")


def usable(df: pd.DataFrame, y: str, columns) -> pd.DataFrame:
    """The rows an estimate uses: `y` finite and every one of `columns` present."""
    d = df.dropna(subset=[y, *columns])
    return d[np.isfinite(d[y].to_numpy(float))]


def seed_slopes(df: pd.DataFrame, x: str, y: str, other: str, seed: str = SEED) -> pd.Series:
    """Each seed's own slope (`block_slope`) on the rows an estimate uses: what `trend`'s interval is
    over and what "holds in k of n seeds" counts (seeds without one left out)."""
    d = usable(df, y, [x, other, seed])
    return pd.Series({s: block_slope(g, x, y, other) for s, g in d.groupby(seed)}, dtype=float).dropna()


def seed_means(df: pd.DataFrame, y: str, cells, seed: str = SEED) -> pd.Series:
    """Each seed's mean over the design's cells `cells` of its units' mean in each: what
    `mean_over_cells`'s interval is over and what "holds in k of n seeds" counts."""
    cells = list(cells)
    if df is None or df.empty:
        return pd.Series(dtype=float)
    d = usable(df, y, [*cells, seed])
    if not len(d):
        return pd.Series(dtype=float)
    return d.groupby([seed, *cells])[y].mean().groupby(level=seed).mean()


def trend(df: pd.DataFrame, x: str, y: str, other: str, seed: str = SEED, independent: str | None = None):
    """A trend of `y` along `x`, each seed one observation: (the slope, {'5→10': step, ...}). A seed's
    slope is the least-squares slope over its models' `x` within each level of `other` (those with
    two x values at least), averaged over them (`block_slope`); its step, the difference of adjacent
    x values within each level of `other` that has both, averaged. Each is then a t-interval over
    the seeds (`one_sample`): the models of one seed are not independent of each other (see the
    module's docstring). `independent` (the unit's words, e.g. 'autoencoders'): every model is its
    own unit (seeded for its own cell), so the same slope and steps, linear in the cell means, get
    Welch intervals over the cells instead (`trend_of_cells`)."""
    if independent:
        return trend_of_cells(df, x, y, other, seed, independent)
    d = usable(df, y, [x, other, seed])
    by_seed = list(d.groupby(seed)) if len(d) else []
    slope = one_sample(seed_slopes(d, x, y, other, seed))
    xs = sorted(d[x].unique()) if len(d) else []
    steps = {}
    for a, b in zip(xs, xs[1:]):
        own = []
        for _, g in by_seed:
            cell = g[g[x].isin([a, b])].groupby([other, x])[y].mean().unstack(x)
            both = cell.dropna(subset=[a, b]) if {a, b} <= set(cell.columns) else cell.iloc[:0]
            own.append(float((both[b] - both[a]).mean()) if len(both) else float("nan"))
        if any(np.isfinite(own)):
            steps[f"{_w(a)}→{_w(b)}"] = one_sample(own)
    return slope, steps


def trend_of_cells(df: pd.DataFrame, x: str, y: str, other: str, seed: str, unit: str):
    """`trend` where every model is an independent unit: the slope is the least-squares slope of
    the cell means over `x` within each level of `other` (those with two x values at least),
    averaged, and each adjacent step the difference of two cell means within each level of
    `other` that has both, averaged; each is a linear combination of cell means, decided with
    `welch_over_cells` (each cell its own spread). The same estimates as over the seeds where every
    seed has every cell; only their intervals differ."""
    d = usable(df, y, [x, other, seed])
    units = cell_units(d, y, [other, x], seed) if len(d) else {}
    slope = welch_over_cells(units, slope_weights(units), unit, (other, x))
    xs = sorted(d[x].unique()) if len(d) else []
    steps = {}
    for a, b in zip(xs, xs[1:]):
        if (step := difference_of_cells(units, a, b, unit, (other, x))) is not None:
            steps[f"{_w(a)}→{_w(b)}"] = step
    return slope, steps


def difference_of_cells(units: dict, a, b, unit: str, names: tuple = ()) -> dict | None:
    """The mean over the levels of the other factor that have both of the difference cell(b) −
    cell(a) (`units`: (other, x) -> its units' values, as `cell_units` gives them), decided with
    `welch_over_cells`; None where no level has both."""
    both = sorted({o for o, _ in units if (o, a) in units and (o, b) in units})
    if not both:
        return None
    w = {**{(o, a): -1 / len(both) for o in both}, **{(o, b): 1 / len(both) for o in both}}
    return welch_over_cells(units, w, unit, names)


def mean_over_cells(
    df: pd.DataFrame, y: str, cells, seed: str = SEED, independent: str | None = None
) -> dict:
    """A paired difference (one value per unit), each seed one observation: a seed's value is the
    mean over the design's cells `cells` of its units' mean in each (`seed_means`); then a t-interval
    over the seeds (`one_sample`). `independent` (the unit's words): every unit its own (models
    seeded for their own cell), so the mean of the cell means with a Welch interval over the cells
    (`welch_over_cells`)."""
    if not independent:
        return one_sample(seed_means(df, y, cells, seed).to_numpy(float))
    cells = list(cells)
    d = usable(df, y, [*cells, seed]) if df is not None and not df.empty else pd.DataFrame()
    units = cell_units(d, y, cells, seed) if len(d) else {}
    return welch_over_cells(units, {c: 1 / len(units) for c in units}, independent, tuple(cells))
