"""The study as a whole, in the words its report prints around the experiments' sections: the
title, the page's title, "About this reproduction", what its intervals are over, the choices of
the study as a whole and the opening of its limitations. The report's frame (`aestudy.report`)
reads them from here and names no experiment and no study itself
(`tests/report/test_report_shape.py`); another study over the same frame replaces this module
and its experiment packages. No run imports it, so editing it re-renders and re-trains nothing.

It imports nothing of the frame at import time (`report.stats` reads `UNITS` as it is imported)."""

from __future__ import annotations

import math

from ..vocabulary import DATASET_SIZES, dataset_name

PAGE_TITLE = "{dataset} autoencoder study"  # the HTML page's title (the report's own heading says more)
TITLE = (
    "Convolutional autoencoders on {dataset}: latent size, interpolation, latent correlations and "
    "transfer with {labels} labels"
)
# the study's number of labels, shown when no run says otherwise, and the stages whose runs say
# how many labels they took (the first that has runs counts)
LABELS = 100
LABELLED = ("transfer", "protocol", "semisup")
DATASET = "mnist"  # the dataset of a profile whose parameter file names none
OVERVIEW_X = "latent_dim"  # what every page-1 panel is drawn against
# the values an accuracy (a fraction) can take: the experiments that report one (transfer, semisup)
# declare it as their accuracies' range (`Experiment.ranges`), so their intervals are cut there alike
ACCURACY = (0.0, 1.0)

# the unit of replication (every table's and figure's interval but the baselines' is over these), and
# what each seed trains in every cell (the verdicts' units where each is seeded for its own cell, else
# pooled by seed), each in the singular and the plural
UNIT, UNITS = "autoencoder seed", "autoencoder seeds"
# where the runs record whether their models are independent units: (stage, column, the value that
# says so): autoencode's seed_scope 'cell', every model seeded for its own (d, num_conv) cell
DESIGN = ("autoencode", "seed_scope", "cell")


def own_images(interp) -> bool:
    """Every model of experiment 2 drew its own image pairs: every interpolate run recorded
    `shared_images` as false (runs from before the field, which shared them within a seed and
    num_conv, record nothing: a mix of old and new runs is not every model on its own images)."""
    if interp is None or "shared_images" not in interp:
        return False
    shared = interp["shared_images"]
    return bool(len(shared)) and bool((shared.astype(str).str.lower() == "false").all())


MODEL, MODELS = "autoencoder", "autoencoders"

# The study's words in the rules of the verdicts (`report.verdicts.rules_markdown`): which models a
# seed's statistic is computed from, experiment by experiment; what the differences compare, on what
# each unit is paired, the fixed factors a difference is averaged over, and who each unit is
RULES = {
    "observations": "in experiments 1 and 3, its autoencoders, one per cell; in experiment 2, its pairs of models, "
    "one per num_conv, each a model of each latent size it compares; in experiment 4, its encoders (each one's "
    "label draws and the levels it is not compared on averaged within it)",
    "shared": "its batch order, and within one num_conv its convolutions' initialisation",
    "trend_blocks": "within each num_conv for d, within each d for num_conv",
    "steps": "5→10, 10→15, ...",
    "examples": "A beats B, sharper, more digit-like",
    "paired": "same images, same h1 and label draw",
    "fixed": "num_conv in experiment 2, d (and num_conv where several) in experiment 4",
    "units": "In experiment 2 a unit's difference is the mean over every digit pair and every image pair "
    "its models drew (each its own, or one draw for the model pair where they share images). The units of one seed each draw their own images or "
    "labels and start their own classifiers, but their autoencoders were trained from the same seed (the same "
    "batch order and, within a num_conv, the same convolutions' start): the seed, not the unit, is the "
    "independent observation.",
}
# the same where every model is its own unit (seed_scope: cell): what a model's seed is drawn for, and
# the later experiments' units built on the models
RULES_MODELS = {
    "cells": "its d and num_conv",
    "independent_units": "experiment 2's models, each drawing its own image pairs, or its model pairs where the "
    "models of one seed and num_conv share theirs; experiment 4's encoders, "
    "each drawing its own labelled images and classifier initialisations",
    "differences": "in experiment 4 each encoder's paired difference (same h1 and label draw), its estimate the "
    "mean over the cells (d, and num_conv where there are several) of the cells' mean differences; in experiment 2 "
    "the difference of the two latent sizes' cell means, averaged over num_conv (each model with images of its "
    "own), or, where the models of one seed and num_conv share their images, each model pair's paired "
    "difference (same images), averaged the same way",
}

