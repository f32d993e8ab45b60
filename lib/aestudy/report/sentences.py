"""Sentences every experiment's section writes alike: a trend in words, means with their
intervals, and the warnings about a stage's failed or skipped runs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import vocabulary as vocab
from .stats import CONFIDENCE, summarise
from .text import SEEDS, fmt, fmt_ci, interval_words, plain, whole


def status_markdown(data, stage: str) -> str:
    """Visible warnings for failed / skipped runs of a stage (empty string when all are fine),
    or a note that the stage has no usable run. Each section shows its own stages' once."""
    lines = []
    for r in data.problems(stage).itertuples(index=False):
        err = str(r.error) if isinstance(r.error, str) and r.error else "no error recorded"
        lines.append(f"> **Warning: {stage} run `{r.run_id}` {r.status}**: {plain(err)}")
    if lines:
        lines.append("> The analyses of this section use the completed runs only.")
    if data.usable(stage).empty:
        lines.append(
            f"> **No usable {stage} runs in this profile** (stage not run, or every run "
            "failed): this section has nothing to show."
        )
    return "\n>\n".join(lines) if lines else ""


def describe_trend(values: pd.Series, unit: str = "", f=fmt) -> str:
    """A predicate: 'goes from A at <unit>x0 to B at <unit>x1 and falls at every step'."""
    if len(values) < 2:
        return f"is {f(values.iloc[0]) if len(values) else 'n/a'} (one value only)"
    first, last = values.iloc[0], values.iloc[-1]
    diffs = np.diff(values.to_numpy(float))
    shape = (
        "falls at every step"
        if np.all(diffs < 0)
        else "rises at every step"
        if np.all(diffs > 0)
        else "does not change monotonically"
    )
    return (
        f"goes from {f(first)} at {unit}{whole(values.index[0])} to {f(last)} at "
        f"{unit}{whole(values.index[-1])} and {shape}"
    )


def ci_of(row, confidence: float) -> dict:
    """A summarise() row as the interval dict of fmt_ci."""
    return {
        "mean": row["mean"],
        "lo": row["ci_lo"],
        "hi": row["ci_hi"],
        "n": int(row["n"]),
        "confidence": confidence,
    }


def means_with_intervals(
    df: pd.DataFrame, by: str, value: str, confidence: float = CONFIDENCE, f=fmt, label: str | None = None
) -> tuple[pd.Series, str]:
    """(means by `by`, 'd=5: 0.03 [0.029, 0.031], d=10: ... (95 % t-interval over 3 autoencoder
    seeds)'): each seed's mean over the other factors first, then the interval over seeds."""
    s = summarise(df, by, value, confidence=confidence)
    label = label or vocab.label(by)
    text = ", ".join(f"{label}={whole(r[by])}: {fmt_ci(ci_of(r, confidence), f=f)}" for _, r in s.iterrows())
    return s.set_index(by)["mean"], f"{text} ({interval_words(confidence, s['n'], SEEDS)})"
