"""The verdict table: every claim of every experiment of the registry (`report.experiments`),
each returning the conclusion, this run's numbers, a verdict (supported / contradicted /
inconclusive, by the rules of `decide` on the estimates of `linear`, with the thresholds of the
profile's `report:` section),
the number of seeds in which the claim holds on its own, and a short key number for
the compact table of the report's first page. `verdicts` gathers them, indexed by claim id (what
`compare` matches two profiles on); `page_one_table` is that compact table; `rules_markdown`
explains the rules. This module names no experiment: a claim is added in its experiment's module."""

from __future__ import annotations

import pandas as pd

from .. import config
from ..experiments import about
from ..report_params import ReportParams
from .claims import DECIDES, DETAIL, DF, HOLD_COUNT, KEY, NEED, NOTE, NUMBERS, SEED_COUNT, UNTESTED, WOULD
from .decide import INCONCLUSIVE, WORDS, holm, need_text, tost_level
from .experiments import EXPERIMENTS, claims
from .profile import ProfileData
from .stats import MODELS, SEEDS
from .text import count, fmt, unit_for

COLUMNS = [
    "experiment",
    "conclusion",
    NUMBERS,
    "verdict",
    "seeds",
    HOLD_COUNT,
    SEED_COUNT,
    KEY,
    DECIDES,
    WOULD,
    NOTE,
    DETAIL,
    "unadjusted",
    "p",
    "p (Holm)",
    DF,
]
RAW = "before Holm"  # the column of the page-1 and detailed tables that shows an unadjusted verdict


def verdicts(data: ProfileData) -> pd.DataFrame:
    """Every conclusion of the original study (and the project's additions) with this run's
    numbers, a verdict and its seed count, from the usable rows of the tables and the profile's
    `report:` rules; indexed by claim id."""
    rules = data.rules
    rows = {cid: c.verdict(data.usable(c.stage), rules) for cid, c in claims().items()}
    for cid, c in claims().items():
        for column, words in ((DETAIL, c.detail), (NOTE, c.note)):
            said = words(data) if words else ""
            rows[cid][column] = said
            if said:
                rows[cid][NUMBERS] += f"; {said}"
    v = pd.DataFrame.from_dict(rows, orient="index").rename_axis("claim")
    return family(v, 1 - rules.confidence)


