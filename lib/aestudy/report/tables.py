"""How the report shapes a table: every cell a mean over autoencoder seeds with its t-interval
('mean [lo, hi]'), columns named as the reader knows them (the vocabulary's labels), transfer
modes in study order. Each experiment's tables are in its module under `report/experiments/`."""

from __future__ import annotations

import pandas as pd

from .. import vocabulary as vocab
from .stats import CONFIDENCE, summarise
from .text import fmt_ci


def ci_cells(summary: pd.DataFrame, pct: bool) -> list[str]:
    """'mean [lo, hi]' for each row of a summarise() frame."""
    return [
        fmt_ci({"mean": m, "lo": lo, "hi": hi, "n": n}, pct=pct)
        for m, lo, hi, n in zip(summary["mean"], summary["ci_lo"], summary["ci_hi"], summary["n"])
    ]


def ci_table(
    summary: pd.DataFrame, index: str, columns: str, pct: bool = True, prefix: bool = False
) -> pd.DataFrame:
    """A summarise() frame as a table of 'mean [lo, hi]' strings (transfer modes in study order;
    with `prefix` the columns are named 'num_conv=1', ...)."""
    if summary.empty:
        return pd.DataFrame()
    s = summary.copy()
    s["cell"] = ci_cells(s, pct)
    t = s.pivot(index=index, columns=columns, values="cell")
    t = t[vocab.in_mode_order(t.columns) + [c for c in t.columns if c not in vocab.MODES]]
    t.columns = [f"{columns}={c}" if prefix else c for c in t.columns]
    return t.reset_index().rename(columns={index: vocab.label(index)})


def ci_columns(
    df: pd.DataFrame, by: list[str], values: dict, confidence: float = CONFIDENCE, pct: bool = False
) -> pd.DataFrame:
    """One row per group of `by`, one 'mean [lo, hi]' column per {label: column} of `values`
    (intervals over seeds), and n (the seeds of the first value)."""
    out = None
    for label, col in values.items():
        s = summarise(df, by, col, confidence=confidence)
        s[label] = ci_cells(s, pct)
        out = s[by + ["n", label]] if out is None else out.merge(s[by + [label]], on=by)
    return out[[c for c in out.columns if c != "n"] + ["n"]].rename(
        columns={**{b: vocab.label(b) for b in by}, "n": "seeds"}
    )
