"""Experiment 4's data as the report shapes it: the transfer rows split into classifiers and
raw-pixel baselines, encoder-level means, the summaries every transfer interval is taken over,
the protocol tables and the summary figure. (Its claims and sentences are in `transfer`.)"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ...drawing import baseline_lines as _baseline_lines
from ...report.figures import WIDTH, ci_points, style
from ...report.stats import CONFIDENCE, SEED, summarise
from ...report.tables import ci_columns, ci_table
from ...report.text import SEEDS, as_written, count, inside_noise, interval_words, lead_and_error, tied
from ...search_rule import first_best
from ...vocabulary import (
    BASELINE_NAMES,
    BASELINE_STYLE,
    BASELINES,
    in_mode_order,
    mode_palette,
    mode_sort_key,
)
from .choices import candidates_per_mode, draws_of, flag, several_draws, tuned_on

STAGE = "transfer"

ENCODER = ["num_conv", "latent_dim", SEED]  # one encoder (an autoencoder of experiment 1)
CELLS = ["num_conv", "latent_dim"]  # experiment 4's cells: the encoders of one d and num_conv


def several_num_conv(tr: pd.DataFrame) -> bool:
    """Whether experiment 4's encoders have several num_conv (its cells then (num_conv, d))."""
    return "num_conv" in tr and tr["num_conv"].nunique() > 1


def over_cells(tr: pd.DataFrame) -> str:
    """What a mean over experiment 4's cells is over: 'd', or 'd and num_conv' (`several_num_conv`)."""
    return "d and num_conv" if several_num_conv(tr) else "d"


def transfer_parts(tr: pd.DataFrame):
    """(classifier records, baseline records) of the usable transfer rows. Every encoder draws
    its own labels (from its seed, d and num_conv, and the label seed: `transfer.run.draw_key`),
    and its run fits the raw-pixel baselines on its draws: a baseline record belongs to its
    encoder and label seed, and is compared with that encoder's classifiers alone."""
    if tr is None or tr.empty or "mode" not in tr:
        return pd.DataFrame(), pd.DataFrame()
    tr = tr.copy()
    is_base = tr["mode"].isin(BASELINES)
    clf = tr[~is_base].copy()
    if not clf.empty:
        clf["h1"] = clf["h1"].astype(int)
        clf["latent_dim"] = clf["latent_dim"].astype(int)
    base = tr[is_base].copy()
    if not base.empty:
        base["latent_dim"] = base["latent_dim"].astype(int)
        base = base.groupby(["mode", *ENCODER, "label_seed"], as_index=False)["accuracy"].mean()
    return clf.reset_index(drop=True), base


def encoder_means(clf: pd.DataFrame, by=()) -> pd.DataFrame:
    """Accuracy per encoder (and per `by`), the label draws (and whatever is not in `by`)
    averaged within it: the rows every transfer interval is taken over."""
    return clf.groupby(ENCODER + list(by), as_index=False)["accuracy"].mean()


def _accuracy_summary(clf: pd.DataFrame, by: list[str], confidence: float) -> pd.DataFrame:
    """summarise() of the accuracy over autoencoder seeds of encoder-level means. The modes trained
    from a random initialisation (scratch, augmented) use no pre-trained weights, but each
    encoder slot (num_conv, d, seed) has its own label draw and initialisation, so the same unit holds."""
    means = clf.groupby(ENCODER + ["mode", "h1"], as_index=False)["accuracy"].mean()
    return summarise(means, by, "accuracy", confidence=confidence)


def transfer_summaries(tr: pd.DataFrame, confidence: float = CONFIDENCE) -> dict:
    """Accuracy by (h1, mode), (d, mode), mode and (d, mode, h1): means with t-intervals over
    autoencoder seeds of encoder-level means (the label draws averaged within each encoder
    first); the baselines' over seeds of their label draws (a draw follows the seed)."""
    clf, base = transfer_parts(tr)
    if clf.empty:
        return {}
    s = {
        name: _accuracy_summary(clf, by, confidence)
        for name, by in (
            ("by_h1", ["h1", "mode"]),
            ("by_d", ["latent_dim", "mode"]),
            ("by_mode", ["mode"]),
            ("by_cell", ["latent_dim", "mode", "h1"]),
        )
    }
    s["baselines"] = (
        summarise(base, ["mode"], "accuracy", confidence=confidence) if not base.empty else pd.DataFrame()
    )
    return {**s, "clf": clf, "base": base}