ABOUT = """\
## About this reproduction

This report reproduces an autoencoder study on {dataset}: convolutional autoencoders with a latent
code of size d (experiment 1), interpolation in their latent space (experiment 2), correlations
between latent dimensions (experiment 3) and transfer of the encoder to classification with {labels}
labels (experiment 4). The original study's numbers were never published, only its conclusions:
each one is restated in the detailed verdicts below with the numbers of this run and a verdict
computed from them. Every number in this report comes from the files runs wrote: this profile's,
under its folder{compared}. The exceptions are marked as such: the published results the
semi-supervised section quotes, and the benchmark figures cited with the file they come from.

The original trained every configuration once. Here every autoencoder is trained with several
seeds, and every later experiment uses every seed's model: the tables and figures of experiments
1-4 show means over autoencoder seeds (a seed's number is the mean of the models it pools) with a
t-interval over them, the unit and n written beside each interval; the interval of a quantity with limits is cut where it ends (an error or a
ratio at 0; an accuracy, a probability or a mean |correlation| at 0 and 1; a correlation at -1 and 1; the
participation ratio at 1 and d). The semi-supervised section's are over label draws of one encoder,
and the reference classifier and the protocol searches are single runs; their sections say so.
{verdict_unit} Runs that failed are named at the top of their experiment's section.
"""


def title(data) -> str:
    """The report's heading, with the profile's dataset and the number of labels its transfer runs
    took (the study's where there are none)."""
    return TITLE.format(dataset=dataset_name(data.dataset), labels=labels(data))


def page_title(dataset: str | None) -> str:
    """The HTML page's title for a profile of `dataset` (its parameter value; None: the study's)."""
    return PAGE_TITLE.format(dataset=dataset_name(dataset or DATASET))


def labels(data) -> int:
    """The number of labels the profile's runs took (the first labelled stage's), else the study's."""
    tables = (data.usable(stage) for stage in LABELLED)
    return next((int(t["n_labels"].iloc[0]) for t in tables if "n_labels" in t and not t.empty), LABELS)


def about(data, other: str | None = None) -> str:
    """The section "About this reproduction", with the number of labels the profile's runs took and
    `other`, the profile the report is compared with (the frame finds it), where there is one."""
    compared = (
        f", and {other}'s, the profile it is compared with, each number of which its name labels"
        if other
        else ""
    )
    built = "experiment 4's encoders" + (
        ""
        if own_images(data.usable("interpolate"))
        else "; experiment 2's model pairs, whose models of one seed and num_conv share their images"
    )
    unit = (
        "Every autoencoder's seed is drawn for its own cell (its d and num_conv), so no two models share an\n"
        "initialisation or a batch order: each model is an independent unit, and so is each unit built on one\n"
        f"({built}). The verdicts decide on combinations of cell\n"
        "means with Welch t-intervals over those units, each cell its own spread (the rules follow the detailed\n"
        "verdicts); the seeds' t-intervals of the tables and figures hold too, on no more degrees of freedom."
        if data.rules.models_independent
        else "The seed is the independent unit (the models of one seed share its random inputs): the verdicts take\n"
        "each seed's own statistic, computed from all of its models, as one observation; their intervals are\n"
        "t-intervals over the seeds (the rules follow the detailed verdicts)."
    )
    return ABOUT.format(
        dataset=dataset_name(data.dataset), labels=labels(data), compared=compared, verdict_unit=unit
    )


def training_images(data) -> str:
    """'16,000 training images', or 'all 60,000 training images': how much of the data a profile's
    runs train on (the comparison with another profile names it)."""
    d = data.params.get("data") or {}
    full = _full_size(d)
    if not full:
        return f"{_images(d.get('train_size'))} training images"
    held = data.declared("autoencode", "params").get("val_size") or 0  # `science.data.load_train_val`
    return f"all {full:,} training images" + (
        f" ({int(held):,} of them held out from the autoencoders' training for validation)" if held else ""
    )


