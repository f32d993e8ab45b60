"""The report's section beyond the original: how far few labels go when the unlabelled training
images are used too (the `semisup` stage). One encoder, several label draws: every interval here
is over label draws (the unit), and the differences are paired by draw."""

from __future__ import annotations

import re

import pandas as pd

from ...report import section
from ...report.claims import Experiment
from ...report.stats import CONFIDENCE, mean_ci, summarise
from ...report.tables import ci_cells
from ...report.text import (
    as_written,
    count,
    fmt_ci,
    fmt_pct,
    fmt_pp_ci,
    interval_words,
    listing,
    selection_noise,
)
from ..about import ACCURACY
from .anchors import METHOD, anchor_name, conditions, setting, short, sources
from .choices import (
    LEVERS,
    STAGE,
    choices,
    length_words,
    levers_on,
    semisup_run,
    thousands,
    tie_words,
    tied_at_top,
)
from .published import PUBLISHED

DRAWS = "label draws"
LADDER = "fully connected ladder, permutation-invariant (Rasmus et al. 2015, Table 1), published"
TARGET = PUBLISHED[
    LADDER
]  # issue 25's bar (98.9 %), stated beside the result: the study's goal, not the best published


def _ci(df: pd.DataFrame, value: str, confidence: float) -> pd.DataFrame:
    return summarise(df, ["method"], value, unit="label_seed", confidence=confidence)


def accuracy_table(df: pd.DataFrame, confidence: float = CONFIDENCE, tie: int = 0) -> pd.DataFrame:
    """Per method (in the run's order): train, cross-validation and test accuracy, mean [interval]
    over label draws; then the published anchors (a number from the literature, no interval).
    `tie`: how many recipes shared the chosen one's CV accuracy (`choices.tied_at_top`), said in its cell."""
    if df.empty:
        return pd.DataFrame()
    order = list(dict.fromkeys(df["method"]))
    test = _ci(df, "accuracy", confidence)
    test = test.assign(cell=ci_cells(test, pct=True)).set_index("method")
    train = df.groupby("method")["train_accuracy"].mean()
    cv = df.groupby("method")["cv_accuracy"].first()
    sel = df.groupby("method")["selected_from"].first() if "selected_from" in df else pd.Series(dtype=float)
    rows = [
        {
            "method": m,
            "train": fmt_pct(train[m]),
            "cross-validation (selected)": (
                fmt_pct(cv[m])
                + (
                    f" (best of {int(sel[m])}{f', {tie} tied' if tie and m == METHOD else ''})"
                    if pd.notna(sel.get(m))
                    else ""
                )
            )
            if pd.notna(cv.get(m))
            else "–",
            "test": test.loc[m, "cell"],
            "label draws": int(test.loc[m, "n"]),
        }
        for m in order
    ]
    rows += [
        {
            "method": name,
            "train": "–",
            "cross-validation (selected)": "–",
            "test": fmt_pct(acc),
            "label draws": "–",
        }
        for name, acc in PUBLISHED.items()
    ]
    return pd.DataFrame(rows)


def _recipe_ci(df: pd.DataFrame, confidence: float) -> dict:
    return mean_ci(df.loc[df["method"] == METHOD, "accuracy"], confidence, ACCURACY)


def differences(df: pd.DataFrame, confidence: float = CONFIDENCE) -> dict[str, dict]:
    """The semi-supervised recipe's test accuracy minus each other method's, paired by label draw:
    {method: mean_ci dict}."""
    if df.empty or METHOD not in set(df["method"]):
        return {}
    wide = df.pivot_table(index="label_seed", columns="method", values="accuracy")
    return {
        m: mean_ci(wide[METHOD] - wide[m], confidence, (-1.0, 1.0))  # a difference of two accuracies
        for m in dict.fromkeys(df["method"])
        if m != METHOD and m in wide
    }


UNTUNED_PROTOCOL = "untuned protocol"


def _labels_of(df: pd.DataFrame) -> str:
    """'on the 100 labelled images of each label draw and, ' (the records' n_labels; '' where they do not say)."""
    n = pd.to_numeric(df.get("n_labels", pd.Series(dtype=float)), errors="coerce").dropna().unique()
    return f"on the {int(n[0]):,} labelled images of each label draw and, " if len(n) == 1 else ""


