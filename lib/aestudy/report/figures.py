"""The report's figures of the whole sweep (a single run's figures are in aestudy.science.plots,
whose `show` saves and displays these too). Each draws means over autoencoder seeds with their
t-intervals, computed by aestudy.report.stats.summarise; `note` (e.g. '95 % t-interval over 3
autoencoder seeds') names the level, unit and n in the title.

Every function returns a matplotlib Figure.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..science.plots import MODE_ORDER, _baseline_lines


def _label(v) -> str:
    return str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer() else str(v)


def _ci_points(ax, summary: pd.DataFrame, x: str, hue: str | None, order=None, hue_order=None,
               line: bool = True, palette=None, prefix: str = "", ls: str = "-"):
    """Means with t-interval error bars, one series per `hue` value, dodged around each x."""
    s = summary.copy()
    s[x] = s[x].map(_label)
    xs = order or list(dict.fromkeys(s[x]))
    hues = (hue_order or sorted(set(s[hue]))) if hue else [None]
    palette = palette or dict(zip(hues, sns.color_palette(n_colors=max(len(hues), 1))))
    width = 0.5
    for j, h in enumerate(hues):
        g = s if h is None else s[s[hue] == h]
        offset = (j - (len(hues) - 1) / 2) * (width / max(len(hues), 1))
        pos = np.array([xs.index(v) for v in g[x]]) + offset
        err = np.nan_to_num(np.vstack([g["mean"] - g["ci_lo"], g["ci_hi"] - g["mean"]]), nan=0.0)
        ax.errorbar(pos, g["mean"], yerr=err, fmt="o" + (ls if line else ""), color=palette.get(h, "tab:blue"),
                    capsize=3, lw=1.5, label=f"{prefix}{_label(h)}" if h is not None else None)
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels(xs)
    ax.set_xlim(-0.5, len(xs) - 0.5)


# ------------------------------------------------------------------ experiment 1

def error_curves(by_d: pd.DataFrame, by_nc: pd.DataFrame, note: str):
    """Test error per epoch grouped by d and by num_conv (summaries by [factor, epoch]): the mean
    over seeds of each seed's mean over the other factor, the band its t-interval."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, s, factor, label, cmap in ((axes[0], by_d, "latent_dim", "d", "viridis"),
                                       (axes[1], by_nc, "num_conv", "num_conv", "magma")):
        levels = sorted(s[factor].unique())
        colors = sns.color_palette(cmap, n_colors=len(levels))
        for color, v in zip(colors, levels):
            g = s[s[factor] == v].sort_values("epoch")
            ax.plot(g["epoch"], g["mean"], marker="o", color=color, label=f"{label}={_label(v)}")
            ax.fill_between(g["epoch"], g["ci_lo"], g["ci_hi"], color=color, alpha=0.2, lw=0)
            if len(g) == 1:  # a band needs two epochs: show the one interval as a bar
                ax.errorbar(g["epoch"], g["mean"], yerr=[g["mean"] - g["ci_lo"], g["ci_hi"] - g["mean"]],
                            color=color, capsize=3)
        ax.set_xticks(sorted(s["epoch"].unique()))
        ax.set_xlabel("epoch")
        ax.set_ylabel("test reconstruction error (MSE per pixel)")
        ax.legend(fontsize=8)
    axes[0].set_title("by latent size d (mean over num_conv)", fontsize=10)
    axes[1].set_title("by model size num_conv (mean over d)", fontsize=10)
    fig.suptitle(f"Test error per epoch: mean over seeds, band = {note}", fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ experiment 2

def interpolation_numbers(ends: pd.DataFrame, mid: pd.DataFrame, reference: pd.Series, note: str):
    """End MSE and the a~0.5 decode's distance to its nearest training image, by pair and d
    (summaries by [pair, latent_dim]); `reference`: the inputs' own distance, by pair."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    ds = sorted(ends["latent_dim"].unique())
    for ax, s in ((axes[0], ends), (axes[1], mid)):
        _ci_points(ax, s, "pair", "latent_dim", order=list(reference.index), hue_order=ds, line=False,
                   prefix="d=")
        ax.set_xlabel("digit pair")
    axes[0].set_ylabel("pixel MSE at a = 0 and 1")
    axes[0].set_title("end points: lower = closer to the inputs", fontsize=10)
    axes[1].scatter(range(len(reference)), reference.values, marker="_", s=600, color="k", zorder=3,
                    label="real test digits")
    axes[1].set_ylabel("distance to nearest training image")
    axes[1].set_title("a ≈ 0.5: lower = closer to a real digit", fontsize=10)
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle(f"Mean over seeds, bars = {note}", fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ experiment 3

def correlation_by_d(offdiag: pd.DataFrame, with_diag: pd.DataFrame, note: str):
    """Mean |corr| off the diagonal (solid) and with it (dashed) against d, one colour per
    num_conv (summaries by [num_conv, latent_dim])."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ncs = sorted(offdiag["num_conv"].unique())
    palette = dict(zip(ncs, sns.color_palette(n_colors=len(ncs))))
    order = [_label(d) for d in sorted(offdiag["latent_dim"].unique())]
    _ci_points(ax, offdiag, "latent_dim", "num_conv", order=order, hue_order=ncs, palette=palette,
               prefix="off-diagonal, num_conv=")
    _ci_points(ax, with_diag, "latent_dim", "num_conv", order=order, hue_order=ncs, palette=palette,
               prefix="with diagonal (original), num_conv=", ls="--")
    ax.set_xlabel("latent size d")
    ax.set_ylabel("mean |corr|")
    ax.set_ylim(0, None)
    ax.set_title(f"Mean absolute latent correlation: mean over seeds,\nbars = {note}", fontsize=10)
    ax.legend(fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ experiment 4

def transfer_summary(by_h1: pd.DataFrame, by_d: pd.DataFrame, by_mode: pd.DataFrame,
                     baselines: pd.DataFrame | None, note: str, n_labels: int = 100):
    """Accuracy by h1, by d and by mode: mean over autoencoder seeds of encoder-level means with
    the t-interval, baselines as lines. The axis is cut at 0 and 1 (the numbers of a clipped
    interval are in the report's tables)."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
    modes = [m for m in MODE_ORDER if m in set(by_mode["mode"])]
    palette = dict(zip(MODE_ORDER, sns.color_palette(n_colors=3)))
    _ci_points(axes[0], by_h1, "h1", "mode", hue_order=modes, palette=palette)
    axes[0].set_xlabel("h1")
    _ci_points(axes[1], by_d, "latent_dim", "mode", hue_order=modes, palette=palette)
    axes[1].set_xlabel("latent size d")
    _ci_points(axes[2], by_mode, "mode", None, order=modes, line=False)
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
    fig.suptitle(f"Transfer with {n_labels} labels: mean test accuracy, bars = {note}",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig
