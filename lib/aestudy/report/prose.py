"""The report's frame in words: the title, the abstract of page 1 (from the verdict table and
what each experiment of the registry lends it), the page-1 figure's panels and caption, and the
warnings of each section's stages. Each experiment's own sentences are in its module under
`report/experiments/`; the fixed text of the report is in the markdown cells of
notebooks/analyses.ipynb. Nothing here names an experiment."""

from __future__ import annotations

import datetime
import re

import pandas as pd

from .. import config
from ..experiments import about
from .claims import KEY, NOTE, SEED_COUNT, UNTESTED, Experiment
from .console import THIS_RUN, agreement_words
from .decide import CONTRADICTED, INCONCLUSIVE, SUPPORTED
from .experiments import EXPERIMENTS
from .figures import Panel, overview, overview_caption
from .profile import ProfileData
from .sentences import status_markdown
from .stats import MODELS, SEED
from .text import SEEDS, count, interval_words

SWEEP_WORDS = {
    "ok": "executed"
}  # runs.json's status of a run the sweep ran (the appendix's "ok" counts cached too)


def title_markdown(data: ProfileData, date: str | None = None) -> str:
    date = date or datetime.date.today().isoformat()
    counts: dict = {}
    for r in data.runs:
        counts[r.get("status", "?")] = counts.get(r.get("status", "?"), 0) + 1
    status = (
        ", ".join(f"{n} {SWEEP_WORDS.get(s, s)}" for s, n in counts.items())
        or "none recorded (no readable runs.json)"
    )
    warnings = [w for e in EXPERIMENTS if e.warning for w in [e.warning(data)] if w]
    return (
        f"# {about.title(data)}\n\n"
        f"Rendered {date} from profile **{data.profile}** (`{config.relative(data.dir)}`); runs of the last sweep: {status}."
        + "".join(f"\n\n> {w}" for w in warnings)
    )


def about_markdown(data: ProfileData, compared_with=None) -> str:
    """The section "About this reproduction": the study's own words on what it reproduces and how (its module
    `aestudy.experiments.about`), under their heading; `compared_with` (`counterpart.of`), whose numbers
    the report prints too where it could be judged."""
    return about.about(
        data, compared_with.data.profile if compared_with and compared_with.data is not None else None
    )


# ------------------------------------------------------------------ page 1


def _claim_words(conclusion: str) -> str:
    """A conclusion inside a sentence: without its parentheses, first letter lowered unless it
    is a symbol ('Larger d is better (transfer accuracy)' -> 'larger d is better')."""
    c = re.sub(r"\s*\([^()]*\)", "", str(conclusion)).strip()
    return c[0].lower() + c[1:] if len(c) > 1 and c[1].islower() else c


def _claims(rows: pd.DataFrame, numbers: bool = True, notes: bool = False) -> str:
    """'claim (key number); claim (key number)' for the rows of a verdict table; with `notes`, a
    claim's caveat (`Claim.note`) follows its numbers, so a verdict is not read without it."""

    def said(r) -> str:
        parts = [r[KEY]] if numbers and r.get(KEY, "n/a") != "n/a" else []
        note = str(r.get(NOTE) or "").strip().rstrip(".") if notes else ""
        parts += [f"note: {note}"] if note else []
        return _claim_words(r["conclusion"]) + (f" ({'; '.join(parts)})" if parts else "")

    return "; ".join(said(r) for _, r in rows.iterrows())


def _seeds(data: ProfileData) -> tuple[int, int]:
    """(autoencoder seeds, autoencoders) of the first experiment's stage: what page 1 counts."""
    first = data.usable(EXPERIMENTS[0].stages[0])
    return (first[SEED].nunique(), len(first)) if not first.empty and SEED in first else (0, 0)


def _fewer_seeds(v: pd.DataFrame, seeds: int) -> str:
    """' (fewer for 2 verdicts, whose stage lost a seed's runs: their "holds in")' where a later
    stage's failed runs left some verdicts with fewer seeds than the first experiment trained."""
    rest_on = (
        pd.to_numeric(v[SEED_COUNT], errors="coerce").fillna(0) if SEED_COUNT in v else pd.Series(dtype=int)
    )
    fewer = int(((rest_on > 0) & (rest_on < seeds)).sum())
    if not fewer:
        return ""
    return f' (fewer for {count(fewer, "verdict")}, whose stage lost a seed\'s runs: see {"its" if fewer == 1 else "their"} "holds in")'


