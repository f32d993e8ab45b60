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
from .claims import KEY, NUMBERS
from .decide import WORDS
from .experiments import EXPERIMENTS, claims
from .profile import ProfileData

COLUMNS = ["experiment", "conclusion", NUMBERS, "verdict", "seeds", KEY]


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
    return v.reindex(columns=COLUMNS + [c for c in v.columns if c not in COLUMNS])[COLUMNS]


PAGE_ONE = {"experiment": "exp.", "conclusion": "conclusion", "verdict": "verdict", "seeds": "holds in",
            KEY: "key number"}


def page_one_table(v: pd.DataFrame) -> str:
    """The compact verdict table of the report's first page, as HTML: one row per conclusion with
    its verdict (a CSS class per word), the seeds it holds in and its key number; the long
    numbers stay in the detailed table."""
    from .text import html_table

    t = v.reindex(columns=list(PAGE_ONE)).rename(columns=PAGE_ONE)
    t[PAGE_ONE["seeds"]] = t[PAGE_ONE["seeds"]].astype(str).str.replace(r"^holds in (.*) seeds$", r"\1", regex=True)
    return html_table(t.fillna(""), cls="verdict-table", classes={"verdict": lambda w: f"verdict-{w}"})


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
    t = v[["experiment", "conclusion", NUMBERS, "verdict", "seeds"]].copy()
    t["seeds"] = t["seeds"].str.replace(r"^holds in ", "", regex=True)
    return t.rename(columns={"seeds": "holds in"}), (
        f"Every conclusion of the original study (experiments {_numbers(v)}) and the checks added here (+), with "
        f"this run's numbers, the verdict and the number of autoencoder seeds in which the claim holds on its "
        f"own. Intervals are {100 * data.rules.confidence:g} % t-intervals over autoencoder seeds (n beside each); "
        "the rules follow the table.")


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
- *Trends* ("falls / grows as ... grows"): per seed, the least-squares slope within each block of
  the other factor (within each num_conv for d, within each d for num_conv), averaged over blocks;
  the side is the sign of the slope.
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
    return VERDICT_RULES.format(pct=f"{100 * rules.confidence:g}") + own + HOLDS
