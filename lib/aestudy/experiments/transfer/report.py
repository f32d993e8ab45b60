"""Experiment 4, transfer learning with 100 labels, and the checks added to it (4+): its claims
(h1 matters little, larger d better, fine-tuning beats frozen, pre-training beats scratch, the
augmented control and the raw-pixel baselines), how they are decided, what the section says and
its panel of the page-1 figure. The data's shape, tables and figure are in `summaries`."""

from __future__ import annotations

from itertools import combinations

import pandas as pd

from ...report import section
from ...report.claims import NO_RUNS, Claim, Experiment, key_decides, key_effects, row, trend_row
from ...report.decide import INCONCLUSIVE, direction, equivalence, tost_level
from ...report.figures import Panel, ci_points, tick
from ...report.sentences import ci_of
from ...report.stats import CONFIDENCE, SEED
from ...report.text import SEEDS, count, fmt_ci, fmt_est, fmt_pct, fmt_pp, fmt_pp_ci, listing
from ...report_params import ReportParams
from ...vocabulary import BASELINE_LABELS, in_mode_order, mode_palette, mode_sort_key
from ..about import ACCURACY
from . import summaries
from .choices import (
    augment_note,
    augment_words,
    choices,
    one_cell,
    tuned_contrast_note,
    tuned_note,
    tuned_on,
    untuned,
)
from .summaries import (
    CELLS,
    ENCODER,
    baselines_by_d,
    encoder_means,
    in_percent,
    interval_text,
    over_cells,
    several_num_conv,
    transfer_parts,
    transfer_summaries,
)

STAGE = "transfer"
DEFAULT = ReportParams()
ENCODERS = "encoders"  # experiment 4's unit where every autoencoder is its own (seed_scope: cell)
CHANCE = 0.10  # ten classes
PRETRAINED = ("frozen", "finetune")  # transfer modes whose encoder was trained as an autoencoder
FINETUNE_FROZEN, FINETUNE_SCRATCH, FINETUNE_CONTROL = (
    ("finetune", "frozen"),
    ("finetune", "scratch"),
    ("finetune", "augmented"),
)
# the mode differences the claims decide, each with what it is there to measure
CONTRASTS = {
    FINETUNE_FROZEN: "fine-tuning",
    FINETUNE_SCRATCH: "pre-training",
    FINETUNE_CONTROL: "pre-training",
}


# ------------------------------------------------------------------ claims (encoder-level means)


def _pretrained(tr: pd.DataFrame) -> pd.DataFrame:
    clf, _ = transfer_parts(tr)
    return clf[clf["mode"].isin(PRETRAINED)] if not clf.empty else clf