def abstract_markdown(data: ProfileData, v: pd.DataFrame, ref=None, aside: list | None = None) -> str:
    """The report's first paragraph, from the verdict table `v` (verdicts.verdicts(data)): how
    many conclusions this run supports, contradicts and leaves open, what the contradicted ones
    show instead, the experiments' key effect sizes and their own sentences, and where the profile
    it is compared with has runs on disk (`counterpart.of`), whether their verdicts agree; `aside`
    (`robustness.of`): which verdicts change without the units an experiment sets aside. Table 1, below it,
    lists every conclusion."""
    n, added = len(v), int(v["experiment"].astype(str).str.endswith("+").sum())
    counts = v["verdict"].value_counts()
    seeds, models = _seeds(data)
    over = (
        f"{100 * data.rules.confidence:g} % Welch t-intervals over the cells, every model seeded for its own "
        f"cell, {seeds} {about.UNIT if seeds == 1 else about.UNITS} a cell"
        if data.rules.models_independent
        else f"{100 * data.rules.confidence:g} % t-intervals over the seeds, each seed's statistic from all its "
        f"models, {seeds} {about.UNIT if seeds == 1 else about.UNITS}"
    ) + _fewer_seeds(v, seeds)
    untested = int((v["seeds"] == UNTESTED).sum()) if "seeds" in v else 0  # the design cannot test it
    out = [
        f"Of the {n} conclusions ({n - added} of the original study, {added} added here), this run "
        f"supports **{counts.get(SUPPORTED, 0)}**, contradicts **{counts.get(CONTRADICTED, 0)}** and leaves "
        f"**{counts.get(INCONCLUSIVE, 0)}** inconclusive"
        + (
            f", {untested} of them because the design cannot test {'it' if untested == 1 else 'them'}"
            if 0 < untested <= counts.get(INCONCLUSIVE, 0)
            else ""
        )
        + f" ({over}"
        + (
            f"; {models} {about.MODEL if models == 1 else MODELS}"
            if models
            else f"; no completed {about.MODEL} run"
        )
        + ")."
    ]
    lost = v[v["unadjusted"].fillna("") != ""] if "unadjusted" in v else v.iloc[0:0]
    if not lost.empty:
        out.append(
            f"Judged one at a time, {len(lost)} more would be decided ("
            + "; ".join(f"{_claim_words(r['conclusion'])}: {r['unadjusted']}" for _, r in lost.iterrows())
            + "); Holm's adjustment for testing the claims together leaves "
            + ("it" if len(lost) == 1 else "them")
            + " inconclusive."
        )
    out += [aside_sentence(s, v) for s in aside or [] if s.changed]
    con = v[v["verdict"] == CONTRADICTED]
    if not con.empty:
        out.append(f"Contradicted: {_claims(con, notes=True)}.")
    keys = [k for e in EXPERIMENTS if e.key_effects for k in e.key_effects(data, v)]
    if keys:
        out.append("Key effects: " + "; ".join(keys) + ".")
    out += [e.abstract(data) for e in EXPERIMENTS if e.abstract]
    out.append(comparison_sentence(v, ref))
    return "**Abstract.** " + " ".join(o for o in out if o)


def aside_sentence(s, v: pd.DataFrame) -> str:
    """The abstract's line on a set-aside that changes verdicts (`robustness.SetAside`)."""
    return (
        f"Without {s.words}, {count(len(s.changed), 'verdict')} would change ("
        + "; ".join(f"{_claim_words(v.at[c, 'conclusion'])}: {b}" for c, (_, b) in s.changed.items())
        + "): a check, not a verdict (Choices and limitations)."
    )


def comparison_sentence(v: pd.DataFrame, ref) -> str:
    """Whether this run reaches the verdicts of the profile it is compared with, by the study's rule: the
    conclusions both decide alike or differently, and how many one of them alone decides ('' where
    none is on disk: `verdicts.comparison_words` says so above the detailed verdicts)."""
    if ref is None or ref.data is None:
        return ""
    seeds, models = _seeds(ref.data)
    name = ref.name
    head = (
        f"Compared with the profile **{name}** (`{config.relative(ref.data.dir)}`: "
        f"{about.training_images(ref.data)}, {seeds} "
        f"{about.UNIT if seeds == 1 else about.UNITS}, {models} {about.MODEL if models == 1 else MODELS}"
        + ("" if ref.same_rules else "; decided by its own `report:` rules, which differ from this report's")
        + "): "
    )
    differ = "; ".join(
        f"{_claim_words(v.at[c, 'conclusion'])}: {v.at[c, 'verdict']} here, {ref.table.at[c, 'verdict']} in {name}"
        for c in ref.differ
    )
    alone = []
    for side, who, table in ((1, name, ref.table), (0, THIS_RUN, v)):
        claims = [c for c, s in ref.alone.items() if s == side]
        words = "; ".join(
            f"{_claim_words(table.at[c, 'conclusion'])}: {table.at[c, 'verdict']}" for c in claims
        )
        alone.append((who, len(claims), words))
    return (
        head
        + agreement_words(len(ref.same), len(ref.differ), alone, differ)
        + f". Each block of Verdicts in detail gives {name}'s verdict beside this run's."
    )


def overview_panels(data: ProfileData) -> list[Panel]:
    """The page-1 figure's panels, one per experiment that lends one and has runs."""
    return [p for p in (e.overview(data) for e in EXPERIMENTS if e.overview) if p is not None]


def overview_figure(data: ProfileData):
    """(figure, caption) of page 1, or (None, '') when no experiment has a panel."""
    panels = overview_panels(data)
    if not panels:
        return None, ""
    seeds = [
        data.usable(s)[SEED].nunique()
        for e in EXPERIMENTS
        for s in e.stages
        if e.overview and SEED in data.usable(s)
    ]
    tail = (
        f"Means over the other factors; bars: {interval_words(data.rules.confidence, seeds or [0], SEEDS)}."
    )
    return overview(panels), overview_caption(panels, tail)


def section_warnings(data: ProfileData, experiment: Experiment) -> str:
    """The warnings of an experiment's stages, shown once, at the top of its section: its own
    stage always (unless optional), the others where the profile has their table."""
    shown = [
        s for s in experiment.stages if s in data.tables or (s == experiment.name and not experiment.optional)
    ]
    return "\n\n".join(w for w in (status_markdown(data, s) for s in shown) if w)
