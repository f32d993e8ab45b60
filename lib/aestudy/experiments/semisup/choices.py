"""What the semi-supervised stage chose and how, said in the report: the levers its recipe has
on, whether its search ranked the recipes at the final length, how its budget was set, and its
rows of "Choices and limitations"."""

from __future__ import annotations

import pandas as pd

from ...report.text import count, tied
from .anchors import METHOD
from .params import RECIPE

STAGE = "semisup"
TEST = "test set (disclosed: chosen after seeing test numbers)"

LEVERS = ("ema", "strong", "elastic", "align", "schedule", "network")  # issue 25's (experiments.semisup.fit)
LEVER_WORDS = {
    "ema": lambda v: f"an EMA teacher (decay {v})",
    "strong": lambda v: {"rand": "a RandAugment-like"}.get(v, f"the {v}") + " strong augmentation",
    "elastic": lambda v: f"elastic distortions of {v:g} pixels",
    "align": lambda v: "distribution alignment",
    "schedule": lambda v: f"a {v} learning rate",
    "network": lambda v: {"conv-small": "the larger Conv-Small network"}.get(v, f"the {v} network"),
}


def levers_on(rec: dict) -> str:
    """Issue 25's levers a recipe turns on, in words ('' for none: the recipe before them)."""
    on = [LEVER_WORDS[k](rec[k]) for k in LEVERS if k in rec and rec[k] != RECIPE[k]]
    return ", ".join(on)


def length_words(cv_steps, steps) -> str:
    """'' when the candidates trained as long as the final runs; else the plain statement."""
    if not cv_steps or not steps or cv_steps >= steps:
        return ""
    return (
        f" The ranking was made at {cv_steps:,} training steps per candidate and is not checked at the final "
        f"{steps:,} steps: a recipe that ranks first at the shorter length may not at the final one."
    )


# full.yaml's budget before issue 25 (steps, unlabelled batch): set on test numbers
EARLIER_FULL = (4000, 448)


def _budget_case(rec: dict) -> str:
    """How a profile's semi-supervised budget was set: 'levers' (issue 25's levers on: full.yaml's
    since, on held-out training images), 'earlier' (full.yaml's earlier budget, on the test set) or
    'wall' (by wall time: the default and large profiles')."""
    if levers_on(rec):
        return "levers"
    return "earlier" if (rec.get("steps"), rec.get("unlabelled_batch")) == EARLIER_FULL else "wall"


def budget_how(rec: dict) -> str:
    """How this profile's semi-supervised budget was set (`_budget_case`), in words."""
    return {
        "levers": "as full.yaml's since issue 25: from the curve of accuracy against steps on held-out training "
        "images (benchmarks/semisup_levers.py)",
        "earlier": "from benchmarks/semisup_recipe.py, which scored the evaluated label draws on the test set",
        "wall": "by wall time only (the profile's time budget); full.yaml's earlier budget of "
        f"{EARLIER_FULL[0]:,} steps of {EARLIER_FULL[1]} was chosen on the test set (see on what data), "
        "its present one on held-out training images",
    }[_budget_case(rec)]


def budget_data(rec: dict) -> str:
    """On what data this profile's semi-supervised budget was set (`_budget_case`)."""
    earlier = f"test set for full.yaml's earlier budget of {EARLIER_FULL[0]:,} steps (disclosed)"
    return {
        "levers": f"held-out training images (this profile); {earlier}",
        "earlier": TEST,
        "wall": f"run times (this profile); {earlier}",
    }[_budget_case(rec)]


def tied_at_top(candidates: list[dict]) -> int:
    """How many recipes share the chosen one's CV accuracy, it included (0 where it has no rival
    there): the search then took the first of them in its order, the base recipe first, and its
    accuracy is no better than theirs."""
    chosen = [c for c in candidates if str(c.get("chosen")).lower() == "true"]
    if not chosen or len(candidates) < 2:
        return 0
    alike = sum(tied(float(c["cv_accuracy"]) - float(chosen[0]["cv_accuracy"])) for c in candidates)
    return alike if alike > 1 else 0


