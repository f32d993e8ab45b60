"""Experiment 4, transfer learning with 100 labels, and the checks added to it (4+): its claims
(h1 matters little, larger d better, fine-tuning beats frozen, pre-training beats scratch, the
augmented control and the raw-pixel baselines), how they are decided, what the section says and
its panel of the page-1 figure. The data's shape, tables and figure are in `transfer_data`."""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from ...report_params import ReportParams
from ...vocabulary import BASELINE_LABELS, in_mode_order, mode_palette, mode_sort_key
from ...science.plots import _baseline_lines
from ..claims import NO_RUNS, Claim, Experiment, key_effects, row, trend_row
from ..decide import INCONCLUSIVE, direction, equivalence
from ..figures import Panel, ci_points, tick
from ..sentences import ci_of
from ..stats import CONFIDENCE, SEED
from ..text import SEEDS, fmt_ci, fmt_pct, fmt_pp, fmt_pp_ci
from .transfer_choices import choices, tuned_note, tuned_on
from .transfer_data import ENCODER, encoder_means, interval_text, transfer_parts, transfer_summaries

STAGE = "transfer"
DEFAULT = ReportParams()
CHANCE = 0.10                # ten classes
PRETRAINED = ("frozen", "finetune")  # transfer modes whose encoder was trained as an autoencoder


# ------------------------------------------------------------------ claims (encoder-level means)

def _pretrained(tr: pd.DataFrame) -> pd.DataFrame:
    clf, _ = transfer_parts(tr)
    return clf[clf["mode"].isin(PRETRAINED)] if not clf.empty else clf


