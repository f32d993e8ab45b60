"""How the report writes numbers and tables as text, so that every section formats them alike."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd


def fmt(x, digits: int = 3) -> str:
    """A number for prose and tables: 3 significant digits (the tables under tables/ keep full
    precision), 'n/a' for None or nan."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return f"{float(x):.{digits}g}"


def fmt_pct(x, digits: int = 1) -> str:
    """An accuracy (fraction) as a percentage."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{100 * float(x):.{digits}f} %"


def fmt_pp(x, digits: int = 1) -> str:
    """An accuracy difference (fraction) in percentage points, signed."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{100 * float(x):+.{digits}f} points"


def fmt_rel(x) -> str:
    """A relative change (fraction) as a signed whole percentage: 0.25 -> '+25 %'."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{100 * float(x):+.0f} %"


SEEDS = "autoencoder seeds"        # the unit of every interval but the baselines'
DRAWS = "label draws"              # the unit of the raw-pixel baselines (they use no encoder)


def _unit(n: int, unit: str) -> str:
    return unit[:-1] if n == 1 and unit.endswith("s") else unit


def interval_words(confidence: float, n, unit: str = SEEDS) -> str:
    """'95 % t-interval over 3 autoencoder seeds'; `n` may list several sizes ('2-3 ...')."""
    ns = sorted({int(v) for v in np.atleast_1d(n)})
    k = str(ns[0]) if len(ns) == 1 else f"{ns[0]}-{ns[-1]}"
    return f"{100 * confidence:g} % t-interval over {k} {_unit(ns[-1], unit)}"


def fmt_ci(ci: dict, pct: bool = False, f=None, unit: str | None = None) -> str:
    """'0.812 [0.79, 0.83]' (or in %), with `unit` followed by ', 95 % t-interval over 3
    autoencoder seeds'; the interval omitted when it is undefined (n < 2)."""
    f = f or (fmt_pct if pct else fmt)
    if ci["n"] < 2 or not math.isfinite(ci["lo"]):
        return f"{f(ci['mean'])} (n = {ci['n']}{' ' + _unit(ci['n'], unit) if unit else ''}, no interval)"
    words = f", {interval_words(ci['confidence'], ci['n'], unit)}" if unit else ""
    return f"{f(ci['mean'])} [{f(ci['lo'])}, {f(ci['hi'])}]{words}"


def whole(v):
    """A parameter value for a label: 20.0 -> 20; anything not a whole number is left as it is."""
    try:
        return int(v) if float(v).is_integer() else v
    except (TypeError, ValueError):
        return v


def markdown_table(df: pd.DataFrame, floatfmt=fmt) -> str:
    """A pipe table for Markdown output (no tabulate dependency); '|' in cells is escaped.
    Missing values print as 'n/a' in numeric columns and as nothing in text columns."""
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]

    def cell(v, is_num):
        if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
            s = "n/a" if is_num else ""
        elif isinstance(v, (float, np.floating)):
            s = floatfmt(v)
        else:
            s = str(v)
        return s.replace("|", "\\|").replace("\n", " ")

    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(c.replace("|", "\\|") for c in cols) + " |",
             "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v, n) for v, n in zip(row, numeric)) + " |")
    return "\n".join(lines)
