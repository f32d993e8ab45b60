"""Sentences every experiment's section writes alike: a trend in words, means with their
intervals, and the warnings about a stage's failed or skipped runs."""

from __future__ import annotations

import pandas as pd

from .. import vocabulary as vocab
from .stats import CONFIDENCE, summarise
from .text import SEEDS, fmt, fmt_ci, interval_words, listing, plain, whole


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


def _steps(values: pd.Series, f=fmt) -> list[str]:
    """Each step's direction as the printed numbers show it: two values that print alike are
    'flat' (0.2471 and 0.2467 both print as 0.247), so no sentence claims a fall nobody can see."""
    v = values.to_numpy(float)
    return ["flat" if f(a) == f(b) else "falls" if b < a else "rises" for a, b in zip(v[:-1], v[1:])]


def _runs(steps: list[str]) -> list[tuple[str, int, int]]:
    """The steps as runs of one direction: (direction, first index, last index) of the values."""
    runs = []
    for i, step in enumerate(steps):
        if runs and runs[-1][0] == step:
            runs[-1] = (step, runs[-1][1], i + 1)
        else:
            runs.append((step, i, i + 1))
    return runs


def _run_words(run: tuple[str, int, int], values: pd.Series, unit: str, f, first: bool) -> str:
    """One run in words: the first names where it starts, a later one only where it ends."""
    kind, i, j = run
    at = [f"{unit}{whole(x)}" for x in values.index]
    v = values.to_numpy(float)
    if kind == "flat":
        return f"stays at {f(v[i])} from {at[i]} to {at[j]}" if first else f"stays at {f(v[j])} up to {at[j]}"
    return (
        f"{kind} from {f(v[i])} at {at[i]} to {f(v[j])} at {at[j]}"
        if first
        else f"{kind} to {f(v[j])} at {at[j]}"
    )


def describe_trend(values: pd.Series, unit: str = "", f=fmt) -> str:
    """A predicate that the printed numbers bear out: 'goes from A at <unit>x0 to B at <unit>x1 and
    falls at every step' only when every printed value is below the one before (rises alike);
    otherwise each run of falls, rises or equal printed values in turn, equal ones said to be equal
    as printed (0.2471 -> 0.2467 would read 'falls' beside two printed 0.247s). A missing value
    (NaN: no usable run there) is left out of the steps and named, never compared."""
    gaps = [f"{unit}{whole(x)}" for x in values.index[values.isna()]]
    values = values.dropna()
    if not gaps:
        return _trend(values, unit, f)
    if values.empty:
        return "has no value"
    return f"{_trend(values, unit, f)} (no value at {', '.join(gaps)})"


def _trend(values: pd.Series, unit: str, f) -> str:
    """describe_trend over values that are all present."""
    if len(values) < 2:
        return f"is {f(values.iloc[0]) if len(values) else 'n/a'} (one value only)"
    runs = _runs(_steps(values, f))
    if len(runs) == 1 and runs[0][0] != "flat" and len(values) > 2:  # two values: one step, never "every"
        return (
            f"goes from {f(values.iloc[0])} at {unit}{whole(values.index[0])} to {f(values.iloc[-1])} at "
            f"{unit}{whole(values.index[-1])} and {runs[0][0]} at every step"
        )
    words = ", then ".join(_run_words(r, values, unit, f, first=k == 0) for k, r in enumerate(runs))
    return words + (" (the same to the digits printed)" if any(r[0] == "flat" for r in runs) else "")


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
    return s.set_index(by)["mean"], _intervals_text(s, by, label or vocab.label(by), confidence, f)


def _intervals_text(s: pd.DataFrame, by: str, label: str, confidence: float, f) -> str:
    text = ", ".join(f"{label}={whole(r[by])}: {fmt_ci(ci_of(r, confidence), f=f)}" for _, r in s.iterrows())
    return f"{text} ({interval_words(confidence, s['n'], SEEDS)})"


def trend_with_intervals(df: pd.DataFrame, by: str, value: str, confidence: float = CONFIDENCE, f=fmt) -> str:
    """'goes from A at d=5 to B at d=20 and rises at every step (the step d=5→10 is inside the
    noise: …): d=5: a [lo, hi], …': `describe_trend` of the means over seeds, a note naming the
    steps whose two means each lie inside the other's interval, and `means_with_intervals`' text.
    "Rises at every step" was said of a rise of 0.002 beside intervals of ±0.012."""
    s = summarise(df, by, value, confidence=confidence)
    label = vocab.label(by)
    unit = f"{label}="
    levels = s.set_index(by)
    return (
        f"{describe_trend(levels['mean'], unit, f)}{_inside_noise(levels, unit, f)}: "
        f"{_intervals_text(s, by, label, confidence, f)}"
    )


def _inside_noise(s: pd.DataFrame, unit: str, f=fmt) -> str:
    """' (the step d=5→10 is inside the noise: each of its two means lies within the other's
    interval)' over a summarise() table indexed by the levels; '' where no step is. A step whose
    two means print alike is left out: `describe_trend` already calls it flat."""
    s = s.dropna(subset=["mean", "ci_lo", "ci_hi"])
    steps = [
        f"{unit}{whole(a)}→{whole(b)}"
        for (a, ra), (b, rb) in zip(s.iterrows(), list(s.iterrows())[1:])
        if f(ra["mean"]) != f(rb["mean"])
        and ra["ci_lo"] <= rb["mean"] <= ra["ci_hi"]
        and rb["ci_lo"] <= ra["mean"] <= rb["ci_hi"]
    ]
    if not steps:
        return ""
    if len(steps) == 1:
        return f" (the step {steps[0]} is inside the noise: each of its two means lies within the other's interval)"
    return f" (the steps {listing(steps)} are inside the noise: in each, either mean lies within the other's interval)"