def verdict_h1_matters_little(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    """Equivalence: per seed, the mean accuracy of each h1 (frozen and finetune, every d, label
    draws averaged within each encoder first); every difference between two h1 values must lie
    within +-report.h1_margin. Not judged below report.min_accuracy."""
    c = "h1 matters little (a slight edge for a small MLP)"
    clf = _pretrained(tr)
    if clf.empty:
        return row("4", c, NO_RUNS)
    per = encoder_means(clf, ["h1"]).groupby([SEED, "h1"])["accuracy"].mean().unstack("h1")
    hs = sorted(per.columns)
    if len(hs) < 2:
        return row("4", c, f"needs two h1 values (has {hs})")
    dec = equivalence(pd.DataFrame({f"h1={a} − h1={b}": per[a] - per[b] for a, b in combinations(hs, 2)}),
                      rules.h1_margin, rules.confidence)
    means = per.mean()
    spread = seed_spread(clf)
    numbers = ("mean accuracy by h1 (frozen+finetune): " + ", ".join(f"{h}: {fmt_pct(m)}" for h, m in means.items())
               + f"; farthest difference ({dec['worst']}): {fmt_ci(dec['cis'][dec['worst']], f=fmt_pp, unit=SEEDS)} "
               f"(TOST at {100 * (1 - rules.confidence):g} %); margin ±{100 * rules.h1_margin:g} points "
               f"(report.h1_margin); seed-to-seed SD of one classifier's accuracy: "
               f"{fmt_pp(spread).replace('+', '') if np.isfinite(spread) else 'n/a'}; best h1 = {means.idxmax()}"
               + (" (the smallest)" if means.idxmax() == hs[0] else ""))
    if means.max() < rules.min_accuracy:
        dec = {**dec, "verdict": INCONCLUSIVE, "p": float("nan")}
        numbers += f"; classifiers below {fmt_pct(rules.min_accuracy)} (report.min_accuracy): not judged"
    return row("4", c, numbers, dec, key=f"largest gap {fmt_pp_ci(dec['cis'][dec['worst']])}, "
                f"margin ±{100 * rules.h1_margin:g}")


def seed_spread(clf: pd.DataFrame) -> float:
    """The seed-to-seed standard deviation of one configuration's accuracy (d, h1, mode; label
    draws averaged within each encoder), pooled over the configurations: what changing the
    autoencoder seed alone does, against which the h1 margin is set."""
    cells = encoder_means(clf, ["h1", "mode"]).groupby(["latent_dim", "num_conv", "h1", "mode"])["accuracy"]
    var = cells.var(ddof=1).dropna()
    return float(np.sqrt(var.mean())) if len(var) else float("nan")


def verdict_larger_d_better(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    clf = _pretrained(tr)
    enc = encoder_means(clf) if not clf.empty else clf
    return trend_row("4", "Larger d is better (transfer accuracy)", enc, "latent_dim", "accuracy", "num_conv",
                     +1, rules, "accuracy by d (frozen+finetune, mean)", "unit of d", f=fmt_pct, of_error=True)


def _encoder_diffs(rows: pd.DataFrame, other: pd.Series | None = None, a: str = "", b: str = "") -> pd.Series:
    """Per seed: the mean over its encoders of accuracy(a) - accuracy(b) (matched h1 and label
    draw, averaged within each encoder), or of accuracy(a, mean over h1) - `other`[seed, label draw]."""
    p = rows.pivot_table(index=ENCODER + ["h1", "label_seed"], columns="mode", values="accuracy", aggfunc="mean")
    if other is None:
        diff = p[a] - p[b]
    else:
        acc = p[a].groupby(level=ENCODER + ["label_seed"]).mean()
        keys = list(zip(acc.index.get_level_values(SEED), acc.index.get_level_values("label_seed")))
        diff = acc - other.reindex(pd.MultiIndex.from_tuples(keys, names=[SEED, "label_seed"])).to_numpy()
    enc = diff.dropna().groupby(level=ENCODER).mean()
    return enc.groupby(level=SEED).mean()


def _mode_verdict(tr, a: str, b: str, c: str, experiment: str, rules: ReportParams) -> dict:
    clf, _ = transfer_parts(tr)
    if clf.empty or not {a, b} <= set(clf["mode"]):
        return row(experiment, c, f"needs modes {a} and {b}" if not clf.empty else NO_RUNS)
    dec = direction(_encoder_diffs(clf, a=a, b=b), +1, rules.confidence)
    m = clf.groupby("mode")["accuracy"].mean()
    return row(experiment, c, f"mean accuracy {a}: {fmt_pct(m[a])}, {b}: {fmt_pct(m[b])}; difference "
                f"({a} − {b}, encoder-level means): {fmt_ci(dec, f=fmt_pp, unit=SEEDS)}", dec,
                key=fmt_pp_ci(dec))


def verdict_finetune_beats_frozen(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return _mode_verdict(tr, "finetune", "frozen", "Fine-tuning beats the frozen encoder", "4", rules)


def verdict_pretraining_beats_scratch(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return _mode_verdict(tr, "finetune", "scratch",
                         "Pre-training beats the same network trained from scratch (finetune vs scratch)", "4+", rules)


def verdict_pretraining_beats_control(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return _mode_verdict(tr, "finetune", "augmented", "Pre-training beats the augmented CNN control "
                         "(finetune vs augmented)", "4+", rules)


def verdict_beats_baselines(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    """The pre-trained encoders at the largest d (finetune, else frozen; mean over h1) against the
    stronger of the two raw-pixel baselines on the same label draw."""
    c = "Pre-training beats raw-pixel baselines (logistic regression, 1-NN)"
    clf, base = transfer_parts(tr)
    if clf.empty or base.empty:
        return row("4+", c, NO_RUNS if clf.empty else "no baseline records")
    dmax = int(clf["latent_dim"].max())
    top = clf[clf["latent_dim"] == dmax]
    mode = next((m for m in ("finetune", "frozen") if m in set(top["mode"])), None)
    if mode is None:
        return row("4+", c, "needs frozen or finetune records")
    bpiv = base.pivot_table(index=[SEED, "label_seed"], columns="mode", values="accuracy")
    dec = direction(_encoder_diffs(top, other=bpiv.max(axis=1), a=mode), +1, rules.confidence)
    numbers = (f"{mode} (d={dmax}): {fmt_pct(top.loc[top['mode'] == mode, 'accuracy'].mean())}; "
               + ", ".join(f"{m}: {fmt_pct(bpiv[m].mean())}" for m in bpiv.columns)
               + f"; difference ({mode} − stronger baseline of the same label draw, encoder-level means): "
               + fmt_ci(dec, f=fmt_pp, unit=SEEDS))
    return row("4+", c, numbers, dec, key=f"{fmt_pp_ci(dec)} over the stronger baseline")


# ------------------------------------------------------------------ what the section says

def runs_text(tr: pd.DataFrame, clf: pd.DataFrame) -> str:
    """What was trained: encoders, MLP widths, label draws, protocols and the test set."""
    nc = sorted(set(clf["num_conv"].astype(int).tolist())) if "num_conv" in clf else "?"
    n_enc = len(clf[["num_conv", "latent_dim", "seed"]].drop_duplicates())
    return (f"{n_enc} encoders of experiment 1 ({clf['seed'].nunique()} autoencoder seeds) with num_conv = "
            f"{', '.join(map(str, nc))} and d in {sorted(set(clf['latent_dim'].tolist()))}; MLP widths h1 in "
            f"{sorted(set(clf['h1'].tolist()))}; modes {', '.join(in_mode_order(clf['mode']))}; "
            f"{len(clf['label_seed'].unique())} label draw(s) of {int(tr['n_labels'].iloc[0])} labelled images "
            "per encoder, drawn from its autoencoder seed (the encoders of one seed share their draws); "
            "each mode trained by the protocol chosen for it by cross-validation on labelled images "
            f"(the last two tables of this section); accuracy on {int(tr['n_test'].iloc[0]):,} test images, read once.")


def findings(s: dict, confidence: float = CONFIDENCE) -> str:
    """The accuracy by mode, the baselines and the best configuration (`s`: transfer_summaries)."""
    if not s:
        return ""
    by_mode = s["by_mode"].sort_values("mode", key=mode_sort_key)
    parts = [f"{r['mode']} {fmt_ci(ci_of(r, confidence), pct=True)}" for _, r in by_mode.iterrows()]
    text = (f"Mean test accuracy (over d and h1), {interval_text(s['by_mode'], confidence)}: "
            f"{'; '.join(parts)}. The intervals are taken over encoder-level means: each encoder's label "
            "draws are averaged first, then the interval is over the autoencoder seeds. Each seed's "
            "encoders get their own label draws (derived from the seed), so the interval carries the "
            "variation between encoders and between draws. The modes trained from a random "
            "initialisation (scratch, augmented) use no pre-trained weights; they are paired with the "
            "encoder slot (d, seed) whose label draw they share.")
    if not s["baselines"].empty:
        text += " " + baselines_markdown(s["baselines"], confidence) + "."
    cell = s["by_cell"].loc[s["by_cell"]["mean"].idxmax()]
    return text + (f" The best of the {len(s['by_cell'])} configurations (d × mode × h1) by test accuracy is "
                   f"d={int(cell['latent_dim'])}, {cell['mode']}, h1={int(cell['h1'])} at {fmt_pct(cell['mean'])}: a "
                   "maximum selected on the test set, so biased upwards and shown without an interval. "
                   f"Chance is {fmt_pct(CHANCE)}.")


def baselines_markdown(baselines: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    """The raw-pixel baselines' accuracy with its interval over the autoencoder seeds their draws follow."""
    if baselines.empty:
        return ""
    return "Raw-pixel baselines on the same labelled images: " + "; ".join(
        f"{BASELINE_LABELS.get(r['mode'], r['mode'])} {fmt_ci(ci_of(r, confidence), pct=True, unit=SEEDS)}"
        for _, r in baselines.iterrows())

def rules_markdown(rules: ReportParams) -> str:
    h1, min_acc = f"{100 * rules.h1_margin:g}", fmt_pct(rules.min_accuracy)
    a = f"{100 * (1 - rules.confidence):g}"
    return ("- *h1 matters little* (an equivalence test, TOST at " + a + " %): per seed, every difference of mean\n"
            "  accuracy between two h1 values; **supported** when every difference's "
            f"{100 * (1 - 2 * (1 - rules.confidence)):g} % interval lies inside\n"
            f"  ±{h1} percentage points (both one-sided tests at {a} %), **contradicted** when one lies wholly "
            f"outside it\n  (one one-sided test at {a} %, Bonferroni over the differences): the same level both ways. "
            "**Inconclusive**\n  otherwise, and when the classifiers stay below "
            f"{min_acc} accuracy (`report.min_accuracy`), where any two widths\n  are trivially alike. The margin "
            "(`report.h1_margin`) is fixed in the parameter file before the data are seen, from\n  the seed-to-seed "
            "spread: an h1 effect smaller than what changing the autoencoder seed alone does to a\n  classifier's "
            "accuracy is one no single run could see. The row prints this run's seed-to-seed standard\n  deviation "
            "of one configuration's accuracy beside the margin, so a reader can check that the margin exceeds it.\n"
            "- Every protocol of experiment 4 was chosen on one cell of the grid (the rows of h1 and d say which), "
            "which may\n  favour that cell's h1 and d.\n")


def overview(data) -> Panel | None:
    s = transfer_summaries(data.usable(STAGE), data.rules.confidence)
    if not s:
        return None

    def draw(ax):
        by_d = s["by_d"]
        ci_points(ax, by_d, "latent_dim", "mode", order=[tick(d) for d in sorted(by_d["latent_dim"].unique())],
                  hue_order=in_mode_order(by_d["mode"]), palette=mode_palette())
        _baseline_lines(ax, s["base"])
        lo, hi = ax.get_ylim()
        ax.set_ylim(max(lo, 0.0), min(hi, 1.0))
        return True                       # its legend (the modes, the baselines) goes below the figure

    labels = s["clf"]["n_labels"].iloc[0] if "n_labels" in s["clf"] else None
    return Panel("transfer accuracy", "test accuracy", draw,
                 f"test accuracy{f' with {int(labels)} labels' if labels else ''}, baselines grey")


def text(data) -> str:
    """What was trained and what it shows, with this run's numbers."""
    tr = data.usable(STAGE)
    s = transfer_summaries(tr, data.rules.confidence)
    return "" if not s else runs_text(tr, s["clf"]) + " " + findings(s, data.rules.confidence)


HEADLINES = (("larger_d_better", "transfer accuracy{labels} {key}"),
             ("pretraining_beats_scratch", "pre-training vs scratch {key}"),
             ("pretraining_beats_control", "pre-training vs the augmented control {key}"),
             ("beats_baselines", "pre-training {key}"))


def _labels(data) -> str:
    tr = data.usable(STAGE)
    return f" with {int(tr['n_labels'].iloc[0])} labels" if "n_labels" in tr and not tr.empty else ""


EXPERIMENT = Experiment(
    name=STAGE, order=4, stages=(STAGE,),
    claims={"h1_matters_little": Claim("4", STAGE, verdict_h1_matters_little, note=tuned_note),
            "larger_d_better": Claim("4", STAGE, verdict_larger_d_better, note=tuned_note),
            "finetune_beats_frozen": Claim("4", STAGE, verdict_finetune_beats_frozen),
            "pretraining_beats_scratch": Claim("4+", STAGE, verdict_pretraining_beats_scratch),
            "pretraining_beats_control": Claim("4+", STAGE, verdict_pretraining_beats_control),
            "beats_baselines": Claim("4+", STAGE, verdict_beats_baselines)},
    rules=rules_markdown, key_effects=lambda data, v: key_effects(v, HEADLINES, labels=_labels(data)),
    overview=overview, choices=choices,
    limitations=lambda data: (f"In experiment 4 every protocol was chosen on one cell ({tuned_on(data)}) and then "
                              "used to compare h1 and d, which may favour that cell; the verdicts on h1 and d say so."
                              if tuned_note(data) else ""))