def _comparator(method: str) -> str:
    """A labelled-only method as the findings name it: the untuned protocol's mode said, since
    experiment 4's frozen mode may have chosen the same protocol (`run.run`: it fine-tunes)."""
    if method == UNTUNED_PROTOCOL:
        return "fine-tuning by the untuned protocol"
    return method if method == "finetune" else f"the {method}"


def same_as_untuned(df: pd.DataFrame) -> list[str]:
    """The labelled-only methods whose classifiers are the untuned protocol's on every draw (the
    same test accuracy and last loss: their search kept the untuned protocol, and they start from
    the same seeds), so that the report says why their numbers coincide."""
    if UNTUNED_PROTOCOL not in set(df["method"]) or "final_loss" not in df:
        return []
    cols = ["accuracy", "final_loss"]
    wide = {m: g.set_index("label_seed")[cols].sort_index() for m, g in df.groupby("method", sort=False)}
    untuned = wide[UNTUNED_PROTOCOL]
    return [
        m
        for m, w in wide.items()
        if m not in (METHOD, UNTUNED_PROTOCOL) and w.index.equals(untuned.index) and w.equals(untuned)
    ]


def recipe_table(candidates: list[dict]) -> pd.DataFrame:
    """Every candidate recipe the cross-validation tried, its accuracy, the chosen one marked."""
    if not candidates:
        return pd.DataFrame()
    t = pd.DataFrame(candidates).astype(object)
    t = t.apply(lambda col: col.map(as_written) if col.name not in ("cv_accuracy", "cv_se") else col)
    se = t.pop("cv_se") if "cv_se" in t else pd.Series([None] * len(t))
    t["cross-validation"] = [
        fmt_pct(v) + ("" if e is None or pd.isna(e) else f" ± {100 * e:.1f}")
        for v, e in zip(t.pop("cv_accuracy"), se)
    ]
    t = t.drop(columns=["cv_folds"], errors="ignore")
    t["chosen"] = ["yes" if str(c).lower() == "true" else "" for c in t["chosen"]]
    t = t.drop(columns=["steps", "unlabelled_batch"], errors="ignore")
    same = [
        k for k in LEVERS if k in t and t[k].astype(str).nunique() == 1
    ]  # a lever not searched: said in words
    t = t.drop(columns=same)
    return t.rename(
        columns={"init": "start", "unlabelled_weight": "unlabelled weight", "weight_decay": "weight decay"}
    )


def compute(m: dict) -> str:
    """What the run took, from its metrics' `compute` ('' for a run from before it was recorded)."""
    c = m.get("compute")
    if not c:
        return ""
    n = len({r["label_seed"] for r in m.get("records", [])})

    def took(s: float) -> str:
        return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"

    return (
        f" It took {took(c['search_seconds'])} for the search ({c['search_steps']:,} training steps) and "
        f"{took(c['evaluation_seconds'])} for the {count(n, 'evaluated label draw') if n != 1 else 'one evaluated label draw'} ({c['steps_per_draw']:,} steps "
        f"each, beside the labelled-only classifiers) on {c['device']} in {c['precision']}."
    )


def _tied_with(means: pd.Series) -> str:
    """' (the augmented control prints the same: 82.7 %)' where another of `means` prints as the
    best one does, '' otherwise: a best that is a tie to the digits shown is said to be one."""
    best = means.idxmax()
    same = [k for k, v in means.drop(best).items() if fmt_pct(v) == fmt_pct(means[best])]
    return (
        f" ({' and '.join(map(str, same))} {'prints' if len(same) == 1 else 'print'} the same)"
        if same
        else ""
    )


