"""How the report writes numbers and tables as text, so that every section formats them alike."""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pandas as pd

from .stats import SEEDS  # the study's words for its units (the sections import them from here)


def fmt(x, digits: int = 3) -> str:
    """A number for prose and tables: 3 significant digits, trailing zeros kept so that numbers set
    side by side show the same precision (0.170 beside 0.207, not 0.17); a whole number as it is (20,
    not 20.0). The tables under tables/ keep full precision; 'n/a' for None or nan."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if x.is_integer() and abs(x) < 10**digits:
        return str(int(x))
    return f"{x:#.{digits}g}".replace(".e", "e").rstrip(".")


def as_written(v):
    """A parameter's value as a parameter file writes it (0.003, 1e-05, 100), not as a measurement
    with its significant digits (0.00300); anything but a float as it is."""
    return f"{float(v):g}" if isinstance(v, (float, np.floating)) and math.isfinite(v) else v


def fmt_pct(x, digits: int = 1) -> str:
    """An accuracy (fraction) as a percentage."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{100 * float(x):.{digits}f} %"


def listing(words) -> str:
    """'a', 'a and b', 'a, b and c' ('' for none)."""
    words = list(words)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def count(n, noun: str) -> str:
    """'1 epoch', '3 epochs': a count with its noun in the number it takes ('(s)' never)."""
    return f"{n} {noun}" + ("" if int(n) == 1 else "s")


def signed(v: float, digits: int = 1) -> str:
    """'+8.6', '-0.4'; a value that `digits` would round to a signed zero gets one significant
    digit instead ('-0.04', never '-0.0')."""
    s = f"{v:+.{digits}f}"
    return f"{v:+.1g}" if v != 0 and float(s) == 0 else s


def relative(v) -> str:
    """A change on the log scale as a relative change: log(0.9) -> '-10.0 %'."""
    return "n/a" if v is None or not np.isfinite(v) else f"{100 * (np.exp(v) - 1):+.1f} %"


def fmt_pp(x, digits: int = 1) -> str:
    """An accuracy difference (fraction) in percentage points, signed."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{signed(100 * float(x), digits)} points"


def fmt_pp_ci(ci: dict, digits: int = 1) -> str:
    """An accuracy difference with its interval, compactly: '+8.6 [+7.2, +10.1] points' (the
    interval's level, unit and n belong in the caption or sentence around it)."""

    def pp(v):
        return signed(100 * float(v), digits) if v is not None and math.isfinite(float(v)) else "n/a"

    if ci.get("n", 0) < 2 or not math.isfinite(float(ci.get("lo", float("nan")))):
        return f"{pp(ci.get('mean'))} points (n = {ci.get('n', 0)}, no interval)"
    return f"{pp(ci['mean'])} [{pp(ci['lo'])}, {pp(ci['hi'])}] points"


def fmt_rel(x) -> str:
    """A relative change (fraction) as a signed whole percentage: 0.25 -> '+25 %'."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{100 * float(x):+.0f} %"


def unit_for(n: int, unit: str) -> str:
    """The unit's words for a count of `n`: 'autoencoder seed' for 1, else as given (plural)."""
    return unit[:-1] if n == 1 and unit.endswith("s") else unit


def interval_words(confidence: float, n, unit: str = SEEDS) -> str:
    """'95 % t-interval over 3 autoencoder seeds'; `n` may list several sizes ('2-3 ...'); 'no interval
    (n = 1 autoencoder seed)' where every size is below 2."""
    ns = sorted({int(v) for v in np.atleast_1d(n)})
    k = str(ns[0]) if len(ns) == 1 else f"{ns[0]}-{ns[-1]}"
    if ns[-1] < 2:  # one unit everywhere: nothing is drawn or printed as an interval
        return f"no interval (n = {k} {unit_for(ns[-1], unit)})"
    return f"{100 * confidence:g} % t-interval over {k} {unit_for(ns[-1], unit)}"


def fmt_ci(ci: dict, pct: bool = False, f=None, unit: str | None = None, measured_in: str = "") -> str:
    """'0.812 [0.79, 0.83]' (or in %), with `unit` followed by ', 95 % t-interval over 3
    autoencoder seeds'; the interval omitted when it is undefined (n < 2). `measured_in` ('nats')
    stands beside the mean, not after the interval's words."""
    f = f or (fmt_pct if pct else fmt)
    mean = f(ci["mean"]) + (f" {measured_in}" if measured_in else "")
    if ci["n"] < 2 or not math.isfinite(ci["lo"]):
        return f"{mean} (n = {ci['n']}{' ' + unit_for(ci['n'], unit) if unit else ''}, no interval)"
    words = f", {interval_words(ci['confidence'], ci['n'], unit)}" if unit else ""
    return f"{mean} [{f(ci['lo'])}, {f(ci['hi'])}]{words}"


def est_words(ci: dict) -> str:
    """The level, unit, n and degrees of freedom of a verdict's interval: '95 % t-interval, 5
    autoencoder seeds, df 4'; a Welch interval over cells of independent units says so and that its
    df are Welch-Satterthwaite's."""
    welch = ci.get("welch")
    return (
        f"{100 * ci['confidence']:g} % {'Welch ' if welch else ''}t-interval, {ci['n']} "
        f"{unit_for(ci['n'], ci['unit'])}, {df_words(ci)}"
    )


def df_words(ci: dict) -> str:
    """'Welch-Satterthwaite df 4 of the cells' 18: the cell d=10, num_conv=3 carries 81 % of the
    variance': an interval's df, and where one cell's spread holds a Welch df to under half of what
    its cells hold together (`linear.welch_over_cells`: the sum of their units less one), which
    cell. 'df 4' for an interval over the seeds."""
    if not ci.get("welch"):
        return f"df {ci['df']}"
    said = f"Welch-Satterthwaite df {ci['df']}"
    pooled, share = ci.get("df_cells"), ci.get("share", 0.0)
    if pooled and share >= 0.5 and ci["df"] < pooled / 2:
        said += (
            f" of the cells' {pooled}: the cell {ci['widest']} carries {100 * share:.0f} % of the variance"
        )
    return said


def fmt_est(ci: dict, f=fmt) -> str:
    """'-12.4 % [-19.1 %, -5.2 %] (95 % t-interval, 5 autoencoder seeds, df 4)' (`f` formats the
    values); without degrees of freedom (fewer than two seeds), the value and why there is no interval."""
    if not math.isfinite(ci.get("lo", float("nan"))):
        return f"{f(ci['mean'])} ({ci['n']} {unit_for(ci['n'], ci['unit'])}, df {ci['df']}: no interval)"
    return f"{f(ci['mean'])} [{f(ci['lo'])}, {f(ci['hi'])}] ({est_words(ci)})"


def whole(v):
    """A parameter value for a label: 20.0 -> 20; anything not a whole number is left as it is."""
    try:
        return int(v) if float(v).is_integer() else v
    except (TypeError, ValueError):
        return v


_MARKDOWN_PUNCT = re.compile(r"([\\`*_#!{}|~$])")
_BRACKETS = {"[": "&#91;", "]": "&#93;"}


def plain(text) -> str:
    """Text from outside the report (a parameter value, an error message, a file name) as markdown
    that shows it verbatim: no HTML, no link, no emphasis and no math can come out of it, on one
    line. Brackets become character references, not backslash escapes: the report's markdown
    follows JupyterLab, where "\\[ ... \\]" and "\\( ... \\)" are math (`html._protect_markdown_math`);
    a "$" is escaped, which MathJax shows as "$"."""
    escaped = _MARKDOWN_PUNCT.sub(r"\\\1", html.escape(str(text), quote=False))
    return re.sub(r"[\[\]]", lambda m: _BRACKETS[m.group(0)], escaped).replace("\n", " ")


def fence(text: str, info: str = "") -> str:
    """A fenced code block that `text` cannot close: the fence is longer than any run of
    backticks inside it (markdown shows a code block's content as text, never as HTML)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


_INTERVAL = re.compile(r"\[([^\[\],]+), ([^\[\],]+)\]")


def unbroken(cell: str) -> str:
    """A table cell whose numbers keep their unit and their interval on one line: '100.0 %' and
    '[0.0345, 0.0369]' are joined by no-break spaces, so a narrow column wraps before an interval,
    never inside it or between a number and its '%'."""
    return _INTERVAL.sub("[\\1,\u00a0\\2]", cell.replace(" %", "\u00a0%"))


def markdown_table(df: pd.DataFrame, floatfmt=fmt) -> str:
    """A pipe table for Markdown output (no tabulate dependency); '|' in cells is escaped.
    Missing values print as 'n/a' in numeric columns and as nothing in text columns."""
    numeric = [
        pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns
    ]

    def cell(v, is_num):
        if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
            s = "n/a" if is_num else ""
        elif isinstance(v, (float, np.floating)):
            s = floatfmt(v)
        else:
            return plain(unbroken(str(v)))
        return unbroken(s.replace("|", "\\|").replace("\n", " "))

    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(plain(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v, n) for v, n in zip(row, numeric)) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------ numbered captions


class Captions:
    """Numbers the report's figures and tables in the order they are shown: `figure(text)` and
    `table(text)` return the caption as HTML ('<p class="caption">' with 'Figure 3.' in bold; a
    table's caption goes above it, a figure's below). `text` is plain text (escaped here)."""

    def __init__(self, figures: int = 0, tables: int = 0):
        self.figures, self.tables = figures, tables

    def figure(self, words: str) -> str:
        self.figures += 1
        return caption_html("Figure", self.figures, words)

    def table(self, words: str) -> str:
        self.tables += 1
        return caption_html("Table", self.tables, words)


def caption_html(kind: str, number: int, words: str, markup: bool = False) -> str:
    """'<p class="caption figure-caption"><b>Figure 3.</b> words</p>': `words` is plain text,
    escaped here (`code` in backticks is shown as code), or HTML already with `markup`."""
    if not markup:
        words = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(str(words), quote=False))
    return f'<p class="caption {kind.lower()}-caption"><b>{kind} {number}.</b> {words}</p>'


def html_table(
    df: pd.DataFrame, cls: str = "", floatfmt=fmt, classes: dict | None = None, links: dict | None = None
) -> str:
    """A plain HTML table (escaped; numbers formatted like markdown_table). `classes` maps a
    column to a function of the cell's value that returns a CSS class for the cell; `links` maps a
    column to a function of the cell's value that returns the address its text links to."""
    classes, links = classes or {}, links or {}

    def content(c, v) -> str:
        text = html.escape(unbroken(cell(v)))
        return f'<a href="{html.escape(links[c](v), quote=True)}">{text}</a>' if c in links and v else text

    def cell(v):
        if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
            return "n/a"
        return floatfmt(v) if isinstance(v, (float, np.floating)) else str(v)

    head = "".join(f'<th class="col-{_slug(c)}">{html.escape(str(c))}</th>' for c in df.columns)
    rows = []
    for row in df.itertuples(index=False):
        tds = []
        for c, v in zip(df.columns, row):
            extra = classes[c](v) if c in classes else ""
            tds.append(f'<td class="col-{_slug(c)}{" " + extra if extra else ""}">{content(c, v)}</td>')
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>' + "".join(rows) + "</tbody></table>"


def _slug(name) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(name).lower()).strip("-")


