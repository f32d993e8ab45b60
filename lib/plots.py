"""Seaborn figures of experiments 2-4 and of the sweep (lib/figures.py draws a single run's).

Every function returns a matplotlib Figure; `show(fig, path)` saves it as PNG (atomically,
through lib.artifacts), closes it and returns an IPython image, so a notebook cell shows each
figure exactly once whatever the matplotlib backend.
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

MODE_ORDER = ["frozen", "finetune", "scratch"]
BASELINE_STYLE = {"logreg": dict(color="0.35", ls="--"), "1nn": dict(color="0.55", ls=":")}
BASELINE_NAMES = {"logreg": "logistic regression (pixels)", "1nn": "1-NN (pixels)"}

sns.set_theme(style="whitegrid", context="notebook")


def show(fig, path):
    """Save `fig` as PNG at `path`, close it, and return it as an IPython image to display."""
    from IPython.display import Image

    from .artifacts import save_figure

    path = save_figure(fig, path)
    plt.close(fig)
    return Image(filename=str(path))


# ------------------------------------------------------------------ experiment 2

def interpolation_figure(pair: dict, alphas, title: str = ""):
    """One row per model: the first input, the decodes of (1-a) z1 + a z2, the second input."""
    rows = pair["rows"]
    xa, xb = pair["inputs"]
    n = len(alphas) + 2
    fig, axes = plt.subplots(len(rows), n, figsize=(0.95 * n, 1.15 * len(rows) + 0.6), squeeze=False)
    for r, row in enumerate(rows):
        images = [xa] + list(row["decodes"]) + [xb]
        for c, img in enumerate(images):
            ax = axes[r, c]
            ax.imshow(np.asarray(img).squeeze(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for s in ax.spines.values():
                s.set_visible(c in (0, n - 1))
                s.set_color("tab:orange")
            if r == 0:
                ax.set_title("input" if c in (0, n - 1) else f"a={alphas[c - 1]:.2g}", fontsize=8)
        axes[r, 0].set_ylabel(row["label"], fontsize=8, rotation=0, ha="right", va="center")
    a, b = pair["pair"]
    fig.suptitle(title or f"Interpolation from a {a} to a {b}", fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ experiment 3

def correlation_lines(records: pd.DataFrame):
    """Mean |corr| off the diagonal and with it, against d; one line per num_conv."""
    df = records.melt(id_vars=["latent_dim", "num_conv"], value_vars=["offdiag", "with_diag"],
                      var_name="measure", value_name="mean |corr|")
    df["measure"] = df["measure"].map({"offdiag": "off-diagonal", "with_diag": "with diagonal (original)"})
    df["num_conv"] = "num_conv=" + df["num_conv"].astype(int).astype(str)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    sns.lineplot(df, x="latent_dim", y="mean |corr|", hue="num_conv", style="measure", markers=True,
                 ax=ax, errorbar=None)
    ax.set_xlabel("latent size d")
    ax.set_xticks(sorted(records["latent_dim"].astype(int).unique()))
    ax.set_ylim(0, None)
    ax.set_title("Mean absolute correlation between latent dimensions")
    ax.legend(fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def _pretty(key: str) -> str:
    """'d5-nc1' -> 'd=5, num_conv=1'."""
    import re

    m = re.fullmatch(r"d(\d+)-nc(\d+)", key)
    return f"d={m.group(1)}, num_conv={m.group(2)}" if m else key


def correlation_heatmaps(matrices: dict, titles: dict | None = None, ncols: int | None = None):
    """|corr| heat-maps, one per matrix (keys in the order given)."""
    keys = list(matrices)
    ncols = ncols or min(len(keys), 3)
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.2 * nrows), squeeze=False)
    for ax, k in zip(axes.flat, keys):
        m = np.abs(np.asarray(matrices[k], dtype=float))
        sns.heatmap(m, vmin=0, vmax=1, cmap="rocket_r", square=True, ax=ax, cbar=True,
                    xticklabels=m.shape[0] <= 10, yticklabels=m.shape[0] <= 10, cbar_kws={"shrink": 0.8})
        ax.set_title((titles or {}).get(k) or _pretty(k), fontsize=9)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    fig.suptitle("|correlation| of the latent dimensions", fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ experiment 4

def _baseline_lines(ax, baselines: pd.DataFrame | None):
    if baselines is None or baselines.empty:
        return
    for name, g in baselines.groupby("mode"):
        ax.axhline(g["accuracy"].mean(), label=BASELINE_NAMES.get(name, name), lw=1.2,
                   **BASELINE_STYLE.get(name, {}))


def transfer_run_figure(records: pd.DataFrame, title: str = ""):
    """One encoder: accuracy against h1 per mode (mean over seeds, seeds as dots), baselines as lines."""
    clf = records[records["mode"].isin(MODE_ORDER)].copy()
    base = records[~records["mode"].isin(MODE_ORDER)]
    clf["h1"] = clf["h1"].astype(int)
    order = [m for m in MODE_ORDER if m in set(clf["mode"])]
    fig, ax = plt.subplots(figsize=(6, 3.8))
    sns.stripplot(clf, x="h1", y="accuracy", hue="mode", hue_order=order, dodge=True, alpha=0.45,
                  legend=False, ax=ax)
    sns.pointplot(clf, x="h1", y="accuracy", hue="mode", hue_order=order, dodge=0.4, errorbar=None,
                  markers="D", ax=ax)
    _baseline_lines(ax, base)
    ax.set_ylabel("test accuracy")
    ax.set_xlabel("h1 (width of the first MLP layer)")
    ax.set_title(title)
    ax.legend(fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def _ci_points(ax, summary: pd.DataFrame, x: str, hue: str | None, order=None, line: bool = True):
    """Means with t-interval error bars (computed by lib.analysis.summarise), drawn with seaborn."""
    s = summary.copy()
    s[x] = s[x].map(lambda v: str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer() else str(v))
    xs = order or list(dict.fromkeys(s[x]))
    hues = [h for h in MODE_ORDER if hue and h in set(s[hue])] if hue else [None]
    palette = dict(zip(MODE_ORDER, sns.color_palette(n_colors=3)))
    width = 0.5
    for j, h in enumerate(hues):
        g = s if h is None else s[s[hue] == h]
        offset = (j - (len(hues) - 1) / 2) * (width / max(len(hues), 1))
        pos = np.array([xs.index(v) for v in g[x]]) + offset
        color = palette.get(h, "tab:blue")
        err = np.vstack([g["mean"] - g["ci_lo"], g["ci_hi"] - g["mean"]])
        err = np.nan_to_num(err, nan=0.0)
        ax.errorbar(pos, g["mean"], yerr=err, fmt="o-" if line else "o", color=color, capsize=3, lw=1.5,
                    label=h)
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels(xs)


def transfer_summary(by_h1: pd.DataFrame, by_d: pd.DataFrame, by_mode: pd.DataFrame,
                     baselines: pd.DataFrame | None, n_labels: int = 100):
    """Accuracy by h1, by d and by mode: mean over seeds with the 95 % t-interval, baselines as lines.
    The axis is cut at 0 and 1 (the numbers of a clipped interval are in the report's tables)."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
    _ci_points(axes[0], by_h1, "h1", "mode")
    axes[0].set_xlabel("h1")
    _ci_points(axes[1], by_d, "latent_dim", "mode")
    axes[1].set_xlabel("latent size d")
    order = [m for m in MODE_ORDER if m in set(by_mode["mode"])]
    _ci_points(axes[2], by_mode, "mode", None, order=order, line=False)
    axes[2].set_xlim(-0.5, len(order) - 0.5)
    axes[2].set_xlabel("mode")
    for ax in axes:
        _baseline_lines(ax, baselines)
        ax.set_ylabel("test accuracy")
    axes[0].set_title("by h1 (mean over d)")
    axes[1].set_title("by d (mean over h1)")
    axes[2].set_title("by mode (mean over d, h1)")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=9, loc="lower center", ncol=len(labels), frameon=False)
    lo, hi = axes[0].get_ylim()
    axes[0].set_ylim(max(lo, 0.0), min(hi, 1.0))
    fig.suptitle(f"Transfer with {n_labels} labels: mean test accuracy over seeds, bars = 95 % t-interval",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


# ------------------------------------------------------------------ experiment 1

def error_curves(history: pd.DataFrame):
    """Test error per epoch grouped by d and by num_conv: the mean over the other factor,
    the band its min-max spread."""
    h = history.copy()
    h["d"] = "d=" + h["latent_dim"].astype(str)
    h["size"] = "num_conv=" + h["num_conv"].astype(str)
    d_order = [f"d={d}" for d in sorted(h["latent_dim"].unique())]
    s_order = [f"num_conv={n}" for n in sorted(h["num_conv"].unique())]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    sns.lineplot(h, x="epoch", y="test_error", hue="d", hue_order=d_order, palette="viridis",
                 errorbar=("pi", 100), marker="o", ax=axes[0])
    sns.lineplot(h, x="epoch", y="test_error", hue="size", hue_order=s_order, palette="magma",
                 errorbar=("pi", 100), marker="o", ax=axes[1])
    axes[0].set_title("by latent size d (mean over num_conv, band: min-max)")
    axes[1].set_title("by model size num_conv (mean over d, band: min-max)")
    for ax in axes:
        ax.set_ylabel("test reconstruction error (MSE per pixel)")
        ax.set_xticks(sorted(h["epoch"].unique()))
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def interpolation_numbers(records: pd.DataFrame):
    """End MSE and the a~0.5 decode's distance to its nearest training image, by pair and d."""
    df = records.copy()
    df["d"] = "d=" + df["latent_dim"].astype(int).astype(str)
    order = [f"d={d}" for d in sorted(df["latent_dim"].astype(int).unique())]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    sns.barplot(df, x="pair", y="end_mse", hue="d", hue_order=order, errorbar=None, ax=axes[0])
    axes[0].set_ylabel("pixel MSE at a = 0 and 1 (mean)")
    axes[0].set_title("end points: lower = closer to the inputs")
    sns.barplot(df, x="pair", y="mid_nn_distance", hue="d", hue_order=order, errorbar=None, ax=axes[1])
    ref = df.groupby("pair", sort=False)["input_nn_distance"].mean()
    axes[1].scatter(range(len(ref)), ref.values, marker="_", s=600, color="k", zorder=3,
                    label="real test digits")
    axes[1].set_ylabel("distance to nearest training image")
    axes[1].set_title("a ≈ 0.5: lower = closer to a real digit")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig
