"""The decision rules of the verdicts, stated once: every claim is turned into one statistic per
autoencoder seed (the independent unit), t-tests over seeds decide between three words, each
decision has a p-value, and the seeds are counted in which the claim holds on its own. With
alpha = 1 - confidence:

- `direction`: the claim puts a statistic on one side of a boundary (0 for a difference, a
  margin for "clearly"). supported: the whole two-sided (1 - alpha) interval is on the claimed
  side; contradicted: wholly on the other side; inconclusive: across, or fewer than two seeds.
  Its p-value is twice the smaller one-sided p (the interval excludes the boundary iff p <= alpha).
- `monotone`: a trend ("falls as d grows"), on the log of the measure (so that blocks whose
  errors differ in scale weigh alike): the mean within-block slope and every adjacent step.
  supported: the slope and every step are on the claimed side (an intersection-union test: each
  at the same one-sided alpha / 2); contradicted: the slope is wholly on the other side.
- `equivalence`: two one-sided tests (TOST) at alpha per difference, symmetric: supported when
  every difference's (1 - 2 alpha) interval lies inside (-margin, +margin) (intersection-union);
  contradicted when one lies wholly outside it, at the same alpha after Bonferroni over the
  differences (a union); inconclusive otherwise.
- `holm`: the verdicts are one family; Holm's step-down adjustment of their p-values keeps the
  chance of any false decision at alpha. A verdict whose adjusted p exceeds alpha is inconclusive.
Slopes and steps are taken within blocks of the other factor (e.g. within each num_conv), so a
seed's statistic compares only models that differ in the swept factor.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .stats import SEED, mean_ci

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
WORDS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE)


def per_seed(df: pd.DataFrame, statistic) -> pd.Series:
    """`statistic(rows of one seed)` for every autoencoder seed in `df` (nan values dropped)."""
    if df is None or df.empty:
        return pd.Series(dtype=float)
    s = pd.Series({seed: statistic(g) for seed, g in df.groupby(SEED)}, dtype=float)
    return s.dropna()


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


def one_sided_p(values, boundary: float, side: int) -> float:
    """p of the one-sided t-test "the mean is above `boundary`" (side +1) or "below" (-1); nan
    with fewer than two values; with no spread at all, 0 when the mean is on that side, else 1."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return float("nan")
    diff, sd = (x.mean() - boundary) * side, x.std(ddof=1)
    if sd == 0:
        return 0.0 if diff > 0 else 1.0
    return float(stats.t.sf(diff / (sd / np.sqrt(len(x))), len(x) - 1))


def direction(values: pd.Series, expected: int, confidence: float, boundary: float = 0.0) -> dict:
    """The claim "the statistic is above `boundary`" (expected +1) or "below it" (expected -1),
    decided on the interval over seeds; `holds` counts the seeds whose own value is on the
    claimed side. Returns the interval (mean, lo, hi, n, confidence), verdict, holds, seeds and
    p (twice the smaller one-sided p: the decision's, for Holm)."""
    x = pd.Series(values, dtype=float).dropna()
    ci = mean_ci(x, confidence)
    if ci["n"] < 2:
        verdict = INCONCLUSIVE
    else:
        below, above = ci["hi"] < boundary, ci["lo"] > boundary
        claimed, opposite = (above, below) if expected > 0 else (below, above)
        verdict = SUPPORTED if claimed else CONTRADICTED if opposite else INCONCLUSIVE
    holds = int(((x - boundary) * expected > 0).sum())
    p_claim, p_other = one_sided_p(x, boundary, expected), one_sided_p(x, boundary, -expected)
    return {**ci, "verdict": verdict, "holds": holds, "seeds": len(x), "p_claim": p_claim, "p_other": p_other,
            "p": min(1.0, 2 * min(p_claim, p_other)) if ci["n"] >= 2 else float("nan")}


