"""The decision rules of the verdicts, stated once: every claim is turned into one statistic per
autoencoder seed (the independent unit), the statistic's t-interval over seeds decides between
three words, and the seeds are counted in which the claim holds on its own.

- `direction`: the claim puts a statistic on one side of a boundary (0 for a trend or a
  difference, a margin for "clearly"). supported: the whole interval is on the claimed side;
  contradicted: the whole interval is on the other side; inconclusive: the interval reaches
  across the boundary, or there are fewer than two seeds.
- `equivalence`: the claim says some differences are small ("matters little"). supported: every
  difference's interval lies inside (-margin, +margin); contradicted: some difference's interval
  lies wholly outside it; inconclusive: otherwise.
Trends are measured by `block_slope`, within blocks of the other factor (e.g. within each
num_conv), so that a seed's statistic compares only models that differ in the swept factor.
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


def direction(values: pd.Series, expected: int, confidence: float, boundary: float = 0.0) -> dict:
    """The claim "the statistic is above `boundary`" (expected +1) or "below it" (expected -1),
    decided on the interval over seeds; `holds` counts the seeds whose own value is on the
    claimed side. Returns the interval (mean, lo, hi, n, confidence), verdict, holds, seeds."""
    x = pd.Series(values, dtype=float).dropna()
    ci = mean_ci(x, confidence)
    if ci["n"] < 2:
        verdict = INCONCLUSIVE
    else:
        below, above = ci["hi"] < boundary, ci["lo"] > boundary
        claimed, opposite = (above, below) if expected > 0 else (below, above)
        verdict = SUPPORTED if claimed else CONTRADICTED if opposite else INCONCLUSIVE
    holds = int(((x - boundary) * expected > 0).sum())
    return {**ci, "verdict": verdict, "holds": holds, "seeds": len(x)}


def equivalence(diffs: pd.DataFrame, margin: float, confidence: float) -> dict:
    """The claim "every column of `diffs` (a difference, one row per seed) lies within
    +-margin". Returns the columns' intervals (`cis`), the column whose interval reaches
    farthest from 0 (`worst`), verdict, holds (seeds whose every difference is within the
    margin) and seeds."""
    d = diffs.dropna()
    cis = {c: mean_ci(d[c], confidence) for c in d.columns}
    if d.empty or not cis or min(ci["n"] for ci in cis.values()) < 2:
        verdict = INCONCLUSIVE
    elif all(-margin < ci["lo"] and ci["hi"] < margin for ci in cis.values()):
        verdict = SUPPORTED
    elif any(ci["lo"] >= margin or ci["hi"] <= -margin for ci in cis.values()):
        verdict = CONTRADICTED
    else:
        verdict = INCONCLUSIVE
    def reach(c):
        return max((abs(v) for v in (cis[c]["mean"], cis[c]["lo"], cis[c]["hi"]) if np.isfinite(v)), default=0.0)

    worst = max(cis, key=reach) if cis else None
    holds = int((d.abs() < margin).all(axis=1).sum())
    return {"cis": cis, "worst": worst, "verdict": verdict, "holds": holds, "seeds": len(d)}


def holds_text(decision: dict) -> str:
    """'holds in 2 of 3 seeds' (the seeds in which the claim holds on its own)."""
    if not decision.get("seeds"):
        return "no seeds"
    return f"holds in {decision['holds']} of {decision['seeds']} seeds"
