"""The verdict table: every claim of every experiment of the registry (`report.experiments`),
each returning the conclusion, this run's numbers, a verdict (supported / contradicted /
inconclusive, by the rules of `decide` with the thresholds of the profile's `report:` section),
the number of autoencoder seeds in which the claim holds on its own, and a short key number for
the compact table of the report's first page. `verdicts` gathers them, indexed by claim id (what
`compare` matches two profiles on); `page_one_table` is that compact table; `rules_markdown`
explains the rules. This module names no experiment: a claim is added in its experiment's module."""
from __future__ import annotations

import pandas as pd

from ..report_params import ReportParams
from .claims import KEY, NEED, NUMBERS
from .decide import INCONCLUSIVE, WORDS, holm, need_text
from .experiments import EXPERIMENTS, claims
from .profile import ProfileData

COLUMNS = ["experiment", "conclusion", NUMBERS, "verdict", "seeds", KEY, "unadjusted", "p", "p (Holm)"]
RAW = "before Holm"          # the column of the page-1 and detailed tables that shows an unadjusted verdict


def verdicts(data: ProfileData) -> pd.DataFrame:
    """Every conclusion of the original study (and the project's additions) with this run's
    numbers, a verdict and its seed count, from the usable rows of the tables and the profile's
    `report:` rules; indexed by claim id."""
    rules = data.rules
    rows = {cid: c.verdict(data.usable(c.stage), rules) for cid, c in claims().items()}
    for cid, c in claims().items():
        note = c.note(data) if c.note else ""
        if note:
            rows[cid][NUMBERS] += f"; {note}"
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
    if NEED in v:
        m = int(v["p"].notna().sum())
        for cid in v.index[v["verdict"] == INCONCLUSIVE]:
            words = need_text(v.at[cid, NEED], alpha, m) if isinstance(v.at[cid, NEED], dict) else ""
            if words:
                v.at[cid, NUMBERS] = f"{v.at[cid, NUMBERS]}; {words}"
    return v.reindex(columns=COLUMNS)


PAGE_ONE = {"experiment": "exp.", "conclusion": "conclusion", "verdict": "verdict", "seeds": "holds in",
            KEY: "key number"}


def page_one_table(v: pd.DataFrame) -> str:
    """The compact verdict table of the report's first page, as HTML: one row per conclusion with
    its verdict (a CSS class per word), the seeds it holds in and its key number; the long
    numbers stay in the detailed table."""
    from .text import html_table

    cols, cls = dict(PAGE_ONE), "verdict-table"
    if (v["unadjusted"].fillna("") != "").any():   # a column of its own (and its width) where Holm changed a verdict
        cols = {**{k: c for k, c in PAGE_ONE.items() if k != KEY}, "unadjusted": RAW, KEY: PAGE_ONE[KEY]}
        cls += " with-raw"
    t = v.reindex(columns=list(cols)).rename(columns=cols)
    t[PAGE_ONE["seeds"]] = t[PAGE_ONE["seeds"]].astype(str).str.replace(r"^holds in (.*) seeds$", r"\1", regex=True)
    return html_table(t.fillna(""), cls=cls, classes={"verdict": lambda w: f"verdict-{w}", RAW: lambda w: f"verdict-{w}"})


def page_one_caption(data: ProfileData, v: pd.DataFrame, detail: int) -> str:
    """The caption of page 1's verdict table; `detail`: the number of the detailed table."""
    from .prose import _seeds

    return (f"Verdicts on the conclusions of the original study (experiments {_numbers(v)}; +: checks added here), "
            f"n = {_seeds(data)[0]} autoencoder seeds. Key number: the means at both ends of a trend, or the effect "
            f"[its {100 * data.rules.confidence:g} % t-interval]; holds in: the seeds whose own number is on the "
            f"claimed side. All numbers and the rules: Table {detail}.")


def _numbers(v: pd.DataFrame) -> str:
    nums = sorted({int(e.rstrip("+")) for e in v["experiment"].astype(str) if e.rstrip("+").isdigit()})
    return f"{nums[0]}-{nums[-1]}" if len(nums) > 1 else ", ".join(map(str, nums))


def detail(data: ProfileData, v: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """(the detailed verdict table, its caption): every conclusion with this run's numbers."""
    t = v[["experiment", "conclusion", NUMBERS, "verdict", "unadjusted", "seeds", "p", "p (Holm)"]].copy()
    t["seeds"] = t["seeds"].str.replace(r"^holds in ", "", regex=True)
    for col in ("p", "p (Holm)"):
        t[col] = [f"{x:.2g}" if pd.notna(x) else "–" for x in t[col]]
    if (t["unadjusted"].fillna("") == "").all():
        t = t.drop(columns="unadjusted")
    return t.rename(columns={"seeds": "holds in", "unadjusted": RAW}), (
        f"Every conclusion of the original study (experiments {_numbers(v)}) and the checks added here (+), with "
        f"this run's numbers, the verdict and the number of autoencoder seeds in which the claim holds on its "
        f"own. Intervals are {100 * data.rules.confidence:g} % t-intervals over autoencoder seeds (n beside each; "
        "the equivalence test's are its TOST intervals); p: the decision's p-value, p (Holm): adjusted over the "
        f"family of {int(v['p'].notna().sum())} decided claims; {RAW}: the unadjusted verdict where Holm's "
        "adjustment changes it. The rules follow the table.")


def summary_counts(v: pd.DataFrame) -> str:
    c = v["verdict"].value_counts()
    return ", ".join(f"{c.get(k, 0)} {k}" for k in WORDS)


VERDICT_RULES = """\
How the verdicts are decided. The independent unit is the autoencoder seed: each claim becomes one
number per seed, and its mean gets a two-sided {pct} % t-interval over the seeds (n = the number
of seeds, written beside every interval). In transfer, each encoder (one autoencoder of
experiment 1) first averages its label draws, so the interval over encoders carries both the
encoder's and the draws' variation.
- **supported**: the whole interval lies on the side the original claimed;
  **contradicted**: the whole interval lies on the opposite side, so the data show the opposite at
  {pct} % confidence; **inconclusive**: the interval reaches across, or there are fewer than two seeds.
- *The family*: the {n} claims are decided together (those the runs can test). Each decision
  has a p-value (twice the smaller one-sided p of its t-test; for the equivalence, the TOST's),
  and Holm's step-down
  adjustment keeps the chance of any false supported or contradicted among them at {alpha} %. A
  verdict whose adjusted p exceeds {alpha} % is inconclusive; the detailed table shows both where
  they differ.
- *Trends* ("falls / grows as ... grows") are taken on the log of the measure (of the error,
  1 − accuracy, for an accuracy), so that blocks whose values differ in scale weigh alike: per
  seed, the least-squares slope within each block of the other factor (within each num_conv for d,
  within each d for num_conv), averaged over blocks, and every adjacent step (5→10, 10→15, ...)
  averaged over blocks. **Supported** needs the slope and every step on the claimed side (each at
  the interval's level: a trend that turns back after d = 10 stays inconclusive); **contradicted**
  needs the slope wholly on the other side.
- *Differences* (A beats B, sharper, more digit-like): per seed, the paired difference (same
  images, same h1 and label draw); the side is its sign. In experiment 2 a seed's difference is
  the mean over every digit pair and every image pair drawn for it: the image pairs make each
  seed's number precise, the seeds are the units of the interval.
"""
HOLDS = """\
- *holds in k of n seeds*: the seeds whose own number is on the claimed side (inside the margin
  for the equivalence): how often one unreplicated run, like the original's, would have agreed.
"""


def rules_markdown(rules: ReportParams) -> str:
    """How every verdict is decided, with this profile's thresholds: the common rules, then each
    experiment's own."""
    own = "".join(e.rules(rules) for e in EXPERIMENTS if e.rules)
    return VERDICT_RULES.format(pct=f"{100 * rules.confidence:g}", alpha=f"{100 * (1 - rules.confidence):g}",
                                n=len(claims())) + own + HOLDS
