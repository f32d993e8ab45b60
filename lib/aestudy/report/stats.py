"""The descriptive statistics of the report: means with t-intervals, grouped summaries and
parameter correlations. The decisions taken from them are in `decide` and `verdicts`.

The independent unit of these descriptive intervals (the tables' and figures') is the autoencoder
seed (`seed` in every table): values are averaged within each seed first, so n is the number of
seeds, never the number of records. The verdicts' intervals are `linear`'s: Welch's over cells of
independent models where each model was seeded for its own cell, else over the seeds (each seed's own
statistic, computed from all of its models)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..experiments import about
from ..report_params import ReportParams

CONFIDENCE = ReportParams().confidence  # the default level; a profile's own is in its params.yaml
SEED = "seed"  # the column of the unit of replication (the study names it: `about.UNIT`)
SEEDS = about.UNITS  # the unit of every table's interval but the baselines', in words
MODELS = about.MODELS  # what each seed trains (the verdicts' units where each has its own seed), in words
RANGES = {  # what the frame's own measures can be: a t-interval is cut there (few units can reach past
    # 100 %); each experiment declares its own measures' (`Experiment.ranges`, `bounds_of`)
    "r": (-1.0, 1.0),  # `param_correlations_by_seed`'s
}


def bounds_of(value: str, group: dict | None = None) -> tuple[float, float] | None:
    """The values the measure `value` can take in a group of rows ({latent_dim: 5, ...}): the
    frame's `RANGES`, else the experiment that declares it (a bound may depend on the group);
    None where neither says."""
    return _at(_declared(value), group)


def _declared(value: str):
    """The range `value` is declared with (a pair, a function of the group, or None)."""
    if value in RANGES:
        return RANGES[value]
    from .experiments import ranges  # the registry imports the experiments' sections, which import this

    return ranges().get(value)


def _at(bound, group: dict | None):
    return bound(group or {}) if callable(bound) else bound


def mean_ci(values, confidence: float = CONFIDENCE, bounds: tuple[float, float] | None = None) -> dict:
    """Mean and two-sided t-interval (n - 1 degrees of freedom); nan values are dropped.
    With fewer than two values the interval is undefined (nan). The level travels with the result.
    `bounds`: the range the quantity can take; the interval is cut there."""
    from scipy import stats

    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return {
            "mean": float("nan"),
            "lo": float("nan"),
            "hi": float("nan"),
            "n": 0,
            "sd": float("nan"),
            "confidence": confidence,
        }
    mean = float(x.mean())
    if n < 2:
        return {
            "mean": mean,
            "lo": float("nan"),
            "hi": float("nan"),
            "n": 1,
            "sd": float("nan"),
            "confidence": confidence,
        }
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    lo, hi = bounds or (-math.inf, math.inf)
    return {
        "mean": mean,
        "lo": max(mean - half, lo),
        "hi": min(mean + half, hi),
        "n": n,
        "sd": sd,
        "confidence": confidence,
    }


def summarise(
    df: pd.DataFrame, by, value: str, unit: str | None = SEED, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Mean of `value` per group of `by` with a t-interval.

    With `unit` (default: the autoencoder seed), values are first averaged within each
    (group, unit), so the interval is over units (n = number of seeds), not over every row;
    `unit=None` takes every row as a unit. A measure with a range (`bounds_of`) has its interval cut there."""
    by = [by] if isinstance(by, str) else list(by)
    cols = by + ["mean", "ci_lo", "ci_hi", "n", "min", "max"]
    if df is None or len(df) == 0:
        return pd.DataFrame(columns=cols)
    d = df.dropna(subset=[value])
    if unit:
        d = d.groupby(by + [unit], dropna=False)[value].mean().reset_index()
    rows, declared = [], _declared(value)  # looked up once, resolved per group
    for key, g in d.groupby(by, dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        ci = mean_ci(g[value], confidence, _at(declared, dict(zip(by, key))))
        rows.append(
            {
                **dict(zip(by, key)),
                "mean": ci["mean"],
                "ci_lo": ci["lo"],
                "ci_hi": ci["hi"],
                "n": ci["n"],
                "min": float(g[value].min()),
                "max": float(g[value].max()),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def param_correlations(df: pd.DataFrame, params, target: str) -> pd.DataFrame:
    """Pearson and Spearman correlation (with p-values) of each parameter with `target` over the rows."""
    from scipy import stats

    rows = []
    for p in params:
        d = df[[p, target]].dropna()
        x, y = d[p].to_numpy(float), d[target].to_numpy(float)
        if len(d) >= 3 and np.unique(x).size > 1 and np.unique(y).size > 1:
            pr, pp = stats.pearsonr(x, y)
            sr, sp = stats.spearmanr(x, y)
        else:
            pr = pp = sr = sp = float("nan")
        rows.append(
            {
                "parameter": p,
                "pearson_r": float(pr),
                "pearson_p": float(pp),
                "spearman_rho": float(sr),
                "spearman_p": float(sp),
                "n": len(d),
            }
        )
    return pd.DataFrame(rows)


def param_correlations_by_seed(
    df: pd.DataFrame, params, target: str, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Pearson and Spearman correlation of each parameter with `target` within each seed's runs,
    then their mean and t-interval over seeds: one row per parameter and measure (pearson_r,
    spearman_rho), with the columns of summarise()."""
    per_seed = (
        pd.concat(
            [param_correlations(g, params, target).assign(**{SEED: s}) for s, g in df.groupby(SEED)],
            ignore_index=True,
        )
        if len(df) and len(params)
        else pd.DataFrame()
    )
    if per_seed.empty:
        return pd.DataFrame(columns=["parameter", "measure", "mean", "ci_lo", "ci_hi", "n", "min", "max"])
    long = per_seed.melt(
        id_vars=["parameter", SEED],
        value_vars=["pearson_r", "spearman_rho"],
        var_name="measure",
        value_name="r",
    )
    return summarise(long, ["parameter", "measure"], "r", confidence=confidence)