def protocol_table(clf: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per mode: accuracy on the labelled training images, the cross-validation accuracy of the
    protocol chosen for it (on the protocol stage's labelled images) and the test accuracy."""
    if clf.empty:
        return pd.DataFrame()
    means = clf.groupby(ENCODER + ["mode", "h1"], as_index=False)[["train_accuracy", "accuracy"]].mean()
    t = ci_columns(means, ["mode"], {"train": "train_accuracy", "test": "accuracy"}, confidence, pct=True)
    if "cv_accuracy" in clf and clf["cv_accuracy"].notna().any():
        cv = clf.groupby("mode")["cv_accuracy"].first()
        t.insert(
            2,
            "cross-validation (selected)",
            [f"{100 * cv[m]:.1f} %" if pd.notna(cv.get(m)) else "–" for m in t["mode"]],
        )
    return t.sort_values("mode", key=mode_sort_key)


PROTOCOL_FIELDS = ["steps", "lr", "weight_decay", "augment", "warmup", "encoder_lr"]


LEAD = "lead over runner-up"  # the chosen protocol's CV accuracy minus the next best's (points)
TIE = "a tie"  # a lead of exactly 0: the search took the first of the candidates with the best accuracy


def selections(protocol: pd.DataFrame) -> pd.DataFrame:
    """Per mode (in the records' order): the chosen candidate's lead over the runner-up and the
    standard error of that lead (`text.lead_and_error`), whether it is inside the noise and whether
    it is a tie (a lead of exactly 0: the search took the first); NaN and False where the mode has
    one candidate or its runs recorded no errors."""
    p = protocol.copy()
    p["chosen"] = flag(p["chosen"])
    rows = []
    for mode, g in p.groupby("mode", sort=False):
        se = g.loc[g["chosen"], "cv_se"].iloc[0] if "cv_se" in g else None
        lead = error = float("nan")
        if se is not None and pd.notna(se) and len(g) > 1:
            lead, error = lead_and_error(
                list(g["cv_accuracy"]), list(g["cv_se"]), list(g["chosen"]).index(True)
            )
        led = not pd.isna(lead)
        rows.append(
            {
                "mode": mode,
                "lead": lead,
                "error": error,
                "inside": led and inside_noise(lead, error),
                "tie": led and tied(lead),
            }
        )
    return pd.DataFrame(rows, columns=["mode", "lead", "error", "inside", "tie"])


# on how many label draws, each on its own, the chosen protocol had the best CV accuracy
DRAWS_LED = "draws led"


def draws_led(data) -> dict[str, tuple[int, int]]:
    """Per mode whose search scored several label draws (or encoders): (on how many draws, each on its
    own, the chosen candidate had the best mean CV accuracy, how many draws), from each protocol run's fold
    accuracies (`cv_folds`, each draw's `folds` in turn; ties go to the earlier candidate, as in the
    search). A choice that leads every draw is steadier than one a single draw carries."""
    p = data.usable("protocol")
    out = {}
    if p.empty or not {"run_id", "mode", "chosen"} <= set(p.columns):
        return out
    for (run_id, mode), g in p.groupby(["run_id", "mode"], sort=False):
        m = data.run_metrics("protocol", str(run_id)) or {}
        folds, per_cand = m.get("folds"), (m.get("cv_folds") or {}).get(str(mode))
        if not folds or not per_cand or len(per_cand) != len(g) or len(per_cand[0]) < 2 * folds:
            continue
        chosen = list(flag(g["chosen"])).index(True)
        n = len(per_cand[0]) // folds
        means = [[sum(c[i * folds : (i + 1) * folds]) / folds for c in per_cand] for i in range(n)]
        led = sum(first_best(d) == chosen for d in means)
        out[str(mode)] = (led, n)
    return out


def chosen_protocols(protocol: pd.DataFrame) -> pd.DataFrame:
    """Per mode: the protocol cross-validation chose, its accuracy, and the number of candidates
    tried and their accuracy range (the protocol stage's records, one per candidate)."""
    if protocol is None or protocol.empty or "chosen" not in protocol:
        return pd.DataFrame()
    p = protocol.copy()
    p["chosen"] = flag(p["chosen"])
    picked = selections(p).set_index("mode")
    rows = []
    for mode, g in p.groupby("mode", sort=False):
        best = g[g["chosen"]].iloc[0]
        se = best.get("cv_se") if "cv_se" in g else None
        row = {
            "mode": mode,
            **{f: as_written(best[f]) for f in PROTOCOL_FIELDS if f in g},
            "CV accuracy": f"{100 * best['cv_accuracy']:.1f} %"
            + (f" ± {100 * se:.1f}" if se is not None and pd.notna(se) else ""),
            "candidates": f"{len(g)} ({100 * g['cv_accuracy'].min():.0f}–{100 * g['cv_accuracy'].max():.0f} %)",
        }
        sel = picked.loc[mode]
        if not pd.isna(sel["lead"]):
            row[LEAD] = f"{100 * sel['lead']:.1f}" + (
                f" (inside noise: {TIE})" if sel["tie"] else " (inside noise)" if sel["inside"] else ""
            )
        rows.append(row)
    t = pd.DataFrame(rows).astype(object)
    if "augment" in t:
        t["augment"] = flag(t["augment"]).map({True: "yes", False: "no"})
    if "warmup" in t:
        t.loc[t["mode"] != "finetune", ["warmup", "encoder_lr"]] = "–"
    return t.sort_values("mode", key=mode_sort_key)


def in_percent(
    summary: pd.DataFrame | None, cols=("mean", "ci_lo", "ci_hi", "accuracy")
) -> pd.DataFrame | None:
    """A copy with its accuracies in percent: the figure's axis speaks the unit of the text and tables."""
    if summary is None or summary.empty:
        return summary
    return summary.assign(**{c: 100 * summary[c] for c in cols if c in summary})


def _by_mode_points(ax, by_mode: pd.DataFrame, modes: list[str]) -> None:
    """Panel (c): one point per mode, each in its colour of the legend's palette."""
    palette = mode_palette()
    for m in modes:
        ci_points(
            ax,
            by_mode[by_mode["mode"] == m],
            "mode",
            None,
            order=modes,
            line=False,
            palette={None: palette[m]},
        )


def baselines_by_d(ax, baselines: pd.DataFrame | None, ds: list) -> None:
    """The raw-pixel baselines in a panel by latent size d: each d's mean, the baselines fitted on
    that d's encoders' own label draws, joined across the d (at the panel's positions 0, 1, ...);
    a flat line at the mean over every d would hide that the draws differ."""
    if baselines is None or baselines.empty:
        return
    if "latent_dim" not in baselines:
        _baseline_lines(ax, baselines)
        return
    for name, g in baselines.groupby("mode"):
        means = g.groupby("latent_dim")["accuracy"].mean().reindex(ds)
        ax.plot(
            range(len(ds)),
            means.to_numpy(),
            lw=1.2,
            label=BASELINE_NAMES.get(name, name),
            **BASELINE_STYLE.get(name, {}),
        )


def summary_figure(
    by_h1: pd.DataFrame,
    by_d: pd.DataFrame,
    by_mode: pd.DataFrame,
    baselines: pd.DataFrame | None,
    n_labels: int = 100,
    num_conv: bool = False,
):
    """Accuracy (%) by h1, by d and by mode: mean over autoencoder seeds of encoder-level means with
    the t-interval, baselines as lines, one colour per mode in every panel. The shared axis spans
    the data, kept within 0 and 100 % (the numbers of a clipped interval are in the report's tables).
    `num_conv`: the encoders have several num_conv, which every panel averages too."""
    by_h1, by_d, by_mode, baselines = (in_percent(t) for t in (by_h1, by_d, by_mode, baselines))
    with style():
        fig, axes = plt.subplots(1, 3, figsize=(WIDTH, 2.9), sharey=True)
        modes = in_mode_order(by_mode["mode"])
        ci_points(axes[0], by_h1, "h1", "mode", hue_order=modes, palette=mode_palette())
        axes[0].set_xlabel("MLP width h1")
        ci_points(axes[1], by_d, "latent_dim", "mode", hue_order=modes, palette=mode_palette())
        axes[1].set_xlabel("latent size d")
        _by_mode_points(axes[2], by_mode, modes)
        axes[2].set_xlabel("mode")
        plt.setp(axes[2].get_xticklabels(), rotation=25, ha="right")  # four names in a third of the width
        for ax in (axes[0], axes[2]):
            _baseline_lines(ax, baselines)
        baselines_by_d(axes[1], baselines, sorted(by_d["latent_dim"].unique()))
        axes[0].set_ylabel(f"test accuracy (%, {n_labels} labels)")
        nc = ", num_conv" if num_conv else ""
        axes[0].set_title(f"(a) by h1\n(mean over d{nc})")  # on two lines: a third of the width each
        axes[1].set_title(f"(b) by d\n(mean over h1{nc})")
        axes[2].set_title(f"(c) by mode\n(mean over d, h1{nc})")
        handles, labels = axes[1].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False)
        lo, hi = axes[0].get_ylim()
        axes[0].set_ylim(max(lo, 0.0), min(hi, 100.0))
        fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


# ------------------------------------------------------------------ the section's tables and figures, captioned


def interval_text(summary: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    """Level, unit and n of a transfer summary's intervals: autoencoder seeds (encoder-level means)."""
    return interval_words(confidence, summary["n"], SEEDS) + " (encoder-level means)"


def summary(data):
    """(accuracy figure by h1, d and mode, caption)."""
    tr, c = data.usable(STAGE), data.rules.confidence
    s = transfer_summaries(tr, c)
    if not s:
        return None, ""
    n_labels = int(tr["n_labels"].iloc[0])
    several = several_num_conv(tr)
    fig = summary_figure(s["by_h1"], s["by_d"], s["by_mode"], s["base"], n_labels=n_labels, num_conv=several)
    lo = fig.axes[0].get_ylim()[0]
    return fig, (
        f"Test accuracy (%) of the classifiers trained on {n_labels} labels, (a) by MLP width h1 (mean over d"
        + (", num_conv" if several else "")
        + "), (b) by latent size d (mean over h1"
        + (", num_conv" if several else "")
        + "), (c) by mode (mean over d"
        + (", num_conv" if several else "")
        + " and h1), each mode in its colour of the legend; "
        + (
            "grey lines: raw-pixel baselines on the same labels (in (b) each d's, fitted on its encoders' own "
            "label draws; elsewhere their mean over every d). "
            if s["base"] is not None and not s["base"].empty
            else ""
        )
        + "Points: mean over encoder-level means; bars: "
        f"{interval_text(pd.concat([s[k][['n']] for k in ('by_h1', 'by_d', 'by_mode')]), c)}"
        + (
            " (a point of one seed has no bar)"
            if min(int(s[k]["n"].min()) for k in ("by_h1", "by_d", "by_mode")) < 2
            else ""
        )
        + "."
        + (
            f" The accuracy axis starts at {lo:.0f} %, not at 0: read differences against the bars."
            if lo > 0.5
            else ""
        )
    )


def by(data, factor: str):
    """(accuracy table by `factor` ('latent_dim' or 'h1') and mode, caption)."""
    s = transfer_summaries(data.usable(STAGE), data.rules.confidence)
    if not s:
        return pd.DataFrame(), ""
    key, other = {"latent_dim": ("by_d", "h1"), "h1": ("by_h1", "d")}[factor]
    other += " and num_conv" if several_num_conv(data.usable(STAGE)) else ""
    what = {"latent_dim": "latent size d", "h1": "MLP width h1"}[factor]
    return ci_table(s[key], factor, "mode"), (
        f"Mean test accuracy by {what} and mode, averaged over {other}: mean [interval] of encoder-level means, "
        f"{interval_text(s[key], data.rules.confidence)}."
    )


def accuracy_by_mode(data):
    """(train / cross-validation / test accuracy by mode, caption)."""
    s = transfer_summaries(data.usable(STAGE), data.rules.confidence)
    if not s:
        return pd.DataFrame(), ""
    return protocol_table(s["clf"], data.rules.confidence), (
        "Accuracy by mode on the labelled training images (train) and on the test set: mean [interval] of "
        f"encoder-level means, {interval_text(s['by_mode'], data.rules.confidence)}. Cross-validation: one number "
        "per mode, the protocol search's, on the labelled images it searched (the protocols' table below says "
        "whose): its chosen candidate's mean over the folds, the best of the candidates, so selected and "
        "biased upwards; no interval."
    )


def protocols(data):
    """(the protocol chosen per mode, caption)."""
    p = data.usable("protocol")
    if p.empty:
        return pd.DataFrame(), ""
    t, led, draws = chosen_protocols(p), draws_led(data), draws_of(data)
    if led and not t.empty:
        t[DRAWS_LED] = [f"{led[m][0]} of {led[m][1]}" if m in led else "–" for m in t["mode"]]
    return t, (
        f"The protocol chosen for each mode by {int(p['folds'].iloc[0])}-fold cross-validation on the "
        f"{int(p['n_labels'].iloc[0])} labelled training images of "
        + f"{draws}, on {tuned_on(data)}, "
        + candidates_words(p)
        + " (the untuned protocol, 100 full-batch AdamW steps at 1e-3 without weight decay, first; the "
        "rest drawn at random from the search space of the parameter file). CV accuracy: the chosen candidate's, "
        "the best of the candidates (selected), ± its standard error over the folds"
        + (" of every draw" if several_draws(data) else "")
        + ". "
        "Candidates: how many were tried and the range of their cross-validation accuracy. "
        "steps: full-batch AdamW steps; augment: on shifted and rotated copies of the labelled images, redrawn "
        "every step; warmup (fine-tuning): the first steps train the head alone; encoder_lr (fine-tuning): the "
        "encoder's learning rate as a fraction of lr; –: a choice the mode does not have."
        + noise_words(p)
        + (
            f" {DRAWS_LED.capitalize()}: on how many of the label draws, each scored on its own, the chosen protocol "
            "had the best CV accuracy (ties to the earlier candidate, as in the search)."
            if led
            else ""
        )
    )


def candidates_words(protocol: pd.DataFrame) -> str:
    """'among 5 candidates per mode, the same number for every mode', or each mode's where they differ."""
    n = candidates_per_mode(protocol)
    if len(set(n.values())) <= 1:
        return f"among {next(iter(n.values()), 0)} candidates per mode, the same number for every mode"
    return (
        "among "
        + ", ".join(f"{count(k, 'candidate')} for {m}" for m, k in n.items())
        + " (a smaller search space is tried whole)"
    )


def noise_words(protocol: pd.DataFrame) -> str:
    """The caption's sentence on selection noise: in how many modes the chosen protocol leads the
    runner-up by no more than one standard error (`selections` of the protocol stage's records;
    '' for runs without the errors)."""
    if protocol is None or protocol.empty or "chosen" not in protocol or "cv_se" not in protocol:
        return ""
    sel = selections(protocol).sort_values("mode", key=mode_sort_key).reset_index(drop=True)
    led = sel[sel["lead"].notna()]  # a mode with one candidate has no runner-up
    inside = [str(m) for m in led.loc[led["inside"], "mode"]]
    alone = [str(m) for m in sel.loc[sel["lead"].isna(), "mode"]]
    head = (
        " Lead over runner-up: the chosen candidate's CV accuracy minus the next best's, in percentage points; "
        "inside noise when it is at most one standard error of that difference (both candidates' errors combined)."
        + (f" No runner-up for {', '.join(alone)}: one candidate only." if alone else "")
    )
    if led.empty:
        return head
    if not inside:
        every = (
            "In every mode"
            if len(led) == len(sel)
            else f"In every mode with a runner-up ({', '.join(map(str, led['mode']))})"
        )
        return head + f" {every} the chosen protocol leads by more than one standard error."
    tied = [str(m) for m in led.loc[led["tie"], "mode"]]
    head += (
        f" A tie ({', '.join(tied)}): candidates with the same CV accuracy, the first in the search's order taken."
        if tied
        else ""
    )
    return (
        head
        + (
            f" In {'the one mode' if len(led) == 1 else 'every mode'} ({', '.join(inside)})"
            if len(inside) == len(led)
            else f" In {len(inside)} of {len(led)} modes ({', '.join(inside)})"
        )
        + " the selection is inside the noise: "
        "the search did not tell the chosen protocol from the runner-up."
    )
