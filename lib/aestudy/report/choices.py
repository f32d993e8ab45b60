"""The report's "Choices and limitations" section: every choice the original left open or this
project made, with how it was made and on what data; a choice made by looking at test-set numbers
says so. The rows come from the experiments of the registry (`Experiment.choices`) and from the
study as a whole (below); the values are read from the profile's parameter file."""

from __future__ import annotations

import html

import pandas as pd

from .experiments import EXPERIMENTS
from .profile import ProfileData
from .text import listing

COLUMNS = ["what", "choice", "how it was made", "on what data"]
TEST = "test set (disclosed: chosen after seeing test numbers)"


def derived_seeds() -> dict:
    """What every derived seed sets, as the experiments declare it (`Experiment.seeds`), in report
    order: purpose -> (words, whether it follows the autoencoder's seed)."""
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


def _images(n) -> str:
    """'7,000', or 'all' where the profile takes the whole split (null)."""
    return f"{int(n):,}" if n else "all"


def study_choices(data: ProfileData) -> list[dict]:
    """The choices of the study as a whole: its fidelity and the report's own rules."""
    d, r = data.params.get("data") or {}, data.rules
    return [
        {
            "what": "which images",
            "choice": f"one data seed (data_seed {d.get('data_seed', 0)}) draws the subsets of "
            "both splits every stage reads (the training images, the test subset, the "
            "monitored and calibration images); " + seed_sentence(),
            "how it was made": "so that the seeds of one configuration are exchangeable replicates, each carrying its "
            "own label draws and image pairs (so an interval over seeds includes their variation); "
            "no model is measured on its own training images except where its experiment says so",
            "on what data": "none (fixed before the runs)",
        },
        {
            "what": "fidelity",
            "choice": f"{_images(d.get('train_size'))} training images, {_images(d.get('test_size'))} test images",
            "how it was made": "what a 2-core CPU trains within the profile's time budget",
            "on what data": "run times; what the budget costs in results (the autoencoders against PCA with the same "
            "d, the last epoch's change of validation error) is stated on page 1 and in experiment 1",
        },
        {
            "what": "verdict rules",
            "choice": f"{100 * r.confidence:g} % intervals from a linear model over every "
            f"model; 'clearly' = {100 * r.small_d_margin:g} %; h1 margin "
            f"±{100 * r.h1_margin:g} points; Holm over the family",
            "how it was made": "fixed in the parameter file's report: section (reasons in aestudy.report_params), in a "
            "repository where earlier runs' test results existed; the h1 margin by practical "
            "relevance (the smallest accuracy difference that would change which MLP width a "
            "practitioner picks)",
            "on what data": "earlier runs (disclosed)",
        },
    ]


def table(data: ProfileData) -> tuple[pd.DataFrame, str]:
    """(every choice, caption)."""
    rows = study_choices(data) + [c for e in EXPERIMENTS if e.choices for c in e.choices(data)]
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


def limitations(data: ProfileData) -> str:
    """What the design cannot show, in words: the family's power, then each experiment's own."""
    from .prose import _seeds

    n = _seeds(data)[0]
    power = (
        f"Every verdict rests on the models of {n} autoencoder seeds: a linear model over the design takes each "
        "model as an observation, with one variance for all of them (assumed, not tested claim by claim: its "
        "residuals roughly normal, the cells alike in spread on the log scale) and the models independent given their cell and seed (every encoder "
        "of experiment 4 draws its own labelled images, and every d = 10 and d = 20 pair of experiment 2 its own "
        "image pairs, so no two units share a draw; the seed is a block where the claim compares cells within "
        "seeds). Holm's "
        "adjustment over the family makes each decision stricter than it would be alone, so a moderate effect "
        "can stay inconclusive; 'inconclusive' says the design could not decide, not that there is no effect, "
        "and each such row says how many seeds would."
        if n
        else ""
    )
    parts = [power] + [e.limitations(data) for e in EXPERIMENTS if e.limitations]
    return " ".join(p for p in parts if p)
