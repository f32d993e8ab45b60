"""The correlate run's figures: the mean |correlation| and the participation ratio against d,
and the heat-maps of the matrices the report shows (which ones: `drawing.heatmap_keys`)."""

from __future__ import annotations

import math
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ...drawing import (
    heatmap_keys,  # noqa: F401 (which matrices to draw: main's Result.shown_matrices)
    show,  # noqa: F401 (the notebook's; importing it sets seaborn's theme)
)


def correlation_lines(records: pd.DataFrame):
    """Mean |corr| off the diagonal and with it, against d; one line per num_conv (the mean over
    its seeds)."""
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
    seeds = records.groupby(["latent_dim", "num_conv"]).size().max()
    ax.set_title(
        "Mean absolute correlation between latent dimensions"
        + (f" (mean of {seeds} seeds)" if seeds > 1 else "")
    )
    ax.legend(fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def participation_figure(records):
    """Beside the mean correlation: the participation ratio of the latent covariance against d,
    one line per num_conv (mean over seeds, each seed a dot); the dashed line is d itself (every
    coordinate used evenly)."""
    df = pd.DataFrame(records)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for i, (nc, g) in enumerate(df.groupby("num_conv")):
        ax.scatter(g["latent_dim"], g["participation_ratio"], s=10, color=f"C{i}", alpha=0.4)
        mean = g.groupby("latent_dim")["participation_ratio"].mean()
        ax.plot(mean.index, mean.values, marker="o", color=f"C{i}", label=f"num_conv={nc}")
    ds = sorted(df["latent_dim"].unique())
    ax.plot(ds, ds, ls="--", color="0.5", lw=0.8, label="d (even use)")
    ax.set_xticks(ds)
    ax.set_xlabel("d (latent size)")
    ax.set_ylabel("participation ratio")
    ax.set_title("Effective number of latent dimensions")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def _pretty(key: str) -> str:
    """A model's key as a title: 'autoencode/d5-nc1-s0' -> 'd=5, num_conv=1, seed 0' (and
    'd5-nc1', a checkpoint trained outside a profile, -> 'd=5, num_conv=1')."""
    m = re.fullmatch(r"(?:.*/)?d(\d+)-nc(\d+)(?:-s(\d+))?", key)
    if not m:
        return key
    return f"d={m.group(1)}, num_conv={m.group(2)}" + (f", seed {m.group(3)}" if m.group(3) else "")


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
