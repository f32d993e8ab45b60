"""Figures a run draws: its loss curves, reconstructions, interpolation rows, correlation
heat-maps and transfer accuracies (seaborn).

Every function returns a matplotlib Figure; `show(fig, path)` saves it as PNG (atomically), closes
it and returns an IPython image, so a notebook cell shows each figure exactly once whatever the
matplotlib backend.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..drawing import (
    accuracy_by_method,
    heatmap_keys,  # noqa: F401 (the correlate notebook calls plots.heatmap_keys)
)
from ..drawing import baseline_lines as _baseline_lines  # noqa: F401 (the notebooks')
from ..files import atomic_write_bytes
from ..vocabulary import MODES, in_mode_order, mode_palette

MODE_ORDER = list(MODES)

sns.set_theme(style="whitegrid", context="notebook")


def save_figure(fig, path, dpi: int = 110) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format=Path(path).suffix.lstrip(".") or "png", dpi=dpi, bbox_inches="tight")
    return atomic_write_bytes(path, buf.getvalue())


def show(fig, path):
    """Save `fig` as PNG at `path`, close it, and return it as an IPython image to display."""
    from IPython.display import Image

    path = save_figure(fig, path)
    plt.close(fig)
    return Image(filename=str(path))


FIGURE_FONT = 16  # a 13-column figure prints at about half size on A4: 16 pt in the figure, 8 pt on paper


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
                ax.set_title("input" if c in (0, n - 1) else f"{alphas[c - 1]:.2g}", fontsize=FIGURE_FONT)
        label = str(row["label"]).replace(", num_conv=", " nc").replace(", seed=", " s")
        axes[r, 0].set_ylabel(label, fontsize=FIGURE_FONT, rotation=0, ha="right", va="center")
    a, b = pair["pair"]
    fig.suptitle(title or f"Interpolation from a {a} to a {b} (columns: a)", fontsize=FIGURE_FONT + 2)
    fig.tight_layout()
    return fig


def correlation_lines(records: pd.DataFrame):
    """Mean |corr| off the diagonal and with it, against d; one line per num_conv."""
    df = records.melt(
        id_vars=["latent_dim", "num_conv"],
        value_vars=["offdiag", "with_diag"],
        var_name="measure",
        value_name="mean |corr|",
    )
    df["measure"] = df["measure"].map({"offdiag": "off-diagonal", "with_diag": "with diagonal (original)"})
    df["num_conv"] = "num_conv=" + df["num_conv"].astype(int).astype(str)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    sns.lineplot(
        df,
        x="latent_dim",
        y="mean |corr|",
        hue="num_conv",
        style="measure",
        markers=True,
        ax=ax,
        errorbar=None,
    )
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
        sns.heatmap(
            m,
            vmin=0,
            vmax=1,
            cmap="rocket_r",
            square=True,
            ax=ax,
            cbar=True,
            xticklabels=m.shape[0] <= 10,
            yticklabels=m.shape[0] <= 10,
            cbar_kws={"shrink": 0.8},
        )
        ax.set_title((titles or {}).get(k) or _pretty(k), fontsize=9)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    fig.suptitle("|correlation| of the latent dimensions", fontsize=10)
    fig.tight_layout()
    return fig


def protocol_figure(table: pd.DataFrame):
    """Cross-validation accuracy of each candidate protocol per mode; the chosen one as a diamond."""
    order = in_mode_order(table["mode"])
    fig, ax = plt.subplots(figsize=(6, 3.2))
    sns.stripplot(table, x="mode", y="cv_accuracy", order=order, color="0.55", size=6, jitter=0.15, ax=ax)
    best = table[table["chosen"]]
    sns.stripplot(
        best, x="mode", y="cv_accuracy", order=order, color="C3", marker="D", size=9, jitter=0, ax=ax
    )
    ax.set_ylabel("cross-validation accuracy")
    ax.set_xlabel("mode (grey: candidates; red diamond: chosen)")
    fig.tight_layout()
    return fig


def transfer_run_figure(records: pd.DataFrame, title: str = ""):
    """One encoder: accuracy against h1 per mode (mean over seeds, seeds as dots), baselines as lines."""
    clf = records[records["mode"].isin(MODE_ORDER)].copy()
    base = records[~records["mode"].isin(MODE_ORDER)]
    clf["h1"] = clf["h1"].astype(int)
    order = in_mode_order(clf["mode"])
    fig, ax = plt.subplots(figsize=(6, 3.8))
    sns.stripplot(
        clf,
        x="h1",
        y="accuracy",
        hue="mode",
        hue_order=order,
        palette=mode_palette(),
        dodge=True,
        alpha=0.45,
        legend=False,
        ax=ax,
    )
    sns.pointplot(
        clf,
        x="h1",
        y="accuracy",
        hue="mode",
        hue_order=order,
        palette=mode_palette(),
        dodge=0.4,
        errorbar=None,
        markers="D",
        ax=ax,
    )
    _baseline_lines(ax, base)
    ax.set_ylabel("test accuracy")
    ax.set_xlabel("h1 (width of the first MLP layer)")
    ax.set_title(title)
    ax.legend(fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def semisup_run_figure(records: pd.DataFrame, title: str = "", published: dict | None = None):
    """One encoder: test accuracy per method (label draws as dots, their mean as a diamond), the
    published anchors (`{name: accuracy}`) as dashed lines."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    accuracy_by_method(ax, records, published)
    ax.set_title(title)
    ax.tick_params(axis="x", labelsize=9)
    if published:  # below the axis: never over a point
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def loss_curves(history: dict, title: str = ""):
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(history["epoch"], history["train_error"], marker="o", label="train")
    ax.plot(history["epoch"], history["test_error"], marker="o", label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("reconstruction error (MSE per pixel)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def reconstructions(model, images, n: int = 8, title: str = ""):
    """Inputs on the top row, their reconstructions below."""
    import torch

    model.eval()
    x = images[:n]
    with torch.inference_mode():
        y = model(x)
    fig, axes = plt.subplots(2, n, figsize=(1.1 * n, 2.5))
    for i in range(n):
        for row, img in enumerate((x[i], y[i])):
            ax = axes[row, i]
            ax.imshow(img.squeeze(0).numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel("output")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
