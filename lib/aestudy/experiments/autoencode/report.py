"""Experiment 1, the autoencoding sweep: its claims (error falls with d, d < 10 clearly worse,
error falls with the model's size), its table of errors, the parameter correlations, the error
curves and reconstructions, and its panel of the page-1 figure."""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from ...report import section
from ...report.claims import Claim, Experiment, key_effects, trend_row
from ...report.figures import WIDTH, Panel, ci_points, style, tick
from ...report.sentences import ci_of, trend_with_intervals
from ...report.stats import CONFIDENCE, SEED, param_correlations_by_seed, summarise
from ...report.tables import ci_table
from ...report.text import SEEDS, count, fmt, fmt_ci, fmt_pct, interval_words
from ...report_params import ReportParams
from ...vocabulary import DATASET_SIZES
from . import fidelity, outliers, small_d
from .choices import choices, limitations

STAGE = "autoencode"
DEFAULT = ReportParams()
CLAIMED_D = small_d.CLAIMED_D
verdict_small_d_worse = small_d.verdict_small_d_worse


# ------------------------------------------------------------------ claims


def verdict_error_falls_with_d(ae: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return trend_row(
        "1",
        "Reconstruction error falls as d grows",
        ae,
        "latent_dim",
        "final_test_error",
        "num_conv",
        -1,
        rules,
        "mean final test error by d",
        "unit of d",
    )


def verdict_error_falls_with_size(ae: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return trend_row(
        "1",
        "Error also falls, less clearly, as the model grows (num_conv)",
        ae,
        "num_conv",
        "final_test_error",
        "latent_dim",
        -1,
        rules,
        "mean final test error by num_conv",
        "conv layer",
        extra="; 'less clearly' is not tested: compare with the row above",
    )


def rules_markdown(rules: ReportParams) -> str:
    return small_d.rules_markdown(rules)


# ------------------------------------------------------------------ what the section says


def runs_text(ae: pd.DataFrame) -> str:
    """What was trained: the grid, the seeds, the epochs and the training set size."""
    epochs = sorted(set(ae["epochs"].astype(int).tolist())) if "epochs" in ae else []
    return (
        f"{count(len(ae), 'autoencoder')}: d in {sorted(set(ae['latent_dim'].astype(int).tolist()))} x num_conv in "
        f"{sorted(set(ae['num_conv'].astype(int).tolist()))} x {count(ae['seed'].nunique(), 'seed')}, trained for "
        f"{', '.join(map(str, epochs))} epoch{'' if list(epochs) == [1] else 's'}"
        + (
            f" on {int(ae['train_size'].iloc[0]):,} training images"
            if "train_size" in ae and ae["train_size"].notna().all()
            else ""
        )
        + "."
    )


def findings(ae: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    if ae.empty:
        return ""
    d_text = trend_with_intervals(ae, "latent_dim", "final_test_error", confidence)
    nc_text = trend_with_intervals(ae, "num_conv", "final_test_error", confidence)
    cell = summarise(ae, ["latent_dim", "num_conv"], "final_test_error", confidence=confidence)
    ranked = cell.sort_values("mean")
    best = ranked.iloc[0]
    text = (
        f"Averaged over model sizes, the final test error {d_text}. "
        f"Averaged over d, it {nc_text}. "
        + (
            f"The lowest of the {len(cell)} cells' mean errors is at"
            if len(cell) > 1
            else "The one cell's mean error is at"
        )
        + f" d={int(best['latent_dim'])}, "
        f"num_conv={int(best['num_conv'])}: {fmt_ci(ci_of(best, confidence), unit=SEEDS)}, a minimum selected "
        "on the test set, so biased downwards"
    )
    if len(ranked) > 1:
        nxt = ranked.iloc[1]
        text += (
            f" (the next, d={int(nxt['latent_dim'])}, num_conv={int(nxt['num_conv'])}: {fmt(nxt['mean'])}"
            + (", inside its interval)" if best["ci_lo"] <= nxt["mean"] <= best["ci_hi"] else ")")
        )
    return text + "."


def param_correlation_table(
    ae: pd.DataFrame, swept: list[str], confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Pearson r and Spearman rho of each swept parameter (the parameter file's grid, less the
    seed) with the final test error, within each seed's runs, mean [interval] over seeds."""
    s = param_correlations_by_seed(ae, [p for p in swept if p in ae], "final_test_error", confidence)
    t = ci_table(s, "parameter", "measure", pct=False)
    return t.rename(columns={"pearson_r": "Pearson r", "spearman_rho": "Spearman ρ"}) if not t.empty else t


# ------------------------------------------------------------------ per-run files


def autoencode_history(data) -> pd.DataFrame:
    """Test error per epoch of every usable autoencode run (long format), read from the runs'
    metrics.json (the tables hold final numbers only)."""
    rows = []
    for r in data.usable(STAGE).itertuples(index=False):
        m = data.run_metrics(STAGE, r.run_id)
        hist = (m or {}).get("history") or {}
        for ep, te, tr in zip(hist.get("epoch", []), hist.get("test_error", []), hist.get("train_error", [])):
            rows.append(
                {
                    "run_id": r.run_id,
                    "latent_dim": int(r.latent_dim),
                    "num_conv": int(r.num_conv),
                    "seed": int(r.seed),
                    "epoch": int(ep),
                    "test_error": float(te),
                    "train_error": float(tr),
                }
            )
    return pd.DataFrame(
        rows, columns=["run_id", "latent_dim", "num_conv", "seed", "epoch", "test_error", "train_error"]
    )


def reconstruction_images(data, ae: pd.DataFrame) -> list[tuple[str, Path]]:
    """(caption, path) of the saved reconstructions of the smallest- and largest-d runs at the
    largest num_conv and the smallest seed (the ones that exist); a model `outliers.unusual_seeds`
    names is said to be one."""
    if ae.empty:
        return []
    nc = int(ae["num_conv"].max())
    sub = ae[(ae["num_conv"] == nc) & (ae["seed"] == ae["seed"].min())].sort_values("latent_dim")
    picks = [sub.iloc[0]] + ([sub.iloc[-1]] if len(sub) > 1 else [])
    odd = outliers.unusual_seeds(ae, data.rules.outlier_excess)
    worse = {(int(r["latent_dim"]), int(r["num_conv"]), int(r[SEED])) for _, r in odd.iterrows()}
    out = []
    for r in picks:
        p = data.run_dir(STAGE, r["run_id"]) / "reconstructions.png"
        if p.exists():
            flag = (
                (
                    ", the one model that trains clearly worse than its seed siblings (named above)"
                    if len(worse) == 1
                    else ", one of the models that train clearly worse than their seed siblings (named above)"
                )
                if (int(r["latent_dim"]), nc, int(r[SEED])) in worse
                else ""
            )
            out.append(
                (
                    f"Run `{r['run_id']}` (d={int(r['latent_dim'])}, num_conv={nc}, final test error "
                    f"{fmt(r['final_test_error'])}{flag}): test inputs on top, reconstructions below.",
                    p,
                )
            )
    return out


def reconstruction_caption(images: list[tuple[str, object]]) -> str:
    """One caption for the reconstructions shown (profile.reconstruction_images): which runs,
    top to bottom."""
    words = [
        re.sub(r"^Run ", "run ", c.rstrip(".").replace(": test inputs on top, reconstructions below", ""))
        for c, _ in images
    ]
    where = ("top: " + words[0] + "; bottom: " + words[1]) if len(words) == 2 else "; ".join(words)
    ds = [m.group(1) for w in words for m in [re.search(r"\(d=(\d+),", w)] if m]
    at = f"at d={' and d='.join(ds)}" if ds else "at the d shown"
    who = "the autoencoders of one seed" if len(words) > 1 else "the autoencoder"
    return (
        f"Test inputs (upper row of each image) and their reconstructions (lower row) by {who} {at}, {where}."
        if len(words) > 1
        else f"Test inputs (upper row) and their reconstructions (lower row) by {who} {at}, {where}."
    )


def error_curves(by_d: pd.DataFrame, by_nc: pd.DataFrame, ae: pd.DataFrame | None = None):
    """Test error per epoch grouped by d and by num_conv (summaries by [factor, epoch]): the mean
    over seeds of each seed's mean over the other factor, the band its t-interval; with the runs'
    table `ae`, the yardsticks it records: PCA-d (a dashed line per d in (a)), the mean image."""
    with style():
        fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 2.9 if ae is None else 3.4), sharey=True)
        for ax, s, factor, label, cmap in (
            (axes[0], by_d, "latent_dim", "d", "viridis"),
            (axes[1], by_nc, "num_conv", "num_conv", "magma"),
        ):
            levels = sorted(s[factor].unique())
            colors = sns.color_palette(cmap, n_colors=len(levels) + (1 if cmap == "magma" else 0))
            for color, v in zip(colors, levels):
                g = s[s[factor] == v].sort_values("epoch")
                ax.plot(g["epoch"], g["mean"], marker="o", color=color, label=f"{label}={tick(v)}")
                ax.fill_between(g["epoch"], g["ci_lo"], g["ci_hi"], color=color, alpha=0.2, lw=0)
                if len(g) == 1:  # a band needs two epochs: show the one interval as a bar
                    ax.errorbar(
                        g["epoch"],
                        g["mean"],
                        yerr=[g["mean"] - g["ci_lo"], g["ci_hi"] - g["mean"]],
                        color=color,
                        capsize=3,
                    )
            if ae is not None:
                if factor == "latent_dim":
                    fidelity.draw_pca_levels(ax, ae, dict(zip(levels, colors)))
                fidelity.draw_mean_image(ax, ae)
            ax.set_xticks(sorted(s["epoch"].unique()))
            ax.set_xlabel("epoch")
            ax.legend(
                **(
                    {}
                    if ae is None
                    else dict(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)
                )
            )
        axes[0].set_ylabel("test error (MSE per pixel)")
        axes[0].set_title("(a) by latent size d (mean over num_conv)")
        axes[1].set_title("(b) by num_conv (mean over d)")
        fig.tight_layout()
    return fig


# ------------------------------------------------------------------ the section's tables and figures, captioned


def text(data) -> str:
    """What was trained and what it shows, with this run's numbers."""
    ae = data.usable(STAGE)
    return (
        ""
        if ae.empty
        else " ".join(
            w
            for w in (
                runs_text(ae),
                findings(ae, data.rules.confidence),
                fidelity.fidelity_line(ae, data.rules.confidence),
            )
            if w
        )
    )


def curves(data):
    """(error-curve figure, caption), or (None, '') without a history."""
    history = autoencode_history(data)
    if history.empty:
        return None, ""
    c = data.rules.confidence
    by_d = summarise(history, ["latent_dim", "epoch"], "test_error", confidence=c)
    by_nc = summarise(history, ["num_conv", "epoch"], "test_error", confidence=c)
    ae = data.usable(STAGE)
    refs = fidelity.recorded(
        ae, "dash-dotted: PCA with the same d, in that d's colour", "dotted: the training mean image"
    )
    one = history["epoch"].nunique() == 1  # one epoch: points with error bars, no curve
    return error_curves(by_d, by_nc, ae), (
        f"Test reconstruction error (MSE per pixel) after {'the one epoch' if one else 'each epoch'} of the "
        f"{history['run_id'].nunique()} autoencoders{'' if one else _subset_words(ae)}, (a) by latent size d "
        f"(mean over num_conv), (b) by num_conv (mean over d). {'Points' if one else 'Lines'}: mean over "
        f"autoencoder seeds; {'bars' if one else 'bands'}: {interval_words(c, list(by_d['n']) + list(by_nc['n']))}"
        + ("; " + "; ".join(refs) if refs else "")
        + "."
    )


def _test_images(ae: pd.DataFrame) -> int:
    """How many test images the runs measured their last epoch on: `test_size`, else the whole split."""
    given = pd.to_numeric(ae.get("test_size", pd.Series(dtype=float)), errors="coerce").dropna()
    dataset = str(ae["dataset"].iloc[0]) if "dataset" in ae and len(ae) else "mnist"
    return int(given.min()) if not given.empty else DATASET_SIZES.get(dataset, (0, 10_000))[1]


def _subset_words(ae: pd.DataFrame) -> str:
    """' (before the last epoch on a fixed subset of 2,000 test images, the last on all)' where the
    runs measured their earlier epochs on a subset (`epoch_test_size`), else ''."""
    if "epoch_test_size" not in ae:
        return ""
    sizes = pd.to_numeric(ae["epoch_test_size"], errors="coerce").dropna().unique()
    if not len(sizes) or (sizes >= _test_images(ae)).all():  # a "subset" of every test image is all of them
        return ""
    subset = (
        f"a fixed subset of {int(sizes[0]):,} test images"
        if len(sizes) == 1
        else "fixed subsets of the test images"
    )
    return f" (before the last epoch on {subset}, the last on all)"


def grid(data):
    """(final-error table, caption)."""
    ae, c = data.usable(STAGE), data.rules.confidence
    if ae.empty:
        return pd.DataFrame(), ""
    n = summarise(ae, ["latent_dim", "num_conv"], "final_test_error", confidence=c)["n"]
    return fidelity.table(ae, c), fidelity.caption(ae, interval_words(c, list(n)))


def correlations(data):
    """(parameter-correlation table, caption): the parameters swept by the parameter file's grid."""
    ae, c = data.usable(STAGE), data.rules.confidence
    if ae.empty:
        return pd.DataFrame(), ""
    sizes = ae.groupby("seed").size()
    per_seed = f"{sizes.min()}" if sizes.min() == sizes.max() else f"{sizes.min()}-{sizes.max()}"
    return param_correlation_table(ae, data.swept(STAGE), c), (
        "Correlation of each swept parameter with the final test error (the original's parameter-importance "
        f"panel): Pearson r and Spearman ρ over the {per_seed} runs of each seed, mean [interval] over seeds, "
        f"{interval_words(c, [ae['seed'].nunique()])}. The seed is the unit of replication, not a parameter."
    )


def excess_source(data) -> str:
    """Where the threshold for a worse model comes from: the parameter file, or the default of
    `ReportParams` where the file does not set it (the printed parameter file would not show it)."""
    given = "outlier_excess" in data.report_section
    return "report.outlier_excess" + ("" if given else ", its default: the parameter file does not set it")


def odd_seeds(data):
    """(words, table, caption) on the models that train worse than their seed siblings."""
    ae, excess = data.usable(STAGE), data.rules.outlier_excess
    odd = outliers.unusual_seeds(ae, excess)
    judged = not ae.empty and bool((ae.groupby(outliers.CELL)[SEED].nunique() >= 3).any())
    source = excess_source(data)
    words = outliers.seeds_markdown(
        odd,
        outliers.dead_unit_association(ae),
        excess,
        len(ae),
        judged=judged,
        alpha=1 - data.rules.confidence,
        source=source,
    )
    shown = odd.rename(columns={"latent_dim": "d"})
    if shown["PCA-d"].isna().all():  # runs from before PCA was recorded
        shown = shown.drop(columns="PCA-d")
    for col in ("dead units", "siblings dead units"):  # percentages, as Table 2 and the words give them
        shown[col] = [fmt_pct(v) if pd.notna(v) else "n/a" for v in shown[col]]
    return (
        words,
        shown,
        (
            "Models whose final test error exceeds the median of their seed siblings (same d and num_conv) by more "
            f"than {100 * excess:g} % ({source}), "
            + ("beside the test error of PCA with the same d (PCA-d), " if "PCA-d" in shown else "")
            + "with the fraction of the ReLU units of their encoder's fully connected hidden layer that are dead (zero on "
            "every monitored test image) and their siblings' mean fraction."
        ),
    )


def worse_models(data) -> list:
    """The section's words on the models that train worse than their seed siblings, and their table."""
    words, shown, caption = odd_seeds(data)
    return [section.Text(words), section.Table(shown, caption)]


def reconstruction_images_shown(data) -> section.Images:
    """The reconstructions at the smallest and the largest d, after the table of worse models
    (their caption points up to it)."""
    recon = reconstruction_images(data, data.usable(STAGE))
    return section.Images(tuple(p for _, p in recon), reconstruction_caption(recon) if recon else "")


NARRATIVE = """
Convolutional autoencoders are trained over the grid of latent sizes d and numbers of convolution
layers (num_conv), every grid point once per seed. The original concluded that the error falls as
d grows, that d < 10 is clearly worse ("ten digit classes need at least ten places") and that the
error also falls, less clearly, as the model grows.

Whether the networks have learned is measured before anything is concluded from them: each cell's
test error stands beside that of PCA with the same d (the optimal linear autoencoder of that size,
fitted on the same training images) and of the training mean image (the floor of floors). A cell
whose autoencoders do not beat PCA measures networks that have not learned at this budget, and page 1
says so. How far training had converged is the relative change of the validation error (held-out
training images, never the test set) over the last epoch; the fraction of the encoder's hidden ReLU
units that are dead stands beside it.
"""


def overview(data) -> Panel | None:
    ae = data.usable(STAGE)
    if ae.empty:
        return None
    s = summarise(ae, ["latent_dim"], "final_test_error", confidence=data.rules.confidence)

    order = [tick(d) for d in sorted(s["latent_dim"].unique())]
    refs = fidelity.recorded(ae, "PCA with the same d dash-dotted", "the mean image dotted")

    def draw(ax):
        ci_points(ax, s, "latent_dim", None, order=order, palette={None: "tab:blue"})
        fidelity.draw_pca_by_d(ax, ae, lambda d: order.index(tick(d)), "PCA with the same d")
        fidelity.draw_mean_image(ax, ae)
        return bool(refs)  # the yardsticks' legend goes below the figure

    return Panel(
        "reconstruction error",
        "test error (MSE per pixel)",
        draw,
        "test reconstruction error (MSE per pixel)"
        + (" of the autoencoders, " + " and ".join(refs) if refs else ""),
    )


EXPERIMENT = Experiment(
    name=STAGE,
    order=1,
    stages=(STAGE,),
    ranges={"final_test_error": (0.0, math.inf), "test_error": (0.0, math.inf)},  # a mean squared error
    seeds={
        "autoencoder": (
            "an autoencoder's initialisation and batch order anew in every (d, num_conv) cell, so that no two "
            "cells share them (seed_scope: cell; under shared, the seed itself sets them in every cell)",
            True,
        )
    },
    claims={
        "error_falls_with_d": Claim("1", STAGE, verdict_error_falls_with_d),
        "small_d_worse": Claim("1", STAGE, verdict_small_d_worse),
        "error_falls_with_size": Claim("1", STAGE, verdict_error_falls_with_size),
    },
    rules=rules_markdown,
    key_effects=lambda data, v: key_effects(v, (("error_falls_with_d", "test reconstruction error {key}"),)),
    abstract=lambda data: fidelity.fidelity_line(data.usable(STAGE), data.rules.confidence),
    warning=lambda data: fidelity.not_learned_warning(data.usable(STAGE), data.rules.confidence),
    overview=overview,
    choices=choices,
    limitations=limitations,
    set_aside=lambda data: outliers.set_aside(data.usable(STAGE), data.rules.outlier_excess),
    title="Experiment 1: autoencoding sweep",
    narrative=NARRATIVE,
    text=text,
    sections=(
        section.figure(curves, "autoencode_error_curves.png"),
        section.table(grid),
        section.table(
            correlations,
            empty="(No table of each swept parameter's correlation with the test error, the original's "
            "parameter-importance panel: it needs a swept parameter and at least 3 runs of each seed.)",
        ),
        worse_models,
        reconstruction_images_shown,
    ),
)
