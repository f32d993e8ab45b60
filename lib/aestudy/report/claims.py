"""What an experiment of the report declares, and the rows its claims return.

An experiment module (under `report/experiments/`) holds one `Experiment`: its name, the stages
whose runs it reads, its claims (claim id -> a verdict function of a stage's rows), how its rules
are explained, the key effects it lends the abstract, the panel it lends the page-1 figure and
the choices it discloses. The report's frame (`verdicts`, `prose`, `figures.overview`) walks
the registry (`report.experiments.EXPERIMENTS`) and never names an experiment.

A verdict function returns a row (`row`): the conclusion, this run's numbers, the verdict, the
seeds it holds in, a short key number for page 1 and the decision's p-value (`p`, the family's
Holm step reads it) with what would decide it (`need`, for an inconclusive row's "would need
about N seeds")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import vocabulary as vocab
from .decide import CONTRADICTED, INCONCLUSIVE, holds_text
from .stats import MODELS, SEED
from .text import df_words, est_words, fmt, relative, whole

KEY = "key number"  # the short number of the page-1 verdict table (no interval words)
NUMBERS = "this run's numbers"
UNTESTED = "untested"  # the "holds in" cell of a claim the design cannot test (the abstract counts them)
SEED_COUNT = "of seeds"  # the seeds a decision rests on (0 without one): the n of "holds in k of n seeds"
# the k of "holds in k of n seeds" (empty without a decision): page 1 prints "k of n" from both
HOLD_COUNT = "holds"
NO_RUNS = "no usable runs"
NEED = "need"  # what would decide it (decide.need): read by verdicts.family, not shown
DF = "df"  # the degrees of freedom of the interval a row decides on (its equivalence's fewest)
NOTE = "note"  # a claim's caveat (`Claim.note`): in its numbers, a line of its own in the detailed block, and on page 1
DETAIL = "detail"  # the numbers behind a claim's decision (`Claim.detail`): in its numbers and its block, not on page 1
DECIDES = "decides"  # the number the rule decides on, with its interval, where it is not the key number
WOULD = (
    "would decide it"  # an inconclusive row's words on what would decide it (decide.need_text, or its own)
)


@dataclass(frozen=True)
class Claim:
    experiment: str  # the 'exp.' column: '1'-'4' the original's experiments; with '+' ('4+', '5+')
    # a check or an experiment added here (never counted as the original's)
    stage: str  # the stage whose usable rows it is decided on
    verdict: Callable  # verdict(rows: DataFrame, rules: ReportParams) -> row
    note: Callable | None = None  # note(data) -> a caveat said beside its numbers and on page 1 ('' for none)
    # detail(data) -> the numbers behind its decision, such as its difference at every level of a factor
    # it averages over: a line of its detailed block and its numbers, not page 1 ('' for none)
    detail: Callable | None = None


@dataclass(frozen=True)
class Experiment:
    """One experiment of the report (see the module's docstring)."""

    name: str  # a short id: its main stage ('autoencode')
    stages: tuple[str, ...]  # the stages whose runs it reads (their failures are named in its section)
    claims: dict[str, Claim] = field(default_factory=dict)
    optional: bool = False  # a profile may leave its stage out (then its section says nothing)
    rules: Callable | None = None  # rules(ReportParams) -> markdown bullets: how its claims are decided
    key_effects: Callable | None = (
        None  # key_effects(data, verdict table) -> phrases for the abstract's key effects
    )
    abstract: Callable | None = (
        None  # abstract(data) -> one sentence of its own for the abstract ('' for none)
    )
    # warning(data) -> a line shown under the title, above every verdict, when this run's numbers
    # cannot bear the conclusions drawn from them ('' for none)
    warning: Callable | None = None
    overview: Callable | None = None  # overview(data) -> a page-1 panel (figures.Panel) or None
    choices: Callable | None = None  # choices(data) -> [{what, choice, how it was made, on what data}]
    limitations: Callable | None = None  # limitations(data) -> sentences on what its design cannot show
    # set_aside(data) -> (words, units) or None: units that stand apart from the others ('the 1 model
    # that ...', [{column: value, ...}]); `report.robustness` decides every verdict again without them
    # and the report says which change
    set_aside: Callable | None = None
    order: int = 100  # where the report shows it (the original's experiments 1-4, then the rest)
    # what each seed its runs derive (`science.fitting.derived_seed(purpose, ...)`) sets, in a reader's
    # words, and whether it follows the autoencoder's seed (else a stage's own search seed):
    # {purpose: (words, follows)}; the choice "which images" says it (`report.choices`)
    seeds: dict = field(default_factory=dict)
    # the values each of its measures can take, {column: (lo, hi)} or {column: f(group) -> (lo, hi)} for a
    # bound that depends on the group's levels ({latent_dim: 5} for a measure at most d): every interval
    # over it is cut there (`stats.summarise`): a mean |correlation| of 2 seeds read [-0.55, 1.09]
    ranges: dict = field(default_factory=dict)
    # Its section of the report, which notebooks/analyses.ipynb shows item by item (`report.section`):
    title: str = ""  # the section's heading ('Experiment 5: denoising')
    narrative: str = ""  # markdown under the heading: what was done and why
    text: Callable | None = None  # text(data) -> markdown made from this run's numbers
    # each: entry(data) -> a `section` item (Text, Table, Figure, Images), a list of them, or a
    # (DataFrame or matplotlib Figure, caption) pair; `section.table` and `section.figure` adapt a
    # function that returns such a pair (with an empty table's words, with the figure's file name)
    sections: tuple = ()


def row(
    experiment: str,
    conclusion: str,
    numbers: str,
    decision: dict | None = None,
    key: str = "",
    decides: str = "",
    untested: bool = False,
    would: str = "",
) -> dict:
    """A verdict row; without a decision the claim is inconclusive with 'no seeds' ('untested' when
    the design cannot test it). `decides`: the number the rule decides on with its interval, where
    the key number is another (a trend's key number is its two ends, its decision the slope).
    `would`: what would decide an inconclusive row that no number of seeds decides (a grid that
    cannot test it); the family words the seeds' count itself (`need`)."""
    d = decision or {}
    return {
        "experiment": experiment,
        "conclusion": conclusion,
        NUMBERS: numbers,
        "verdict": d.get("verdict", INCONCLUSIVE),
        "seeds": holds_text(d) if d else (UNTESTED if untested else "no seeds"),
        SEED_COUNT: int(d.get("seeds") or 0),
        HOLD_COUNT: int(d["holds"]) if d.get("seeds") else None,
        KEY: key or "n/a",
        "p": d.get("p", float("nan")),
        NEED: d.get("need"),
        DECIDES: decides,
        WOULD: would,
        DF: decided_df(d),
    }


def decided_df(decision: dict) -> int | None:
    """The degrees of freedom of the interval a decision rests on: its own, or the fewest of its
    equivalence's differences; None without one."""
    if decision.get("cis"):
        return min(int(ci.get("df", 0)) for ci in decision["cis"].values())
    return int(decision["df"]) if "df" in decision else None


def key_decides(ci: dict, what: str = "the key number") -> str:
    """A row's `decides` where the rule decides on its key number itself: the interval's level,
    unit, n and df, which the key number leaves to its caption."""
    return f"{what} ({est_words(ci)})"


def key_effects(v: pd.DataFrame, words: tuple, **fill) -> list[str]:
    """The abstract's phrases of the claims in `words` ((claim id, words with {key} and any of
    `fill`)) that have a key number and are not contradicted (the abstract's "Contradicted:" gives
    those with their key numbers already)."""
    return [
        w.format(key=v.at[claim, KEY], **fill)
        for claim, w in words
        if claim in v.index and v.at[claim, KEY] not in ("", "n/a") and v.at[claim, "verdict"] != CONTRADICTED
    ]


def by_mean(df: pd.DataFrame, by: str, value: str, f=fmt) -> str:
    """Plain means of `value` by `by` (each seed weighs the same: the grids are balanced)."""
    m = df.groupby(by)[value].mean()
    return ", ".join(f"{vocab.label(by)}={whole(k)}: {f(v)}" for k, v in m.items())


def ends(df: pd.DataFrame, by: str, value: str, f=fmt) -> str:
    """The key number of a trend: the plain means at the smallest and the largest `by`,
    '0.0338 at d=5 → 0.0207 at d=20', and where a mean between them prints beyond both ends, the
    most extreme of those too ('77.0 % at d=5 → 81.0 % at d=20, peak 84.1 % at d=10'): two ends
    alone would read as a rise where the curve peaks inside."""
    m = df.groupby(by)[value].mean()
    lab = vocab.label(by)
    if len(m) < 2:
        return f"{f(m.iloc[0])} at {lab}={whole(m.index[0])} only" if len(m) else ""
    said = f"{f(m.iloc[0])} at {lab}={whole(m.index[0])} → {f(m.iloc[-1])} at {lab}={whole(m.index[-1])}"
    inner, lo, hi = m.iloc[1:-1], min(m.iloc[0], m.iloc[-1]), max(m.iloc[0], m.iloc[-1])
    above = inner[(inner > hi) & inner.map(lambda v: f(v) != f(hi))]
    below = inner[(inner < lo) & inner.map(lambda v: f(v) != f(lo))]
    for word, beyond, at in (("peak", above, above.idxmax), ("trough", below, below.idxmin)):
        if not beyond.empty:
            said += f", {word} {f(m[at()])} at {lab}={whole(at())}"
    return said


def _weightless(d: pd.DataFrame, x: str, y: str, block: str, units: str) -> str:
    """'; the 16 autoencoders at num_conv = 2, the middle level within each d, weigh nothing in it':
    said where the slope (`linear.slope_weights`, the rule `trend_of_cells` decides by) gives some
    cells no weight, so that its n, which counts the units it weighs, is less than the units
    trained. `d`: the rows of the estimate."""
    from .linear import cell_units, slope_weights, usable

    rows = usable(d, y, [x, block, SEED]) if SEED in d else d.iloc[:0]
    cells = cell_units(rows, y, [block, x], SEED) if len(rows) else {}
    zero = [c for c, w in slope_weights(cells).items() if w == 0]
    if not zero:
        return ""
    where = " or ".join(f"{vocab.label(x)} = {whole(v)}" for v in sorted({c[1] for c in zero}))
    return (
        f"; the {sum(len(cells[c]) for c in zero)} {units} at {where}, the middle level within each "
        f"{vocab.label(block)}, weigh nothing in it: a least-squares slope gives the level at the mean of the "
        "levels no weight, the steps use them"
    )


def trend_row(
    experiment: str,
    c: str,
    df: pd.DataFrame | None,
    x: str,
    y: str,
    block: str,
    expected: int,
    rules,
    label: str,
    per: str,
    f=fmt,
    of_error: bool = False,
    extra: str = "",
    units: str = MODELS,
) -> dict:
    """A trend conclusion ("`y` falls / grows as `x` grows", `expected` -1 / +1), decided on the
    log of `y` (of 1 - `y`, its error, with `of_error`: an accuracy grows when its error falls) so
    that blocks whose values differ in scale weigh alike. Each seed is one observation
    (`linear.trend`): its slope is the least-squares slope over `x` of its models within each
    `block`, averaged, and each adjacent step of `x` is its own too; `decide.monotone` decides on
    their t-intervals over the seeds. Where the runs' models are independent units
    (`rules.models_independent`: each seeded for its own cell), the same slope and steps of the cell
    means get Welch intervals over the cells instead, each row one of `units`. Holds: the seeds whose
    own slope is on the claimed side."""
    from .decide import monotone
    from .linear import seed_slopes, trend
    from .text import est_words

    if df is None or df.empty:
        return row(experiment, c, NO_RUNS)
    if df[x].nunique() < 2:  # the design has one level of x: no trend to test, however many seeds
        return row(
            experiment,
            c,
            f"{label}: {by_mean(df, x, y, f)}; one value of {vocab.label(x)} only: this design cannot test a "
            "trend in it",
            key=ends(df, x, y, f),
            untested=True,
            would=f"no number of seeds would decide it; a design with at least two values of {vocab.label(x)} would",
        )
    logged = np.log((1 - df[y]) if of_error else df[y]).clip(lower=np.log(1e-9))
    d = df.assign(_log=logged)
    on_log = -expected if of_error else expected
    independent = units if rules.models_independent else None
    slope, steps = trend(d, x, "_log", block, independent=independent)
    own = seed_slopes(d, x, "_log", block)
    dec = monotone(
        slope, steps, on_log, rules.confidence, holds=int((own * on_log > 0).sum()), seeds=len(own)
    )
    what = "its error (1 − " + label.split(" ")[0] + ")" if of_error else "it"
    ci = (
        f"{relative(dec['mean'])} [{relative(dec['lo'])}, {relative(dec['hi'])}] (a relative change; {est_words(dec)})"
        if np.isfinite(dec["lo"])
        else f"{relative(dec['mean'])} (a relative change; {dec['n']} {dec['unit']}, df {dec['df']}: no interval)"
    )
    st = dec.get("steps", {})
    stepping = ", ".join(f"{vocab.label(x)} {k}: {relative(s['mean'])}" for k, s in st.items())
    # the steps that would veto the verdict the slope points to: against the claim where it points
    # the claimed way (supported needs none), toward it where it points the other way (contradicted needs none)
    toward_claim = np.isfinite(dec["mean"]) and dec["mean"] * on_log > 0
    vetoes = (
        ("against the claim", dec.get("against", []))
        if toward_claim
        else ("toward the claim", dec.get("toward", []))
    )
    veto = f"{vetoes[0]}: {', '.join(vetoes[1]) or 'none'}"
    levels = df[block].dropna().unique() if block in df else []
    other = vocab.label(block)  # as the reader knows it: 'd', not 'latent_dim'
    if independent:
        where = (
            f"{f'within each {other} ' if len(levels) > 1 else ''}(the least-squares slope of the cell means of "
            f"the log over {vocab.label(x)}"
            + (f", at {other} = {whole(levels[0])}" if len(levels) == 1 else "")
            + f", a Welch t-interval over the {units}, each an independent unit, each cell its own spread"
            + _weightless(d, x, "_log", block, units)
            + ")"
        )
    else:
        where = (
            f"within each {other} (each seed's least-squares slope of the log over its models' {vocab.label(x)}, "
            "a t-interval over the seeds)"
            if len(levels) > 1
            else f"(each seed's least-squares slope of the log over its models' {vocab.label(x)}"
            + (f", at {other} = {whole(levels[0])}" if len(levels) == 1 else "")
            + ", a t-interval over the seeds)"
        )
    return row(
        experiment,
        c,
        f"{label}: {by_mean(df, x, y, f)}; per {per}, {what} changes by {ci} {where}; adjacent steps "
        f"{stepping or 'none'}; significantly {veto}"
        f"{extra}",
        dec,
        key=ends(df, x, y, f),
        decides=f"{what + ', ' if of_error else ''}"
        f"{relative(dec['mean'])} relative per {per} [{relative(dec['lo'])}, {relative(dec['hi'])}], "
        f"{dec['n']} {dec['unit']}, {df_words(dec)}; "
        f"steps significantly {veto}"
        if np.isfinite(dec["lo"])
        else "",
    )