def monotone(slopes: pd.Series, steps: pd.DataFrame, expected: int, confidence: float) -> dict:
    """A trend claimed monotone: `slopes` one per seed, `steps` one column per adjacent step (one
    row per seed). supported: the slope and every step on the claimed side at the interval's
    level; contradicted: the slope on the other side. Returns the slope's interval, verdict,
    holds (seeds whose slope and every step are on the claimed side), seeds, the steps' decisions
    and p."""
    s = pd.Series(slopes, dtype=float).dropna()
    steps = pd.DataFrame(steps).reindex(s.index)
    dec = direction(s, expected, confidence)
    step = {c: direction(steps[c], expected, confidence) for c in steps.columns}
    if dec["n"] < 2:
        return {**dec, "steps": step}
    p_support = max([dec["p_claim"]] + [d["p_claim"] for d in step.values()])
    verdict = (SUPPORTED if p_support <= (1 - confidence) / 2 and dec["verdict"] == SUPPORTED
               else CONTRADICTED if dec["verdict"] == CONTRADICTED else INCONCLUSIVE)
    on_side = (s * expected > 0) & (steps * expected > 0).all(axis=1)
    return {**dec, "verdict": verdict, "holds": int(on_side.sum()), "steps": step,
            "p": min(1.0, 2 * min(p_support, dec["p_other"]))}


def block_steps(df: pd.DataFrame, x: str, y: str, block: str) -> pd.Series:
    """The adjacent steps of `y` along `x` ('5→10': y(10) - y(5)), each averaged over the blocks
    that have both ends (rows repeated at one x are averaged first)."""
    p = df.groupby([block, x])[y].mean().unstack(x)
    xs = sorted(p.columns)
    return pd.Series({f"{_w(a)}→{_w(b)}": float((p[b] - p[a]).mean()) for a, b in zip(xs, xs[1:])}, dtype=float)


def _w(v):
    return int(v) if float(v).is_integer() else v


def equivalence(diffs: pd.DataFrame, margin: float, confidence: float) -> dict:
    """The claim "every column of `diffs` (a difference, one row per seed) lies within
    +-margin", by TOST at alpha = 1 - confidence (see the module's docstring). Returns the
    columns' (1 - 2 alpha) intervals (`cis`, the TOST's), the column whose interval reaches
    farthest from 0 (`worst`), verdict, holds (seeds whose every difference is within the
    margin), seeds and p."""
    alpha = 1 - confidence
    d = diffs.dropna()
    cis = {c: mean_ci(d[c], 1 - 2 * alpha) for c in d.columns}
    p = float("nan")
    if d.empty or not cis or min(ci["n"] for ci in cis.values()) < 2:
        verdict = INCONCLUSIVE
    else:
        p_inside = max(max(one_sided_p(d[c], -margin, +1), one_sided_p(d[c], margin, -1)) for c in d.columns)
        p_outside = min(1.0, len(d.columns) * min(min(one_sided_p(d[c], margin, +1), one_sided_p(d[c], -margin, -1))
                                                  for c in d.columns))
        verdict = SUPPORTED if p_inside <= alpha else CONTRADICTED if p_outside <= alpha else INCONCLUSIVE
        p = min(p_inside, p_outside)
    def reach(c):
        return max((abs(v) for v in (cis[c]["mean"], cis[c]["lo"], cis[c]["hi"]) if np.isfinite(v)), default=0.0)

    worst = max(cis, key=reach) if cis else None
    holds = int((d.abs() < margin).all(axis=1).sum())
    return {"cis": cis, "worst": worst, "verdict": verdict, "holds": holds, "seeds": len(d), "p": p}


def holm(p: pd.Series) -> pd.Series:
    """Holm's step-down adjusted p-values of a family (nan values are not members)."""
    q = pd.Series(p, dtype=float).dropna().sort_values()
    m = len(q)
    adjusted = (q * (m - np.arange(m))).clip(upper=1.0).cummax()
    return adjusted.reindex(pd.Series(p).index)


def holds_text(decision: dict) -> str:
    """'holds in 2 of 3 seeds' (the seeds in which the claim holds on its own)."""
    if not decision.get("seeds"):
        return "no seeds"
    return f"holds in {decision['holds']} of {decision['seeds']} seeds"