def _one(value):
    """The single value a parameter names (an int, not a bool, or a one-element list of one), else None."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def network_words(data) -> str:
    """Which network the semi-supervised run trained, from its recipe (metrics.json) and its encoder
    (the table's d and num_conv, the parameter file's `uses` seed): 'one pre-trained encoder (d=10,
    num_conv=2, seed 0) and its classifier head'; the study's classifier from a random start, or the
    Conv-Small network, where cross-validation chose that."""
    semi, metrics = semisup_run(data)
    recipe = (metrics or {}).get("recipe") or {}
    if recipe.get("network") == "conv-small":
        return "the Conv-Small network (no encoder of experiment 1)"
    cell = [
        f"{name}{value}"
        for name, col in (("d=", "latent_dim"), ("num_conv=", "num_conv"))
        if col in semi and len(vals := pd.to_numeric(semi[col], errors="coerce").dropna().unique()) == 1
        for value in [int(vals[0])]
    ]
    seed = _one((data.declared(STAGE, "uses").get("autoencode") or {}).get("seed"))
    cell += [f"seed {seed}"] if seed is not None else []
    shape = f" ({', '.join(cell)})" if cell else ""
    if recipe.get("init") == "random":
        return f"the study's classifier from a random start (the architecture of the encoder{shape})"
    return f"one pre-trained encoder{shape} and its classifier head"


def headline(df: pd.DataFrame, confidence: float = CONFIDENCE, network: str = "one network") -> str:
    """One sentence for the abstract: the recipe's accuracy and the best labelled-only classifier's
    on the same draws ('' without a semisup run). `network`: which one (`network_words`): the
    interval is over label draws with it, unlike page 1's others, over autoencoder seeds."""
    if df.empty or METHOD not in set(df["method"]):
        return ""
    means = df.groupby("method")["accuracy"].mean()
    ours = _recipe_ci(df, confidence)
    others = means.drop(METHOD)
    best = (
        f"; on the same {'draws' if ours['n'] != 1 else 'draw'}, "
        + (f"the best of the {len(others)} classifiers" if len(others) > 1 else "the classifier")
        + " trained on the labels alone: "
        f"{others.idxmax()} {fmt_pct(others.max())}" + _tied_with(others)
        if len(others)
        else ""
    )
    return (
        f"Beyond the original, learning from the unlabelled training images too takes {network} to "
        f"{fmt_ci(ours, pct=True)} test accuracy over {count(ours['n'], 'label draw')} with that one "
        f"network{best}."
    )


def against_published(ours: dict, published: dict) -> str:
    """'it is below all 4 published numbers: ...' or 'it is above A (..); below B (..) and C (..)':
    the anchors grouped by the side the recipe's mean lies on, each with its number, and a note
    where the recipe's interval includes it."""

    def named(name: str, acc: float) -> str:
        note = ", which its interval includes" if ours["lo"] <= acc <= ours["hi"] else ""
        return f"the {short(name)} ({fmt_pct(acc, 2)}{note})"

    sides = {"above": [], "below": []}
    for name, acc in published.items():
        sides["above" if ours["mean"] > acc else "below"].append(named(name, acc))
    parts = [f"{side} {listing(names)}" for side, names in sides.items() if names]
    if len(parts) == 1 and len(published) > 1:
        side = next(side for side, names in sides.items() if names)
        return f"it is {side} all {len(published)} published numbers: {listing(sides[side])}"
    return "against the published numbers, it is " + "; ".join(parts)


def markdown(
    df: pd.DataFrame, metrics: dict | None, confidence: float = CONFIDENCE, params: dict | None = None
) -> str:
    """What the section found, in words: the recipe's accuracy against the labelled-only
    classifiers on the same draws, and against the target and the published anchors, with the
    conditions of each beside the comparison."""
    if df.empty or METHOD not in set(df["method"]):
        return ""
    m = metrics or {}
    ours = _recipe_ci(df, confidence)
    n = ours["n"]
    diffs = differences(df, confidence)
    vs = "; ".join(f"{fmt_pp_ci(ci)} against {_comparator(name)}" for name, ci in diffs.items())
    rec = m.get("recipe", {})
    pool = f"{m['n_pool']:,}" if m else "?"  # a validated SemisupMetrics (aestudy.metrics) or none
    setup = (
        f"The encoder of the d = {m.get('latent_dim', '?')}, num_conv = {m.get('num_conv', '?')} autoencoder, "
        f"trained {_labels_of(df)}for {thousands(rec.get('steps'))} steps, on {thousands(rec.get('unlabelled_batch'))} of the "
        f"{pool} unlabelled training images per step{', with ' + levers_on(rec) if levers_on(rec) else ''}, reaches "
        f"{fmt_ci(ours, pct=True)} test accuracy"
        + (f" ({interval_words(confidence, n, DRAWS)})." if n > 1 else " (one label draw).")
    )
    target = "at or above" if ours["mean"] >= TARGET else "below"
    better = [f"the {short(k)} reports {fmt_pct(acc, 2)}" for k, acc in PUBLISHED.items() if acc > TARGET]
    return (
        f"{setup} Paired by label draw, it differs by {vs}"
        + (f" (each a {interval_words(confidence, n, DRAWS)})" if n > 1 else "")
        + "".join(
            f"; {name}'s classifiers are the untuned protocol's on every draw (the same test accuracy and "
            "last loss: its search kept the untuned protocol)"
            for name in same_as_untuned(df)
        )
        + ". "
        f"Its mean is {target} the {fmt_pct(TARGET)} this extension aims at (the {short(LADDER)} of "
        f"{sources({LADDER: TARGET}).split(':')[0]}; not the best published"
        f"{': ' + ' and '.join(better) if better else ''}); {against_published(ours, PUBLISHED)}."
        + conditions(df, m, PUBLISHED, params)
        + compute(m)
    )