def verdict_h1_matters_little(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    """Equivalence: each seed's mean accuracy at each h1 (over its encoders, frozen and finetune,
    their label draws averaged) gives that seed's difference between two h1 values, one observation
    (`linear.one_sample`: the encoders of one seed share its autoencoders' batch order and part of
    their initialisation, so they are not independent); where every autoencoder is its own unit
    (`rules.models_independent`), each encoder's own difference, its mean over the cells (`CELLS`) with a
    Welch interval over the encoders. Every difference between two h1 values must lie within +-report.h1_margin (TOST). Not judged below report.min_accuracy. The original's parenthetical,
    "a slight edge for a small MLP", is not tested."""
    from ...report.linear import mean_over_cells, one_sample

    c = "h1 matters little (pre-trained encoders: frozen, finetune)"
    clf = _pretrained(tr)
    if clf.empty:
        return row("4", c, NO_RUNS)
    per = encoder_means(clf, ["h1"])
    hs = sorted(per["h1"].unique())
    if len(hs) < 2:
        return row(
            "4",
            c,
            f"one h1 value only (h1={', '.join(str(int(h)) for h in hs)}): this design cannot test it",
            key="one h1 only",
            untested=True,
            would="no number of seeds would decide it; a design with at least two values of h1 would",
        )
    pairs = list(combinations(hs, 2))
    own = per.groupby([SEED, "h1"])["accuracy"].mean().unstack("h1").dropna()  # the seeds with every h1
    if rules.models_independent:
        # every encoder its own unit: its own h1 differences, a Welch interval over the cells
        mine = per.groupby([*ENCODER, "h1"])["accuracy"].mean().unstack("h1").dropna().reset_index()
        diffs = {
            f"h1={a} − h1={b}": mean_over_cells(
                mine.assign(diff=mine[a] - mine[b]), "diff", CELLS, independent=ENCODERS
            )
            for a, b in pairs
        }
    else:
        diffs = {f"h1={a} − h1={b}": one_sample((own[a] - own[b]).to_numpy(float)) for a, b in pairs}
    inside = pd.concat([(own[a] - own[b]).abs() < rules.h1_margin for a, b in pairs], axis=1).all(axis=1)
    dec = equivalence(diffs, rules.h1_margin, rules.confidence, holds=int(inside.sum()), seeds=len(own))
    means = own.mean()
    worst = dec["cis"][dec["worst"]]
    modes = listing(in_mode_order(clf["mode"]))
    numbers = (
        f"mean accuracy by h1 ({modes}, mean over them): "
        + ", ".join(f"h1={int(h)}: {fmt_pct(m)}" for h, m in means.items())
        + f"; farthest difference ({dec['worst']}): {fmt_est(worst, f=fmt_pp)} (TOST at "
        f"{100 * (1 - rules.confidence):g} %, "
        + (
            f"each encoder's own differences, their mean over the cells ({over_cells(clf)}), a Welch interval "
            "over the encoders"
            if rules.models_independent
            else "each seed's own differences"
        )
        + f"); margin ±{100 * rules.h1_margin:g} "
        "points (report.h1_margin: the smallest difference that would change which width a practitioner "
        "picks)"
    )
    if means.max() < rules.min_accuracy:
        dec = {**dec, "verdict": INCONCLUSIVE, "p": float("nan"), "need": None}
        numbers += f"; classifiers below {fmt_pct(rules.min_accuracy)} (report.min_accuracy): not judged"
    return row(
        "4",
        c,
        numbers,
        dec,
        key=f"farthest gap {fmt_pp_ci(worst)} ({100 * worst['confidence']:g} %), margin ±{100 * rules.h1_margin:g}",
        decides=key_decides(worst, h1_gap_words(dec["worst"], clf)),
    )


def h1_gap_words(worst: str, clf: pd.DataFrame) -> str:
    """What the h1 key number is: which difference (its sign) of the accuracy of which modes."""
    modes = in_mode_order(clf["mode"])
    of = f"the pre-trained modes ({listing(modes)}, mean over them)" if len(modes) > 1 else listing(modes)
    return f"the key number's farthest gap (the difference whose interval reaches farthest from 0), {worst} in the accuracy of {of}, by TOST"


def verdict_larger_d_better(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    clf = _pretrained(tr)
    enc = encoder_means(clf) if not clf.empty else clf
    return trend_row(
        "4",
        "Larger d is better (transfer accuracy of the pre-trained encoders: frozen, finetune)",
        enc,
        "latent_dim",
        "accuracy",
        "num_conv",
        +1,
        rules,
        f"accuracy by d ({'+'.join(in_mode_order(clf['mode'])) if 'mode' in clf else 'pre-trained modes'}, mean)",
        "unit of d",
        f=fmt_pct,
        of_error=True,
        units=ENCODERS,
    )


def _encoder_diffs(
    rows: pd.DataFrame, other: pd.Series | None = None, a: str = "", b: str = ""
) -> pd.DataFrame:
    """One row per encoder (ENCODER columns and `diff`): the mean over its h1 and label draws of
    accuracy(a) - accuracy(b) (matched h1 and label draw), or of accuracy(a, mean over h1) -
    `other`[encoder, label draw] (a number of the same encoder's own draw)."""
    p = rows.pivot_table(
        index=ENCODER + ["h1", "label_seed"], columns="mode", values="accuracy", aggfunc="mean"
    )
    if other is None:
        diff = p[a] - p[b]
    else:
        acc = p[a].groupby(level=ENCODER + ["label_seed"]).mean()
        diff = acc - other.reorder_levels(ENCODER + ["label_seed"]).reindex(acc.index).to_numpy()
    return diff.dropna().groupby(level=ENCODER).mean().rename("diff").reset_index()


def _diff_decision(enc: pd.DataFrame, rules: ReportParams) -> dict:
    """A paired difference decided over the seeds: each seed's mean over the cells (`CELLS`: d, and
    num_conv where several) of its encoders' differences, one observation (`linear.mean_over_cells`);
    where every autoencoder is its own unit (`rules.models_independent`), so is every encoder: the mean
    over the cells of the encoders' differences, a Welch interval over the encoders (each cell its own
    spread). Holds: the seeds whose
    own mean difference is above 0."""
    from ...report.linear import mean_over_cells, seed_means

    if enc.empty:
        return direction(pd.Series(dtype=float), +1, rules.confidence)
    est = mean_over_cells(
        enc,
        "diff",
        CELLS,
        independent=ENCODERS if rules.models_independent else None,
    )
    own = seed_means(enc, "diff", CELLS)
    return direction(est, +1, rules.confidence, holds=int((own > 0).sum()), seeds=len(own))


def _mode_verdict(tr, a: str, b: str, c: str, experiment: str, rules: ReportParams) -> dict:
    clf, _ = transfer_parts(tr)
    if clf.empty or not {a, b} <= set(clf["mode"]):
        return row(experiment, c, f"needs modes {a} and {b}" if not clf.empty else NO_RUNS)
    dec = _diff_decision(_encoder_diffs(clf, a=a, b=b), rules)
    m = clf.groupby("mode")["accuracy"].mean()
    return row(
        experiment,
        c,
        f"mean accuracy {a}: {fmt_pct(m[a])}, {b}: {fmt_pct(m[b])}; difference "
        f"({a} − {b}, each encoder's mean over its h1 and label draws; mean over {over_cells(clf)}): "
        f"{fmt_est(dec, f=fmt_pp)}",
        dec,
        key=fmt_pp_ci(dec),
        decides=key_decides(dec),
    )


def verdict_finetune_beats_frozen(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return _mode_verdict(tr, *FINETUNE_FROZEN, "Fine-tuning beats the frozen encoder", "4", rules)


def verdict_pretraining_beats_scratch(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return _mode_verdict(
        tr,
        *FINETUNE_SCRATCH,
        "Pre-training beats the same network trained from scratch (finetune vs scratch)",
        "4+",
        rules,
    )


def verdict_pretraining_beats_control(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return _mode_verdict(
        tr,
        *FINETUNE_CONTROL,
        "Pre-training beats the augmented CNN control (finetune vs augmented)",
        "4+",
        rules,
    )


def contrast_note(a: str, b: str):
    """The caveats of the claim a − b: where its protocols were chosen (`tuned_contrast_note`), and
    where the two chosen protocols differ in augmentation, that it measures augmentation too."""
    return lambda data: "; ".join(w for w in (tuned_contrast_note(data), augment_note(data, a, b)) if w)


def contrast_by_d(a: str, b: str):
    """The detail of the claim a − b: its mean at every d (a mean over d can hide a d where it turns)."""

    def detail(data) -> str:
        clf, _ = transfer_parts(data.usable(STAGE))
        if clf.empty or not {a, b} <= set(clf["mode"]):
            return ""
        return _per_d_detail(f"{a} − {b}", _encoder_diffs(clf, a=a, b=b))

    return detail


def _versus_baselines(clf: pd.DataFrame, base: pd.DataFrame):
    """(mode, per-encoder differences, the baselines by draw) of the raw-pixel claim
    (`transfer_parts`' classifiers and baselines): finetune (else frozen) minus the stronger
    baseline of the same label draw, each encoder's mean over its h1 and draws; None where the
    runs cannot give it."""
    if clf.empty or base.empty:
        return None
    mode = next((m for m in ("finetune", "frozen") if m in set(clf["mode"])), None)
    if mode is None:
        return None
    bpiv = base.pivot_table(index=ENCODER + ["label_seed"], columns="mode", values="accuracy")
    diffs = _encoder_diffs(clf[clf["mode"] == mode], other=bpiv.max(axis=1), a=mode)
    return mode, diffs, bpiv


def _per_d_detail(what: str, diffs: pd.DataFrame) -> str:
    """'finetune − frozen at every d (means): d=5: +0.0 points, d=10: +4.2 points, ...': the
    difference's mean at every d, beside its decision on their mean ('' with fewer than two d,
    where it would only repeat the decision)."""
    if diffs.empty or diffs["latent_dim"].nunique() < 2:
        return ""
    means = diffs.groupby("latent_dim")["diff"].mean()
    pooled = " over num_conv" if several_num_conv(diffs) else ""
    return f"{what} at every d (means{pooled}): " + ", ".join(
        f"d={int(d)}: {fmt_pp(v)}" for d, v in means.items()
    )


def verdict_beats_baselines(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    """The pre-trained encoders (finetune, else frozen; mean over h1) against the stronger of the
    two raw-pixel baselines on the same label draw, decided like the other mode differences: the
    mean over the cells of each encoder's difference (`_diff_decision`). Its detail gives every d's mean.
    (Until 2026-12-07 it was decided at the largest d alone: its 4 encoders gave 3 degrees of
    freedom; the report's choices say when and why it changed.)"""
    c = "Pre-training beats raw-pixel baselines (logistic regression, 1-NN)"
    clf, base = transfer_parts(tr)
    if clf.empty or base.empty:
        return row("4+", c, NO_RUNS if clf.empty else "no baseline records")
    got = _versus_baselines(clf, base)
    if got is None:
        return row("4+", c, "needs frozen or finetune records")
    mode, diffs, bpiv = got
    c = c.replace(
        "(logistic", f"({mode} vs logistic", 1
    )  # the mode it is decided on, as the other 4+ rows say
    dec = _diff_decision(diffs, rules)
    numbers = (
        f"{mode}: {fmt_pct(clf.loc[clf['mode'] == mode, 'accuracy'].mean())}; on the same draws "
        + ", ".join(f"{BASELINE_LABELS.get(m, m)}: {fmt_pct(bpiv[m].mean())}" for m in bpiv.columns)
        + f"; difference ({mode} − stronger baseline of the same label draw, each encoder's mean over its h1 "
        f"and draws; mean over {over_cells(clf)}): " + fmt_est(dec, f=fmt_pp)
    )
    return row(
        "4+",
        c,
        numbers,
        dec,
        key=f"{fmt_pp_ci(dec)} over the better baseline",
        decides=key_decides(dec),
    )


def baselines_detail(data) -> str:
    """The raw-pixel verdict's detail: the difference at every d."""
    got = _versus_baselines(*transfer_parts(data.usable(STAGE)))
    if got is None:
        return ""
    mode, diffs, _ = got
    return _per_d_detail(f"{mode} − the better baseline", diffs)


# ------------------------------------------------------------------ what the section says


def runs_text(tr: pd.DataFrame, clf: pd.DataFrame) -> str:
    """What was trained: encoders, MLP widths, label draws, protocols and the test set."""
    nc = sorted(set(clf["num_conv"].astype(int).tolist())) if "num_conv" in clf else "?"
    n_enc = len(clf[["num_conv", "latent_dim", "seed"]].drop_duplicates())
    tuned = (
        clf.groupby("mode")["cv_accuracy"].apply(lambda v: v.notna().any())
        if "cv_accuracy" in clf
        else pd.Series(dtype=bool)
    )
    modes = in_mode_order(clf["mode"])
    untuned = [m for m in modes if not tuned.get(m, False)]
    if not untuned:
        how = (
            "each mode trained by the protocol chosen for it by cross-validation on labelled images "
            "(the last two tables of this section)"
        )
    elif len(untuned) == len(modes):
        how = "every mode trained by the untuned protocol (none was chosen by cross-validation)"
    else:
        how = (
            "each mode trained by the protocol chosen for it by cross-validation on labelled images, except "
            f"{listing(untuned)}, trained by the untuned protocol (none was chosen for {'it' if len(untuned) == 1 else 'them'})"
        )
    return (
        f"{count(n_enc, 'encoder')} of experiment 1 ({count(clf['seed'].nunique(), 'autoencoder seed')}) with num_conv = "
        f"{', '.join(map(str, nc))} and d in {sorted(set(clf['latent_dim'].tolist()))}; MLP widths h1 in "
        f"{sorted(set(clf['h1'].tolist()))}; modes {', '.join(in_mode_order(clf['mode']))}; "
        f"{count(len(clf['label_seed'].unique()), 'label draw')} of {int(tr['n_labels'].iloc[0])} labelled images "
        "per encoder, drawn from its autoencoder seed, d and num_conv (every encoder its own); "
        f"{how}; accuracy on {int(tr['n_test'].iloc[0]):,} test images, read once."
    )


def findings(s: dict, confidence: float = CONFIDENCE) -> str:
    """The accuracy by mode, the baselines and the best configuration (`s`: transfer_summaries)."""
    if not s:
        return ""
    by_mode = s["by_mode"].sort_values("mode", key=mode_sort_key)
    parts = [f"{r['mode']} {fmt_ci(ci_of(r, confidence), pct=True)}" for _, r in by_mode.iterrows()]
    text = (
        f"Mean test accuracy (over the encoders and h1), {interval_text(s['by_mode'], confidence)}: "
        f"{'; '.join(parts)}. The modes trained from a random "
        "initialisation (scratch, augmented) use no pre-trained weights, only the encoder's architecture "
        "(its latent size d and num_conv included); they are paired with the encoder slot (num_conv, d, seed) whose "
        "labelled images they share."
    )
    if not s["baselines"].empty:
        text += " " + baselines_markdown(s["baselines"], confidence) + "."
    cell = s["by_cell"].loc[s["by_cell"]["mean"].idxmax()]
    return text + (
        f" The best of the {len(s['by_cell'])} configurations (d × mode × h1, each averaged over its encoders) by "
        "test accuracy is "
        f"d={int(cell['latent_dim'])}, {cell['mode']}, h1={int(cell['h1'])} at {fmt_pct(cell['mean'])}: a "
        "maximum selected on the test set, so biased upwards and shown without an interval. "
        f"Chance is {fmt_pct(CHANCE)}."
    )


def baselines_markdown(baselines: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    """The raw-pixel baselines' accuracy with its interval over the autoencoder seeds their draws follow."""
    if baselines.empty:
        return ""
    return "Raw-pixel baselines on the same labelled images: " + "; ".join(
        f"{BASELINE_LABELS.get(r['mode'], r['mode'])} {fmt_ci(ci_of(r, confidence), pct=True, unit=SEEDS)}"
        for _, r in baselines.iterrows()
    )


def rules_markdown(rules: ReportParams) -> str:
    h1, min_acc = f"{100 * rules.h1_margin:g}", fmt_pct(rules.min_accuracy)
    a = f"{100 * (1 - rules.confidence):g}"
    return (
        "- In experiment 4 each encoder (one autoencoder of experiment 1) averages its label draws, its own (drawn "
        "from\n  its seed, d and num_conv), and its h1 widths except where h1 is compared; "
        + (
            "every encoder is an independent unit (its autoencoder seeded for its own cell). A difference of two "
            "modes is the\n  mean over the cells (each d, and each num_conv where there are several) of the "
            "encoders' mean differences in each, with a\n  Welch interval over the encoders (each cell its own "
            "spread; its detail line gives the per-d means); a mode against the stronger "
            "raw-pixel baseline of the same draw is decided the\n  same way; the trend over d is on the cell "
            "means, as above.\n"
            if rules.models_independent
            else "the seed, not the encoder, is the independent unit. A difference of two modes is, "
            "for each seed,\n  the mean over the cells (d, and num_conv where several) of its encoders' differences, and its interval is over the seeds (the "
            "encoders of one seed\n  share their autoencoders' batch order and part of their initialisation; its "
            "detail line gives the per-d means);\n  a mode against the stronger raw-pixel baseline of the same draw is "
            "decided the same way; the trend over d is each seed's own, as above.\n"
        )
        + "- *h1 matters little* (an equivalence test, TOST at "
        + a
        + " %): each encoder's accuracy at each h1 in the pre-trained modes\n  ("
        + " and ".join(PRETRAINED)
        + (
            ", mean over them), and every difference of two h1 values\n  (the smaller h1 − the larger) each "
            "encoder's own, their mean over the cells (d, and num_conv where several) with a Welch interval over "
            "the encoders; "
            if rules.models_independent
            else ", mean over them), averaged over each seed's encoders, and every difference of two h1 values\n  "
            "(the smaller h1 − the larger) each seed's own, its interval over the seeds; "
        )
        + "**supported** when every\n  difference's "
        f"{100 * tost_level(rules.confidence):g} % interval lies inside ±{h1} percentage points (both one-sided "
        f"tests at {a} %),\n  **contradicted** when one lies wholly outside it (its one-sided test at {a} % "
        "divided by the number of differences, Bonferroni):\n  the same family level both ways. **Inconclusive** "
        "otherwise, and when the "
        f"classifiers stay below {min_acc} accuracy\n  (`report.min_accuracy`), where any two widths are "
        "trivially alike. The margin (`report.h1_margin`) is fixed in\n  the parameter file before the data are "
        "seen, by practical relevance: the smallest difference in test\n  accuracy that would change which MLP "
        f"width a practitioner picks. Below {h1} points the widths would be chosen\n  on cost, not accuracy. The "
        'original\'s parenthetical, "a slight edge for a small MLP", is not tested.\n'
        "- Every protocol of experiment 4 was chosen where the rows of h1 and d say (one cell of the grid, or "
        "the encoders\n  of every d), which may favour its h1, d and num_conv.\n"
    )


def overview(data) -> Panel | None:
    s = transfer_summaries(data.usable(STAGE), data.rules.confidence)
    if not s:
        return None

    def draw(ax):
        by_d = in_percent(s["by_d"])  # in %, as the text and tables give accuracies
        ci_points(
            ax,
            by_d,
            "latent_dim",
            "mode",
            order=[tick(d) for d in sorted(by_d["latent_dim"].unique())],
            hue_order=in_mode_order(by_d["mode"]),
            palette=mode_palette(),
        )
        baselines_by_d(ax, in_percent(s["base"]), sorted(by_d["latent_dim"].unique()))
        lo, hi = ax.get_ylim()
        ax.set_ylim(max(lo, 0.0), min(hi, 100.0))
        return True  # its legend (the modes, the baselines) goes below the figure

    labels = s["clf"]["n_labels"].iloc[0] if "n_labels" in s["clf"] else None
    return Panel(
        "transfer accuracy",
        "test accuracy (%)",
        draw,
        f"test accuracy (%){f' with {int(labels)} labels' if labels else ''}, one colour per mode"
        + (", baselines grey" if s["base"] is not None and not s["base"].empty else ""),
    )


def text(data) -> str:
    """What was trained and what it shows, with this run's numbers."""
    tr = data.usable(STAGE)
    s = transfer_summaries(tr, data.rules.confidence)
    if not s:
        return ""
    aug = augment_words(data, CONTRASTS)
    return (
        runs_text(tr, s["clf"])
        + " "
        + unit_words(data.rules.models_independent)
        + " "
        + findings(s, data.rules.confidence)
        + (f" {aug}" if aug else "")
    )


def unit_words(independent: bool) -> str:
    """What the verdicts' intervals are over, for the design the runs record."""
    if independent:
        return (
            "Every encoder is an independent unit (its autoencoder seeded for its own cell): the tables' "
            "intervals are over the seeds (each seed's mean over its encoders), the verdicts' Welch intervals "
            f"over the {ENCODERS}."
        )
    return (
        "The encoders of one seed share their autoencoders' batch order and part of their initialisation, so "
        "the seed is the unit: the verdicts' intervals are over the seeds too."
    )


HEADLINES = (
    ("larger_d_better", "transfer accuracy{labels} ({pretrained}) {key}"),
    ("pretraining_beats_scratch", "pre-training vs scratch {key}"),
    ("pretraining_beats_control", "pre-training vs the augmented control {key}"),
    ("beats_baselines", "pre-training {key}"),
)


PRETRAINED_WORDS = {"frozen": "frozen", "finetune": "fine-tuned"}


def _pretrained_words(data) -> str:
    """'frozen and fine-tuned encoders': the pre-trained modes the transfer runs had."""
    modes = in_mode_order(_pretrained(data.usable(STAGE)).get("mode", pd.Series(dtype=str)))
    return f"{listing([PRETRAINED_WORDS.get(m, m) for m in modes] or ['pre-trained'])} encoders"


def _labels(data) -> str:
    tr = data.usable(STAGE)
    return f" with {int(tr['n_labels'].iloc[0])} labels" if "n_labels" in tr and not tr.empty else ""


NARRATIVE = """
Every table's interval is over autoencoder seeds, taken on encoder-level means: each encoder (one
autoencoder of experiment 1: its num_conv, d and seed) first averages its label draws (and, where the table
says so, the other factors), so the interval carries both the encoder's and the label draw's
variation, and n is the number of seeds, never the number of records. An encoder's label draws and
its classifiers' initialisations are its own, derived from its autoencoder seed, d and num_conv; the
modes trained from a random initialisation (scratch and the augmented control) and the raw-pixel
baselines vary with the encoder too and take the same unit. What the verdicts' intervals are over is
said with the findings below.

How each mode is trained (steps, learning rate, weight decay, augmentation; for fine-tuning a head
warm-up and a lower encoder learning rate) was chosen per mode by cross-validation on labelled
training images, with the same number of candidates and folds for every mode; the test set is read
once, for the numbers below. `augmented` is the strong control: the same CNN as `scratch`, on the
labelled images alone, always trained on shifted and rotated copies; `scratch`, like every other
mode, trains on them only where its cross-validation chooses to.
"""


EXPERIMENT = Experiment(
    name=STAGE,
    order=4,
    stages=(STAGE,),
    ranges=dict.fromkeys(("accuracy", "train_accuracy", "cv_accuracy"), ACCURACY),
    seeds={  # transfer's and its protocol search's (the protocol stage has no section of its own)
        "label-draw": (
            "the labelled images each encoder's transfer, protocol and semi-supervised runs draw",
            True,
        ),
        "scratch-encoder": ("the random encoder initialisation of the scratch and augmented controls", True),
        "head": ("the classifier heads' initialisation", True),
        "augment": ("the shifted and rotated copies a classifier trains on", True),
        "folds": ("the protocol search's cross-validation folds", True),
        "cv": ("the initialisation of the protocol search's fold classifiers", True),
        "protocol-search": ("the order in which protocol candidates are drawn", False),
    },
    claims={
        "h1_matters_little": Claim("4", STAGE, verdict_h1_matters_little, note=tuned_note),
        "larger_d_better": Claim("4", STAGE, verdict_larger_d_better, note=tuned_note),
        "finetune_beats_frozen": Claim(
            "4",
            STAGE,
            verdict_finetune_beats_frozen,
            note=contrast_note(*FINETUNE_FROZEN),
            detail=contrast_by_d(*FINETUNE_FROZEN),
        ),
        "pretraining_beats_scratch": Claim(
            "4+",
            STAGE,
            verdict_pretraining_beats_scratch,
            note=contrast_note(*FINETUNE_SCRATCH),
            detail=contrast_by_d(*FINETUNE_SCRATCH),
        ),
        "pretraining_beats_control": Claim(
            "4+",
            STAGE,
            verdict_pretraining_beats_control,
            note=contrast_note(*FINETUNE_CONTROL),
            detail=contrast_by_d(*FINETUNE_CONTROL),
        ),
        "beats_baselines": Claim("4+", STAGE, verdict_beats_baselines, detail=baselines_detail),
    },
    rules=rules_markdown,
    key_effects=lambda data, v: key_effects(
        v, HEADLINES, labels=_labels(data), pretrained=_pretrained_words(data)
    ),
    overview=overview,
    choices=choices,
    limitations=lambda data: (
        f"In experiment 4 every protocol was chosen on {tuned_on(data)} and then used "
        f"at every {listing(untuned(data))} the runs have, which may favour "
        + ("that cell" if one_cell(data) else "those encoders")
        + "; the notes under experiment 4's verdicts say so."
        if tuned_note(data)
        else ""
    ),
    title="Experiment 4: transfer learning with few labels",
    narrative=NARRATIVE,
    text=text,
    sections=(
        section.figure(summaries.summary, "transfer.png"),
        section.table(lambda data: summaries.by(data, "latent_dim")),
        section.table(lambda data: summaries.by(data, "h1")),
        section.table(summaries.accuracy_by_mode),
        section.table(summaries.protocols),
    ),
)