def _full_size(d: dict) -> int:
    """The number of training images of the dataset where the `data:` section `d` takes every one, else 0."""
    n, full = d.get("train_size"), DATASET_SIZES.get(d.get("dataset", DATASET), (0, 0))[0]
    return full if not n or n >= full else 0


def _images(n) -> str:
    """'7,000', or 'all' where the profile takes the whole split (null)."""
    return f"{int(n):,}" if n else "all"


def choices(data, seeds: str) -> list[dict]:
    """The choices of the study as a whole: which images, its fidelity and the report's own rules.
    `seeds`: what a model's seed and the seeds derived from it set (`report.choices.seed_sentence`)."""
    d, r = data.params.get("data") or {}, data.rules
    return [
        {
            "what": "which images",
            "choice": f"one data seed (data_seed {d.get('data_seed', 0)}) draws the subsets of "
            "both splits every stage reads (the training images, the test subset, the "
            "monitored and calibration images); " + seeds,
            "how it was made": "so that the seeds of one configuration are exchangeable replicates, each carrying its "
            "own label draws and image pairs (so an interval over seeds includes their variation); "
            "no model is measured on its own training images except where its experiment says so",
            "on what data": "none (fixed before the runs)",
        },
        _fidelity(d, getattr(r, "time_budget_minutes", None)),
        {
            "what": "verdict rules",
            "choice": (
                f"{100 * r.confidence:g} % Welch t-intervals over the cells, every model its own unit (seeded for its "
                "own cell), each cell its own spread"
                if r.models_independent
                else f"{100 * r.confidence:g} % t-intervals over the seeds, each seed's statistic from all its models"
            )
            + f"; 'clearly' = {100 * r.small_d_margin:g} %; h1 margin "
            f"±{100 * r.h1_margin:g} points; Holm over the family",
            "how it was made": "fixed in the parameter file's report: section (reasons in aestudy.report_params), in a "
            "repository where earlier runs' test results existed; the h1 margin by practical "
            "relevance (the smallest accuracy difference that would change which MLP width a "
            "practitioner picks); the seed as the unit (2026-12-07, replacing a model over every model "
            "with one pooled variance) by how often each analysis decides claims on simulated null data "
            "(benchmarks/verdict_calibration.py: the pooled one up to 23 % where 5 % is nominal, over the seeds "
            "4-6 %), the simulation's cell spreads taken from an earlier default run's test-set tables, and "
            "the verdicts each analysis gives on those runs known when it was chosen; then (2026-12-07) every model "
            "seeded for its own cell, so that each is its own unit and the verdicts come nearer the degrees of freedom "
            "the study's specification asks for (how near: the limitations), by the df that design gives with the same spreads "
            "(benchmarks/independent_df.py) and how often its Welch intervals decide a claim on simulated null data "
            "(benchmarks/verdict_calibration.py --welch: 3.8-5.0 % where 5 % is nominal)",
            "on what data": "test set (disclosed: the seed as the unit, then the model seeded for its own cell, were "
            "chosen with earlier runs' test-set tables and verdicts known); the thresholds on earlier runs",
        },
    ]


def _fidelity(d: dict, budget_minutes: float | None = None) -> dict:
    """How many images the profile's runs read, and why: every training image is the original's
    number; a subset is sized to the profile's time budget, and its cost is stated. Whether these
    runs kept to the budget is the Runs section's (it was said to be met where it was not)."""
    whole = bool(_full_size(d))
    budget = (
        f" ({budget_minutes:g} min, report: time_budget_minutes; whether these runs kept to it: the Runs section)"
        if budget_minutes
        else ""
    )
    return {
        "what": "fidelity",
        "choice": f"{_images(d.get('train_size'))} training images, {_images(d.get('test_size'))} test images",
        "how it was made": "the original's number of training images (each stage's epochs are its own choice)"
        if whole
        else f"a seeded subset of the training images, sized to the profile's time budget{budget} "
        "(every image, the original's fidelity, is params/full.yaml, for a GPU)",
        "on what data": "none (the original's number)"
        if whole
        else "run times; what the budget costs in results (the autoencoders against PCA with the same "
        "d, the last epoch's change of validation error) is stated on page 1 and in experiment 1",
    }