# ------------------------------------------------------------------ the section's tables and figures, captioned


def text(data) -> str:
    semi, metrics = semisup_run(data)
    return markdown(semi, metrics, data.rules.confidence, data.params)


def by_method(records: pd.DataFrame, published: dict):
    """Test accuracy per method, each label draw a dot and their mean a diamond; the published
    anchors as dashed lines, their legend below in one column (drawn for print: at most the
    report's width, its text at least 8 pt)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    from ...drawing import accuracy_by_method
    from ...report.figures import WIDTH, style

    with style():
        fig, ax = plt.subplots(figsize=(WIDTH, 2.6 + 0.18 * len(published)))
        accuracy_by_method(ax, records, published)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0, symbol=" %"))  # as the text and tables
        ax.set_ylabel("test accuracy (%)")
        if published:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1, frameon=False)
        fig.tight_layout()
    return fig


def accuracy(data):
    """(figure of every label draw's accuracy per method, caption)."""
    semi, _ = semisup_run(data)
    if semi.empty:
        return None, ""
    fig = by_method(semi, PUBLISHED)
    lo = 100 * fig.axes[0].get_ylim()[0]  # the axis holds fractions, shown in %
    return fig, (
        f"Test accuracy with {int(semi['n_labels'].iloc[0])} labels, each label draw a dot and their mean a diamond: "
        "the semi-supervised recipe, then the classifiers trained on the same labels alone. Horizontal lines: "
        f"accuracies published for MNIST with 100 labels ({sources(PUBLISHED)}), each in its own colour and line "
        "style (legend below), for reference, under their papers' conditions (the section's text and the next "
        "table say which); not computed here."
        + _on_one_line(PUBLISHED, fig.axes[0].get_ylim())
        + (f" The accuracy axis starts at {lo:.0f} %, not at 0." if lo > 0.5 else "")
    )


# published lines closer than this share of the accuracy axis's height print as one
ONE_LINE = 0.02


def _on_one_line(published: dict, axis: tuple[float, float]) -> str:
    """' The fully connected ladder, ... (98.94-99.11 %) lie within 0.17 points of one another (under
    2 % of the axis's height): they draw as one line.' for each group of anchors that close to the
    group's lowest, on the accuracy axis `axis` (its lower and upper limit); '' for none."""
    gap = ONE_LINE * (axis[1] - axis[0])
    groups: list = []
    for name, acc in sorted(published.items(), key=lambda kv: kv[1]):
        if groups and acc - groups[-1][0][1] < gap:
            groups[-1].append((name, acc))
        else:
            groups.append([(name, acc)])
    return "".join(
        f" The {listing([short(n) for n, _ in g])} ({100 * g[0][1]:.2f}-{100 * g[-1][1]:.2f} %) lie within "
        f"{100 * (g[-1][1] - g[0][1]):.2f} points of one another (under {100 * ONE_LINE:g} % of the axis's "
        "height): they draw as one line."
        for g in groups
        if len(g) > 1
    )


def methods_table(data):
    """(accuracy per method, caption)."""
    semi, metrics = semisup_run(data)
    if semi.empty:
        return pd.DataFrame(), ""
    c = data.rules.confidence
    return accuracy_table(semi, c, tied_at_top((metrics or {}).get("candidates") or [])), (
        "Accuracy on the labelled images (train), in cross-validation (the chosen recipe's or protocol's mean "
        "over folds: the best of its candidates, so selected) and on the test set: mean [interval] over label draws, "
        f"{interval_words(c, semi.groupby('method')['label_seed'].nunique(), DRAWS)}; "
        "the last rows are published numbers, not computed here, each under its paper's conditions: "
        + "; ".join(f"{anchor_name(k)}, {setting(k)}" for k in PUBLISHED if setting(k))
        + "."
    )


def recipes(data):
    """(every recipe cross-validation tried, caption)."""
    semi, metrics = semisup_run(data)
    if semi.empty:
        return pd.DataFrame(), ""
    label = ((metrics or {}).get("selection") or {}).get(
        "label"
    ) or "chosen by cross-validation on the first label draw"
    label = re.sub(
        r"\b\d{4,}\b", lambda m: f"{int(m[0]):,}", label
    )  # '1000 steps each' as the text writes it
    cands = (metrics or {}).get("candidates", [])
    return recipe_table(cands), (
        "The recipes cross-validation tried (the base recipe first), with their mean validation accuracy over folds "
        f"± its standard error over the folds; the chosen one marked: {label} (selected: its accuracy is the best of "
        f"them{tie_words(cands)}). start: the encoder of experiment 1 (pretrained) or a random one; threshold: the confidence a "
        "pseudo-label needs to count; unlabelled weight: the weight of the consistency loss on the unlabelled "
        "images beside the labelled images' loss."
        + search_noise(cands, (metrics or {}).get("selection") or {}, (metrics or {}).get("recipe") or {})
        + (
            f" The chosen recipe has {levers_on((metrics or {}).get('recipe', {}))} (a lever has a column where "
            "the candidates differ in it)."
            if levers_on((metrics or {}).get("recipe", {}))
            else ""
        )
    )


def search_noise(candidates: list[dict], sel: dict, rec: dict) -> str:
    """The search's standard error and whether its choice is inside the noise, and, where the
    candidates were trained shorter than the final runs, that the ranking is not checked at the
    final length (no candidate is retrained at it: that would double the stage's cost)."""
    chosen = [i for i, c in enumerate(candidates) if str(c.get("chosen")).lower() == "true"]
    words = (
        (
            " "
            + selection_noise(
                [c["cv_accuracy"] for c in candidates],
                [c.get("cv_se") for c in candidates],
                chosen[0],
                "recipe",
                folds=sel.get("folds"),
            )
        )
        if chosen
        else ""
    )
    return words.rstrip() + length_words(sel.get("cv_steps"), rec.get("steps"))


NARRATIVE = """
Experiment 4 learns from its labelled images alone (100 in the original; the number this profile
draws is given below). Here the same network (one encoder of experiment 1 and the MLP head) also
learns from the unlabelled training images: consistency training with confident pseudo-labels
(FixMatch, reduced to digits). The labelled images are shifted and rotated a little; an unlabelled
image's prediction on such a copy becomes its pseudo-label when confident enough, and the network
learns to give it on a harder copy (larger shifts and rotations and a square erased; a recipe with
a stronger augmentation says so under its table). The recipe's open choices were chosen by
cross-validation, before any test image was read, on a search draw of labelled images that is
never evaluated and whose images are left out of the unlabelled pool of the search; the method
itself and its search space were set after earlier test accuracies had been seen (Choices and
limitations). On each label draw (drawn as experiment 4 draws this encoder's, so a draw experiment
4 also evaluates holds the same images) it is compared with classifiers trained on the labels
alone: fine-tuning by the untuned protocol (the first candidate of fine-tuning's protocol search, so
without augmentation; not experiment 4's frozen mode, whatever protocol that mode chose), and
fine-tuning and the augmented CNN control by their chosen protocols.
The interval is over label draws (one encoder), and the differences are paired by draw.
"""


EXPERIMENT = Experiment(
    name=STAGE,
    order=5,
    stages=(STAGE,),
    ranges={"accuracy": ACCURACY},
    seeds={
        "semisup": ("the semi-supervised training's batches and augmentations on the evaluated draws", True),
        "conv-small": ("the Conv-Small network's initialisation, where a recipe trains that network", True),
        "semisup-search": ("the order in which semi-supervised recipes are drawn", False),
        "semisup-folds": ("the semi-supervised search's folds", False),
        "semisup-cv": ("the semi-supervised search's fold classifiers", False),
    },
    optional=True,
    abstract=lambda data: headline(data.usable(STAGE), data.rules.confidence, network_words(data)),
    choices=choices,
    limitations=lambda data: (
        f"Beyond the original, the semi-supervised figures come from {network_words(data)}: their "
        "intervals are over label draws with that one network, not over autoencoder seeds."
        if not data.usable(STAGE).empty
        else ""
    ),
    title="Beyond the original: how far few labels go",
    narrative=NARRATIVE,
    text=text,
    sections=(
        section.figure(accuracy, "semisup.png"),
        section.table(methods_table),
        section.table(recipes),
    ),
)