def tie_words(candidates: list[dict]) -> str:
    """'; here 2 candidates tied at the best CV accuracy, and the search's order (the base recipe
    first) took the first of them' ('' without a tie)."""
    k = tied_at_top(candidates)
    return (
        f"; here {k} candidates tied at the best CV accuracy, and the search's order (the base recipe first) "
        "took the first of them"
        if k
        else ""
    )


def thousands(v) -> str:
    """A count of steps or images as the report writes it ('1,000'); '?' where the parameters or
    metrics lack it, anything else as it is."""
    if v is None or (isinstance(v, float) and v != v):
        return "?"
    return f"{int(v):,}" if isinstance(v, (int, float)) and float(v).is_integer() else str(v)


def semisup_run(data) -> tuple[pd.DataFrame, dict | None]:
    """The stage's usable rows and its one run's metrics (None without a run)."""
    semi = data.usable(STAGE)
    return semi, (
        data.run_metrics(STAGE, semi["run_id"].iloc[0]) if not semi.empty and "run_id" in semi else None
    )


def tried(data, p: dict) -> str:
    """'2 candidates': how many recipes the search tried, as the run recorded it (`selected_from`: a
    search space smaller than `candidates` is tried whole), else the parameter file's number."""
    df = data.usable(STAGE)
    n = (
        pd.to_numeric(df.loc[df["method"] == METHOD, "selected_from"], errors="coerce").dropna()
        if not df.empty and {"method", "selected_from"} <= set(df)
        else pd.Series(dtype=float)
    )
    k = int(n.iloc[0]) if not n.empty else p.get("candidates", "?")
    return count(k, "candidate") if isinstance(k, int) else f"{k} candidates"


def choices(data) -> list[dict]:
    p = data.declared(STAGE, "params")
    _, metrics = semisup_run(data)
    rec = p.get("recipe") or {}
    steps, cv_steps = rec.get("steps", "?"), p.get("cv_steps") or rec.get("steps", "?")
    rows = [
        {
            "what": "semi-supervised method",
            "choice": "FixMatch-style consistency training, constant learning rate",
            "how it was made": "preferred over pseudo-label self-training and label propagation on the latent codes, "
            "and the constant rate over a cosine decay, by prototypes' test accuracy on the default "
            "profile's d = 10 encoder during development; not redone (it is the method itself)",
            "on what data": TEST,
        },
        {
            "what": "semi-supervised recipe",
            "choice": f"the best of {tried(data, p)} by "
            f"{p.get('folds', '?')}-fold CV, {thousands(cv_steps)} steps each "
            f"(final runs: {thousands(steps)})",
            "how it was made": f"cross-validation on label draw {p.get('search_label_seed', -1)}, which is never "
            "evaluated, its images left out of the unlabelled pool of the search; the search space "
            "was written by people who had seen earlier test accuracies"
            + tie_words((metrics or {}).get("candidates") or [])
            + (
                length_words(cv_steps, steps).replace(" The ranking", "; the ranking").rstrip(".")
                if isinstance(cv_steps, int) and isinstance(steps, int)
                else ""
            ),
            "on what data": "labelled and unlabelled training images",
        },
        {
            "what": "semi-supervised budget",
            "choice": f"{thousands(steps)} steps of {rec.get('unlabelled_batch', '?')} unlabelled images",
            "how it was made": budget_how(rec),
            "on what data": budget_data(rec),
        },
    ]
    if levers_on(rec):
        rows.append(
            {
                "what": "issue 25's levers",
                "choice": levers_on(rec),
                "how it was made": "each lever's effect measured on 10,000 held-out training images, outside the "
                "unlabelled pool, on label draws no profile evaluates (benchmarks/semisup_levers.py, "
                "benchmarks/README.md); then cross-validation as above where the space lists one. "
                "The held-out images carry labels a real 100-label setting would not have",
                "on what data": "held-out training images",
            }
        )
    return rows