def lead_and_error(scores, ses, chosen: int) -> tuple[float, float]:
    """The chosen candidate's lead over the best other one and the standard error of that
    difference: both candidates' errors over folds combined as if independent (the runner-up's
    taken as the chosen one's where it is missing). The chosen one's error alone can be 0 over two
    folds that happen to agree, which would make any lead look clear."""
    runner = max((i for i in range(len(scores)) if i != chosen), key=lambda i: scores[i])
    se = ses[chosen]
    se_r = se if ses[runner] is None or pd.isna(ses[runner]) else ses[runner]
    return scores[chosen] - scores[runner], math.sqrt(se**2 + se_r**2)


def tied(lead: float) -> bool:
    """A lead of exactly 0 (to float rounding): two candidates scored alike and the search took the first."""
    return abs(lead) < 1e-12


def inside_noise(lead: float, error: float) -> bool:
    """A lead no larger than one standard error of it (equal, up to float rounding, counts as inside)."""
    return abs(lead) <= error + 1e-9


def selection_noise(scores, ses, chosen: int, what: str = "candidate", folds: int | None = None) -> str:
    """One sentence on a cross-validated search: the standard error over folds (the chosen
    candidate's, in points) and whether the chosen candidate's lead over the runner-up exceeds one
    standard error of that lead (the two candidates' errors combined, as if independent: the chosen
    one's alone can be 0 over 2 folds that happen to agree). Within it, the selection is inside the
    noise. '' without the errors (runs from before they were recorded) or with one candidate. With
    `folds` below 3, that each error rests on so few degrees of freedom (2 folds that happen to agree
    give 0)."""
    scores, ses = list(scores), list(ses)
    if len(scores) < 2 or chosen >= len(scores) or ses[chosen] is None or pd.isna(ses[chosen]):
        return ""
    se = ses[chosen]
    lead, error = lead_and_error(scores, ses, chosen)
    runner_up = scores[chosen] - lead
    known = [s for s in ses if s is not None and not pd.isna(s)]
    spread = (
        f"{100 * min(known):.1f}–{100 * max(known):.1f} points over the {what}s"
        if len(known) > 1 and max(known) - min(known) >= 0.0005
        else ""
    )
    few = (
        f"over {folds} folds each standard error rests on {count(folds - 1, 'degree')} of freedom, a rough guide"
        if folds is not None and 1 < folds < 3
        else ""
    )
    aside = "; ".join(w for w in (spread, few) if w)
    head = f"Cross-validation standard error over folds: {100 * se:.1f} points for the chosen {what}" + (
        f" ({aside})" if aside else ""
    )
    lead_words = (
        f"the chosen {what} ({fmt_pct(scores[chosen])}) ties with the runner-up, the first of them in the search's "
        "order taken"
        if tied(lead)
        else f"the chosen {what} ({fmt_pct(scores[chosen])}) leads the runner-up ({fmt_pct(runner_up)}) by "
        f"{100 * lead:.1f} points"
        if lead >= 0
        else f"the chosen {what} ({fmt_pct(scores[chosen])}) is {100 * -lead:.1f} points below another "
        f"({fmt_pct(runner_up)})"
    )
    of_lead = (
        f"one standard error of that difference ({100 * error:.1f} points, both {what}s' errors combined)"
    )
    if inside_noise(lead, error):
        return f"{head}; {lead_words}, within {of_lead}: the selection is inside the noise."
    return f"{head}; {lead_words}, more than {of_lead}."