def family(v: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """The verdicts as one family: Holm's adjustment of the decisions' p-values (a row without a p
    is not a member); a decision whose adjusted p exceeds alpha becomes inconclusive, and its
    unadjusted verdict is kept in `unadjusted` (empty where the two agree). Every inconclusive row
    with a `need` says in its numbers what would decide it (`decide.need_text`, at alpha / m)."""
    v = v.copy()
    v["p"] = pd.to_numeric(v.get("p", pd.Series(index=v.index, dtype=float)), errors="coerce")
    v["p (Holm)"] = holm(v["p"])
    raw = v["verdict"].copy()
    lost = (raw != INCONCLUSIVE) & ~(v["p (Holm)"] <= alpha)
    v.loc[lost, "verdict"] = INCONCLUSIVE
    v["unadjusted"] = raw.where(lost, "")
    v[WOULD] = v[WOULD].fillna("") if WOULD in v else ""  # a row's own words (a grid that cannot test it)
    if NEED in v:
        m = int(v["p"].notna().sum())
        for cid in v.index[v["verdict"] == INCONCLUSIVE]:
            words = need_text(v.at[cid, NEED], alpha, m) if isinstance(v.at[cid, NEED], dict) else ""
            if words:
                v.at[cid, NUMBERS] = f"{v.at[cid, NUMBERS]}; {words}"
                v.at[cid, WOULD] = words
    return v.reindex(columns=COLUMNS)


PAGE_ONE = {
    "experiment": "exp.",
    "conclusion": "conclusion",
    "verdict": "verdict",
    "seeds": "holds in",
    KEY: "key number",
}


def page_one_table(v: pd.DataFrame) -> str:
    """The compact verdict table of the report's first page, as HTML: one row per conclusion with
    its verdict (a CSS class per word), the seeds it holds in and its key number; the long
    numbers stay in the detailed table."""
    from .text import html_table

    cols, cls = dict(PAGE_ONE), "verdict-table"
    if (
        v["unadjusted"].fillna("") != ""
    ).any():  # a column of its own (and its width) where Holm changed a verdict
        cols = {**{k: c for k, c in PAGE_ONE.items() if k != KEY}, "unadjusted": RAW, KEY: PAGE_ONE[KEY]}
        cls += " with-raw"
    t = v.reindex(columns=list(cols)).rename(columns=cols)
    t[PAGE_ONE["seeds"]] = [_k_of_n(r) for _, r in v.iterrows()]
    return html_table(
        t.fillna(""), cls=cls, classes={"verdict": lambda w: f"verdict-{w}", RAW: lambda w: f"verdict-{w}"}
    )


def _k_of_n(row) -> str:
    """Page 1's "holds in" cell: "3 of 4" from a decision's counts; a row without one keeps its words
    ("untested", "no seeds")."""
    holds, seeds = row.get(HOLD_COUNT), row.get(SEED_COUNT)
    if pd.isna(holds) or not seeds:
        return str(row.get("seeds", ""))
    return f"{int(holds)} of {int(seeds)}"


def page_one_caption(data: ProfileData, v: pd.DataFrame) -> str:
    """The caption of page 1's verdict table."""
    from .prose import _seeds

    seeds, models = _seeds(data)
    return (
        f"Verdicts on the conclusions of the original study (experiments {_numbers(v)}; +: checks added here), "
        f"{seeds} {unit_for(seeds, SEEDS)}, {models} {unit_for(models, MODELS)}. Key number: the means at both ends of a trend, or the effect "
        f"[its {interval_kind(data.rules, short=True)}, "
        "where the key number names no other level]; holds "
        f"in: the seeds whose own statistic is on the claimed side. All numbers and the rules: Verdicts in detail."
    )


def _numbers(v: pd.DataFrame) -> str:
    """'1-4': the original study's experiments among the claims (a number with '+', a check or an
    experiment added here, never counts as one of the original's)."""
    nums = sorted({int(e) for e in v["experiment"].astype(str) if e.isdigit()})
    return f"{nums[0]}-{nums[-1]}" if len(nums) > 1 else ", ".join(map(str, nums))


def detail_html(v: pd.DataFrame, ref=None, aside: list | None = None) -> str:
    """The detailed verdicts laid out for reading, one compact block per claim: the conclusion and
    its verdict; the key number, the number the rule decides on with its interval (unit, n and
    df), the seeds it holds in and its p-values on one line; what would decide an inconclusive one;
    its caveat (`Claim.note`); the verdict and key number of the profile it is compared
    with, where `ref` (`counterpart.of`) found one on disk; the verdict without the units an experiment sets
    aside, where it differs (`aside`: `robustness.of`); and this run's full numbers folded under "All numbers" (open
    in the HTML; the PDF prints the blocks folded, so the full numbers live in the HTML)."""
    import html

    def set_aside(claim) -> str:  # the verdict without the units an experiment sets aside, where it differs
        said = [f"without {s.words}: {s.changed[claim][1]}" for s in aside or [] if claim in s.changed]
        return (
            "Set aside (a check, not the verdict: Choices and limitations): " + "; ".join(said)
            if said
            else ""
        )

    def e(x) -> str:
        return html.escape(str(x), quote=False)

    def p(x) -> str:  # two significant digits, as fmt keeps them (6.0e-07 beside 5.4e-06)
        return fmt(x, 2) if pd.notna(x) else "–"

    def at_counterpart(claim) -> str:
        if ref is None or ref.data is None:
            return ""
        if claim not in ref.table.index:
            return f'<p class="verdict-line">{e(ref.name)}: not among its conclusions.</p>'
        r = ref.table.loc[claim]
        said = (
            [f"{r['unadjusted']} {RAW}"] if isinstance(r.get("unadjusted"), str) and r["unadjusted"] else []
        )
        if claim in ref.differ:
            said.append("the verdicts differ")
        elif claim in ref.alone:
            said.append(f"only {'this run' if ref.alone[claim] == 0 else ref.name} decides")
        marks = f" ({e('; '.join(said))})" if said else ""
        return (
            f'<p class="verdict-line verdict-counterpart">{e(ref.name)}: '
            f'<span class="verdict-{e(r["verdict"])}">{e(r["verdict"])}</span>{marks} · '
            f"key number: {e(r[KEY])} · {e(r['seeds'])}</p>"
        )

    blocks = []
    for claim, r in v.iterrows():
        line = [f"key number: {e(r[KEY])}"]
        if isinstance(r.get(DECIDES), str) and r[DECIDES]:
            line.append(f"decided on: {e(r[DECIDES])}")
        line.append(e(r["seeds"]))
        if pd.notna(r["p"]):
            line.append(f"p {p(r['p'])}, Holm {p(r['p (Holm)'])}")
        if isinstance(r.get("unadjusted"), str) and r["unadjusted"]:
            line.append(f"{RAW}: {e(r['unadjusted'])}")
        would, note, detail = r.get(WOULD), r.get(NOTE), r.get(DETAIL)
        blocks.append(
            f'<div class="verdict-block"><p class="verdict-head"><span class="verdict-exp">{e(r["experiment"])}</span> '
            f'{e(r["conclusion"])}: <span class="verdict-{e(r["verdict"])}">{e(r["verdict"])}</span></p>'
            f'<p class="verdict-line">{" · ".join(line)}</p>'
            + (
                f'<p class="verdict-line">{e(would[0].upper() + would[1:])}.</p>'
                if isinstance(would, str) and would
                else ""
            )
            + (
                f'<p class="verdict-line">{e(detail[0].upper() + detail[1:])}.</p>'
                if isinstance(detail, str) and detail
                else ""
            )
            + (f'<p class="verdict-line">Note: {e(note)}.</p>' if isinstance(note, str) and note else "")
            + (f'<p class="verdict-line">{e(aside_line)}.</p>' if (aside_line := set_aside(claim)) else "")
            + at_counterpart(claim)
            + f'<details><summary aria-label="All numbers: {html.escape(str(r["conclusion"]), quote=True)}">All numbers</summary>'
            f"<p>{e(r[NUMBERS])}</p></details></div>"
        )
    return "\n".join(blocks)


def family_words(v: pd.DataFrame) -> str:
    """'11 claims the design can test', or, where runs are missing, '6 claims with a p-value (5 more
    have no usable runs)': the family is the claims with a p-value."""
    n = int(v["p"].notna().sum())
    untested = int((v["seeds"] == UNTESTED).sum()) if "seeds" in v else 0
    missing = len(v) - n - untested
    if missing <= 0:
        return f"{count(n, 'claim')} the design can test"
    return f"{count(n, 'claim')} with a p-value ({missing} more {'has' if missing == 1 else 'have'} no p-value: too few usable runs)"


def detail_caption(data: ProfileData, v: pd.DataFrame, ref=None) -> str:
    """What the detailed verdicts (`detail_html`) show, said above them; where the `report:` section
    names profiles to compare with (`compare_with`), which one is shown, or that none has runs on disk."""
    return (
        f"In each block: the conclusion (experiments {_numbers(v)} of the original study; +: a check added here) "
        "and its verdict; the key number of page 1; the number the rule decides on, with its "
        f"{interval_kind(data.rules)} ({100 * tost_level(data.rules.confidence):g} % for an equivalence, as TOST "
        f"takes it; unit, n and df beside it); the {SEEDS} whose own statistic is on the claimed side; the decision's p-value "
        f"and its Holm adjustment over the family of {family_words(v)}. All numbers: "
        "this run's numbers in full (folded in the HTML, left out of the PDF). The rules follow."
    ) + comparison_words(ref)


def interval_kind(rules: ReportParams, short: bool = False) -> str:
    """What a verdict's interval is, for the design its runs record: '95 % t-interval over the
    seeds, each seed's own statistic computed from all of its models', or a Welch interval over cells
    of independent models (`short`: without the clause on what each unit is)."""
    pct = f"{100 * rules.confidence:g} %"
    if rules.models_independent:
        return f"{pct} Welch t-interval over the cells" + (
            "" if short else ", every model its own unit (seeded for its own cell), each cell its own spread"
        )
    return f"{pct} t-interval over the seeds" + (
        "" if short else ", each seed's own statistic computed from all of its models"
    )


def comparison_words(ref) -> str:
    """The detail caption's sentence on the profile compared with (`counterpart.of`); '' where none is named."""
    if ref is None:
        return ""
    named = ", ".join(ref.named)
    if ref.unreadable:
        return f" The profile this report is compared with, {ref.found}, could not be judged: {ref.unreadable.rstrip('.')}."
    if ref.data is None and len(ref.named) == 1:
        return (
            f" The profile this report is compared with, {named} (the report: section's compare_with), has no finished "
            "sweep on disk (one still under way or interrupted does not count), so its verdicts do not stand beside "
            "these; running it to its end and rendering again puts them here."
        )
    if ref.data is None:
        return (
            f" None of the profiles this report is compared with has a finished sweep on disk ({named}: the report: section's "
            "compare_with; a sweep still under way or interrupted does not count), so no other profile's verdicts stand "
            "beside these; running one of them to its end and rendering again puts them here."
        )
    return (
        f" Under each block, the verdict of the profile this report is compared with, {ref.name} (its own runs, "
        f"{config.relative(ref.data.dir)}, decided by the rules of its own parameter file's report: section), its key number and "
        "the seeds it holds in; "
        "the study asks a profile of lower fidelity to reach the verdicts of one of higher fidelity wherever neither is inconclusive."
    )


def summary_counts(v: pd.DataFrame) -> str:
    c = v["verdict"].value_counts()
    return ", ".join(f"{c.get(k, 0)} {k}" for k in WORDS)


VERDICT_RULES_MODELS = """\
How the verdicts are decided. Every model is its own unit: each {model}'s seed is drawn for its
own cell ({cells}), so no two models share an initialisation or a batch order, and each later
experiment's unit built on them ({independent_units}) is independent of the others too. A claim's
estimate is a combination of cell means (a slope, a step, a mean over cells), with a two-sided
{pct} % Welch t-interval: each cell its own spread (the spreads differ from cell to cell), its
degrees of freedom Welch-Satterthwaite's, rounded down. Each block above gives, under "decided on",
the number its rule decides on with the interval's unit, n and df; where one cell's spread holds the
df under half of what the cells hold together (their units less one each), also that cell and its
share of the variance.
"""
TRENDS_MODELS = """\
- *Trends* ("falls / grows as ... grows") are taken on the log of the measure (of the error,
  1 − accuracy, for an accuracy), so that cells whose values differ in scale weigh alike: the
  least-squares slope of the cell means within each level of the other factor ({trend_blocks}),
  averaged over them, and the adjacent steps ({steps}), each a difference of cell means averaged
  the same way. **Supported**: the slope's interval wholly on the claimed side and no step's interval wholly on the other side (a curve that flattens out is a
  trend; one that turns back significantly is not); **contradicted** symmetrically: the slope wholly
  on the other side and no step significantly on the claimed side.
- *Differences* ({examples}): {differences}.
"""
VERDICT_RULES = """\
How the verdicts are decided. Each seed is one observation: the models of one seed share its
random inputs ({shared}), so they are not independent of each other, and their spread differs
from cell to cell. A seed's own
statistic is computed from all of its models ({observations}); each claim's estimate is the mean of
the seeds' statistics, with a two-sided {pct} % t-interval over the seeds (their number − 1
degrees of freedom). Each block above gives, under "decided on", the number its rule decides on
with the interval's unit, n and df.
"""
DECISION_RULES = """\
- **supported**: the whole interval lies on the side the original claimed;
  **contradicted**: the whole interval lies on the opposite side, so the data show the opposite at
  {pct} % confidence; **inconclusive**: the interval reaches across, or there are fewer than two
  seeds.
- *The family*: the claims the runs can test are decided together (a claim the design cannot
  test has no p and is no member). Each decision has a p-value (twice the smaller one-sided
  p of its t-test; for a trend, its slope's; for the equivalence, the smaller of its support's p,
  the largest one-sided p of TOST over its differences, and its contradiction's, Bonferroni's), and
  Holm's step-down adjustment keeps the chance that any of these tests rejects wrongly at {alpha} %
  (a trend's steps, checked against a veto, are each at {pct} %, unadjusted). A verdict whose
  adjusted p exceeds {alpha} % is inconclusive; the detailed table shows both where they differ.
"""
TRENDS_SEEDS = """\
- *Trends* ("falls / grows as ... grows") are taken on the log of the measure (of the error,
  1 − accuracy, for an accuracy), so that cells whose values differ in scale weigh alike: each
  seed's least-squares slope over its models within each level of the other factor
  ({trend_blocks}), averaged over them, and each seed's adjacent steps ({steps}), each then
  over the seeds. **Supported**: the slope's interval wholly on the claimed side and no step's interval wholly on the other side (a curve that flattens out is a
  trend; one that turns back significantly is not); **contradicted** symmetrically: the slope wholly
  on the other side and no step significantly on the claimed side.
- *Differences* ({examples}): each unit's paired difference ({paired}); a seed's value is the mean
  over the design's fixed factors ({fixed}) of its units' differences. {units}
"""
NEED_RULES = """\
- *What would decide it*: an inconclusive row says how many {seeds} would give its test
  80 % power at the observed effect and spread (the standard error shrinking as 1/√seeds, the df
  growing {df_growth}), at the level α/m of Holm's first step (m the family's
  size: the worst case; α/(m·k) for an equivalence that one of its k differences would contradict), and where the effect points against the claim, that they would decide it
  contradicted; or that no feasible number would (an effect within the noise), or, for a
  trend whose slope is decided but whose step goes significantly the other way, that more seeds
  would not decide it; a claim the design cannot test says which design would.
"""
HOLDS = """\
- *holds in k of n seeds*: the seeds whose own statistic is on the claimed side (for a trend, the
  seed's own within-seed slope; inside the margin for the equivalence): how often one
  unreplicated run, like the original's, would have agreed.
"""


def rules_markdown(rules: ReportParams) -> str:
    """How every verdict is decided, with this profile's thresholds: the common rules, then each
    experiment's own."""
    own = "".join(e.rules(rules) for e in EXPERIMENTS if e.rules)
    independent = rules.models_independent
    words = dict(
        pct=f"{100 * rules.confidence:g}",
        alpha=f"{100 * (1 - rules.confidence):g}",
        seeds=SEEDS,
        model=about.MODEL,
        df_growth="in proportion to the seeds per cell less one" if independent else "by one with each seed",
        **about.RULES,
        **about.RULES_MODELS,
    )
    parts = (
        (VERDICT_RULES_MODELS, DECISION_RULES, TRENDS_MODELS, NEED_RULES)
        if independent
        else (VERDICT_RULES, DECISION_RULES, TRENDS_SEEDS, NEED_RULES)
    )
    return "".join(part.format(**words) for part in parts) + own + HOLDS


def save(v: pd.DataFrame, folder, ref=None, aside: list | None = None):
    """Write the verdicts as `verdicts.json` under the profile's folder: the counts, one record per
    claim (its words, verdict, verdict before Holm, seeds, key number, p-values), where a profile
    is compared with (`counterpart.of`), its name, its verdicts and which claims both decide alike,
    differently or one of them alone, and what each experiment set aside changes (`aside`:
    `robustness.of`; a check, not a verdict: [] where nothing was set aside, absent where not checked). The renderer prints its line from it (`console.verdicts_line`)."""
    from pathlib import Path

    from ..files import write_json
    from .console import THIS_RUN, VERDICTS_JSON

    def number(x):
        return float(x) if pd.notna(x) else None

    out = {
        "counts": [[w, int((v["verdict"] == w).sum())] for w in WORDS],  # pairs: in the words' order
        "claims": [
            {
                "claim": str(cid),
                "experiment": str(r["experiment"]),
                "conclusion": str(r["conclusion"]),
                "verdict": str(r["verdict"]),
                "before_holm": str(
                    (r["unadjusted"] if isinstance(r["unadjusted"], str) else "") or r["verdict"]
                ),
                "seeds": str(r["seeds"]),
                "key_number": str(r[KEY]),
                "p": number(r["p"]),
                "p_holm": number(r["p (Holm)"]),
            }
            for cid, r in v.iterrows()
        ],
    }
    if ref is not None and ref.data is not None:
        out["compared_with"] = {
            "profile": ref.name,
            "dir": config.relative(ref.data.dir),
            "verdicts": {str(c): str(w) for c, w in ref.table["verdict"].items()},
            "same": list(ref.same),
            "differ": list(ref.differ),
            "alone": {str(c): (ref.name if side == 1 else THIS_RUN) for c, side in ref.alone.items()},
        }
    if aside is not None:  # [] where the check ran and no experiment set a unit aside
        out["set_aside"] = [
            {
                "experiment": a.experiment,
                "units": a.words,
                "changed": {str(c): {"verdict": was, "without": now} for c, (was, now) in a.changed.items()},
                **({"failed": a.failed} if a.failed else {}),
            }
            for a in aside
        ]
    return write_json(Path(folder) / VERDICTS_JSON, out)
