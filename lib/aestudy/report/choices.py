"""The report's "Choices and limitations" section: every choice the original left open or this
project made, with how it was made and on what data; a choice made by looking at test-set numbers
says so. The rows come from the experiments of the registry (`Experiment.choices`) and from the
study as a whole (`aestudy.experiments.about`); the values are read from the profile's parameter file."""

from __future__ import annotations

import html

import pandas as pd

from ..experiments import about
from .claims import DF
from .experiments import EXPERIMENTS
from .profile import ProfileData
from .text import listing

COLUMNS = ["what", "choice", "how it was made", "on what data"]
TEST = "test set (disclosed: chosen after seeing test numbers)"


def derived_seeds() -> dict:
    """What every derived seed sets, as the experiments declare it (`Experiment.seeds`), in report
    order: purpose -> (words, whether it follows the model's seed)."""
    return {p: v for e in EXPERIMENTS for p, v in e.seeds.items()}


def seed_sentence() -> str:
    """What a model's seed sets: its initialisation and batch order, and what the seeds derived
    from it set (`derived_seeds`)."""
    seeds = derived_seeds().values()
    follows = listing(w for w, from_model in seeds if from_model)
    own = listing(w for w, from_model in seeds if not from_model)
    return (
        "a model's seed sets its initialisation and batch order"
        + (f" and, through seeds derived from it, {follows}" if follows else "")
        + (f"; a stage's own search seed sets {own}" if own else "")
    )


def table(data: ProfileData) -> tuple[pd.DataFrame, str]:
    """(every choice, caption)."""
    rows = about.choices(data, seed_sentence()) + [
        c for e in EXPERIMENTS if e.choices for c in e.choices(data)
    ]
    return pd.DataFrame(rows, columns=COLUMNS), (
        f"The {len(rows)} choices this study made beyond the original's description: what was chosen, how, and on "
        "what data. 'Test set' marks a choice made after seeing test numbers."
    )


def blocks(data: ProfileData) -> str:
    """The same choices as `table`, laid out for reading: one short block per choice (what was
    chosen in a line, then how and on what data as running text across the page's width), a choice
    made on test numbers marked. A four-column table of long cells printed five words a line."""
    t, caption = table(data)

    def block(r) -> str:
        e = {k: html.escape(str(r[k]).rstrip(". "), quote=False) for k in COLUMNS}
        on_test = str(r["on what data"]).lower().startswith("test set")
        return (
            f'<div class="choice-block{" on-test" if on_test else ""}"><p><b>{e["what"]}</b>: {e["choice"]}.</p>'
            f'<p class="choice-how"><i>How:</i> {e["how it was made"]}. <i>On what data:</i> '
            + (f"<b>{e['on what data']}</b>" if on_test else e["on what data"])
            + ".</p></div>"
        )

    return (
        f'<p class="choices-intro">{html.escape(caption, quote=False)}</p>'
        f'<div class="choices">{"".join(block(r) for _, r in t.iterrows())}</div>'
    )


def limitations(data: ProfileData, v: pd.DataFrame | None = None, aside: list | None = None) -> str:
    """What the design cannot show, in words: the family's power, then each experiment's own, each
    followed by what its units set aside do to the verdicts (`robustness`; `aside`: its result for
    the verdict table `v`, else computed here)."""
    from . import robustness
    from .prose import _seeds
    from .verdicts import verdicts

    v = verdicts(data) if v is None else v
    aside = {s.experiment: s for s in (robustness.of(data, v) if aside is None else aside)}
    family = v[v["p"].notna()] if "p" in v else v.iloc[:0]
    dfs = [d for d in family.get(DF, []) if pd.notna(d)]
    parts = [about.limitations(_seeds(data)[0], data.models_independent, dfs)]
    for e in EXPERIMENTS:
        parts.append(e.limitations(data) if e.limitations else "")
        if e.name in aside:
            parts.append(robustness.sentence(aside[e.name], v))
    return " ".join(p for p in parts if p)