# the study's specification (STUDY.md, "Replication"): at least this many degrees of freedom per
# verdict in its default and full profiles
SPEC_MIN_DF = 8


def _against_spec(df: int) -> str:
    """The intervals' degrees of freedom set against the specification's minimum, in words."""
    if df >= SPEC_MIN_DF:
        return f", at least the {SPEC_MIN_DF} per verdict the study's specification asks for"
    return (
        f", fewer than the {SPEC_MIN_DF} per verdict that the study's specification asks of its default and full "
        f"profiles: over the seeds that takes {SPEC_MIN_DF + 1} of them, or every model seeded for its own cell "
        "(seed_scope: cell, the default since 2026-12-07; these runs shared their seeds across cells)"
    )


def _below_spec(dfs, n_seeds: int) -> str:
    """The verdicts' degrees of freedom (`dfs`, those of the Holm family, over `n_seeds` seeds a
    cell) set against the specification's minimum, in words, with the seeds a cell that would bring
    the fewest to it (a Welch df grows about in proportion to the seeds a cell less one)."""
    dfs = sorted(int(d) for d in dfs)
    if not dfs:
        return ""
    span = f"{dfs[0]}" if dfs[0] == dfs[-1] else f"{dfs[0]}-{dfs[-1]}"
    few = sum(d < SPEC_MIN_DF for d in dfs)
    if not few:
        return f"; here {span}, at least the {SPEC_MIN_DF} per verdict the study's specification asks for"
    need = n_seeds + 1 if dfs[0] < 1 else 1 + math.ceil(SPEC_MIN_DF * (n_seeds - 1) / dfs[0])
    return (
        f"; here {span}: {few} of the {len(dfs)} verdicts {'has' if few == 1 else 'have'} fewer than the "
        f"{SPEC_MIN_DF} that the study's "
        "specification asks of its default and full profiles (where one cell's spread dwarfs the others', a "
        "Welch df falls toward that cell's own seeds less one). The df grow about in proportion to the seeds a "
        f"cell less one: about {need} seeds a cell would bring the fewest to {SPEC_MIN_DF}"
    )


def limitations(n_seeds: int, independent: bool = False, dfs=()) -> str:
    """What the design as a whole cannot show: the family's power over `n_seeds` seeds ('' for none).
    `independent`: every model seeded for its own cell, its own unit; `dfs`: then, the degrees of
    freedom of the family's verdicts."""
    if not n_seeds:
        return ""
    if independent:
        return (
            f"Every model is its own unit: each {MODEL}'s seed is drawn for its own (d, num_conv) cell, so no two "
            "models share an initialisation or a batch order, and each verdict's estimate (a slope, a step, a mean "
            "over cells of differences) is a combination of cell means with a Welch t-interval, each cell its "
            f"own spread ({n_seeds} {UNIT if n_seeds == 1 else UNITS} a cell; assumed: the models independent, "
            "each cell's values roughly normal). Its degrees of freedom are Welch-Satterthwaite's, rounded down, "
            f"and written beside each interval{_below_spec(dfs, n_seeds)}. Holm's "
            "adjustment over the family makes each decision stricter than it would be alone, so a moderate effect "
            "can stay inconclusive; 'inconclusive' says the design could not decide, not that there is no effect, "
            "and each such row says what would decide it (more seeds, or another design where no number of seeds "
            "would)."
        )
    return (
        f"Every verdict rests on {n_seeds} {UNIT if n_seeds == 1 else UNITS}: each seed's own statistic, computed "
        "from all of its models, is one observation, and the interval is a t-interval over them (assumed: the seeds "
        "independent, their statistics roughly normal; nothing is assumed of the models within a seed, which share "
        "its batch order and part of its initialisation, nor of how their spread differs from cell to cell). "
        f"With {n_seeds} {UNIT if n_seeds == 1 else UNITS} each interval has {max(n_seeds - 1, 0)} degrees of "
        f"freedom{_against_spec(n_seeds - 1)}. Holm's "
        "adjustment over the family makes each decision stricter than it would be alone, so a moderate effect "
        "can stay inconclusive; 'inconclusive' says the design could not decide, not that there is no effect, "
        "and each such row says what would decide it (more seeds, or another design where no number of seeds would)."
    )
