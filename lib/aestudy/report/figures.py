"""The report's figures of the whole sweep (a single run's figures are in aestudy.science.plots,
whose `show` saves and displays these too). Each draws means over autoencoder seeds with their
t-intervals, computed by aestudy.report.stats.summarise. What a figure shows, its interval and
its n are said by its numbered caption in the report (`note`, e.g. '95 % t-interval over 3
autoencoder seeds', is accepted for the callers that still pass it, and not drawn).

Made for print: every figure is at most WIDTH inches wide (the text width of an A4 page with
15 mm margins is 7.09 in; `show` saves at 110 dpi, which the page shows at or above that width,
so a figure prints at about its own size) and its text is at least 8 pt (`_style`). Panels sit
side by side only while each stays legible at that width; otherwise they are stacked.

Every function returns a matplotlib Figure.
"""
from __future__ import annotations

import contextlib
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..science.plots import MODE_ORDER, _baseline_lines

WIDTH = 7.0          # inches: the printed text width (A4, 15 mm margins) less a little
MIN_PT = 8           # the smallest text in a figure, at print size
STYLE = {"font.size": MIN_PT, "axes.titlesize": 9, "axes.labelsize": 8.5, "xtick.labelsize": MIN_PT,
         "ytick.labelsize": MIN_PT, "legend.fontsize": MIN_PT, "legend.title_fontsize": MIN_PT,
         "figure.titlesize": 9, "lines.markersize": 4.5, "axes.titlepad": 4}


@contextlib.contextmanager
def _style():
    """Sizes for print: text at least MIN_PT points (the seaborn 'notebook' context is larger)."""
    with plt.rc_context(STYLE):
        yield


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


# ------------------------------------------------------------------ page 1

def overview_by_d(error: pd.DataFrame | None, offdiag: pd.DataFrame | None, with_diag: pd.DataFrame | None,
                  accuracy: pd.DataFrame | None, baselines: pd.DataFrame | None = None):
    """The answer at a glance, against the latent size d (summaries by latent_dim; by
    [latent_dim, mode] for `accuracy`): (a) final test reconstruction error, (b) mean |corr| off
    the diagonal (solid) and with it (dashed), (c) transfer accuracy by mode with the raw-pixel
    baselines as lines. Panels without data are left out; None when none has data."""
    panels = [(k, v) for k, v in (("error", error), ("corr", offdiag), ("acc", accuracy))
              if v is not None and not v.empty]
    if not panels:
        return None
    with _style():
        fig, axes = plt.subplots(1, len(panels), figsize=(WIDTH, 2.1), squeeze=False)
        letters = "abc"
        for j, (ax, (kind, s)) in enumerate(zip(axes[0], panels)):
            order = [_label(d) for d in sorted(s["latent_dim"].unique())]
            if kind == "error":
                _ci_points(ax, s, "latent_dim", None, order=order)
                ax.set_ylabel("test error (MSE per pixel)")
                ax.set_title(f"({letters[j]}) reconstruction error")
            elif kind == "corr":
                _ci_points(ax, s, "latent_dim", None, order=order, palette={None: "tab:purple"})
                if with_diag is not None and not with_diag.empty:
                    _ci_points(ax, with_diag, "latent_dim", None, order=order, palette={None: "0.5"}, ls="--")
                ax.legend(handles=[plt.Line2D([], [], color="tab:purple", marker="o", label="off-diagonal"),
                                   plt.Line2D([], [], color="0.5", marker="o", ls="--", label="with diagonal")],
                          loc="best", frameon=False)
                ax.set_ylim(0, None)
                ax.set_ylabel("mean |corr|")
                ax.set_title(f"({letters[j]}) latent correlation")
            else:
                modes = [m for m in MODE_ORDER if m in set(s["mode"])]
                palette = dict(zip(MODE_ORDER, sns.color_palette(n_colors=3)))
                _ci_points(ax, s, "latent_dim", "mode", order=order, hue_order=modes, palette=palette)
                _baseline_lines(ax, baselines)
                lo, hi = ax.get_ylim()
                ax.set_ylim(max(lo, 0.0), min(hi, 1.0))
                ax.set_ylabel("test accuracy")
                ax.set_title(f"({letters[j]}) transfer accuracy")
                handles, labels = ax.get_legend_handles_labels()
                fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
                           handlelength=1.8, columnspacing=1.2)
            ax.set_xlabel("latent size d")
        legend_below = any(kind == "acc" for kind, _ in panels)
        fig.tight_layout(w_pad=1.0, rect=(0, 0.11 if legend_below else 0, 1, 1))
    return fig


# ------------------------------------------------------------------ experiment 1

def error_curves(by_d: pd.DataFrame, by_nc: pd.DataFrame, note: str = ""):
    """Test error per epoch grouped by d and by num_conv (summaries by [factor, epoch]): the mean
    over seeds of each seed's mean over the other factor, the band its t-interval."""
    with _style():
        fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 2.9), sharey=True)
        for ax, s, factor, label, cmap in ((axes[0], by_d, "latent_dim", "d", "viridis"),
                                           (axes[1], by_nc, "num_conv", "num_conv", "magma")):
            levels = sorted(s[factor].unique())
            colors = sns.color_palette(cmap, n_colors=len(levels) + (1 if cmap == "magma" else 0))
            for color, v in zip(colors, levels):
                g = s[s[factor] == v].sort_values("epoch")
                ax.plot(g["epoch"], g["mean"], marker="o", color=color, label=f"{label}={_label(v)}")
                ax.fill_between(g["epoch"], g["ci_lo"], g["ci_hi"], color=color, alpha=0.2, lw=0)
                if len(g) == 1:  # a band needs two epochs: show the one interval as a bar
                    ax.errorbar(g["epoch"], g["mean"], yerr=[g["mean"] - g["ci_lo"], g["ci_hi"] - g["mean"]],
                                color=color, capsize=3)
            ax.set_xticks(sorted(s["epoch"].unique()))
            ax.set_xlabel("epoch")
            ax.legend()
        axes[0].set_ylabel("test error (MSE per pixel)")
        axes[0].set_title("(a) by latent size d (mean over num_conv)")
        axes[1].set_title("(b) by num_conv (mean over d)")
        fig.tight_layout()
    return fig


# ------------------------------------------------------------------ experiment 2

def interpolation_along_a(sharpness: pd.DataFrame, confidence: pd.DataFrame | None = None,
                          real_confidence: float | None = None):
    """Experiment 2's two measures against a, one colour per d (summaries by [latent_dim, alpha]:
    each seed's mean over digit pairs and image pairs, then the mean and interval over seeds):
    (a) Tenengrad sharpness of the decode over the real digits' (dashed: as sharp as they are),
    (b) the reference classifier's confidence (dashed: on the real inputs). None without data."""
    panels = [(k, v) for k, v in (("sharpness", sharpness), ("confidence", confidence)) if v is not None and not v.empty]
    if not panels:
        return None
    with _style():
        fig, axes = plt.subplots(1, len(panels), figsize=(WIDTH, 2.8), squeeze=False)
        ds = sorted({d for _, s in panels for d in s["latent_dim"].unique()})
        colors = dict(zip(ds, sns.color_palette(n_colors=len(ds))))   # two d values: two distinct hues
        for j, (ax, (kind, s)) in enumerate(zip(axes[0], panels)):
            for d in ds:
                g = s[s["latent_dim"] == d].sort_values("alpha")
                ax.plot(g["alpha"], g["mean"], marker="o", color=colors[d], label=f"d={_label(d)}")
                ax.fill_between(g["alpha"], g["ci_lo"], g["ci_hi"], color=colors[d], alpha=0.2, lw=0)
            ref = 1.0 if kind == "sharpness" else real_confidence
            if ref is not None and np.isfinite(ref):
                ax.axhline(ref, color="0.4", lw=1, ls="--", label="real digits")
            ax.set_xlabel("a")
            ax.set_ylabel("Tenengrad: decode / real" if kind == "sharpness" else "classifier confidence")
            ax.set_title(f"({'ab'[j]}) " + ("sharpness" if kind == "sharpness" else "digit-likeness"))
            ax.legend(frameon=False)
        fig.tight_layout()
    return fig


# ------------------------------------------------------------------ experiment 3

def correlation_by_d(offdiag: pd.DataFrame, with_diag: pd.DataFrame, note: str = ""):
    """Mean |corr| off the diagonal (solid) and with it (dashed) against d, one colour per
    num_conv (summaries by [num_conv, latent_dim])."""
    with _style():
        fig, ax = plt.subplots(figsize=(WIDTH, 3.0))
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
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="center right", frameon=False)
        fig.tight_layout(rect=(0, 0, 0.64, 1))
    return fig


def correlation_heatmaps(matrices: dict, titles: dict | None = None):
    """|corr| heat-maps of the latent dimensions: one row per d, one column per num_conv when the
    keys read 'd<d>-nc<num_conv>...' and there are several num_conv (else one row), one shared
    colour bar."""
    keys = list(matrices)
    cells = {}
    for k in keys:
        m = re.match(r"d(\d+)-nc(\d+)(?:-|$)", k)
        cells[k] = (int(m.group(1)), int(m.group(2))) if m else None
    if all(cells.values()) and len({nc for _, nc in cells.values()}) > 1:
        ds = sorted({d for d, _ in cells.values()})
        ncs = sorted({nc for _, nc in cells.values()})
        where = {k: (ds.index(d), ncs.index(nc)) for k, (d, nc) in cells.items()}
        nrows, ncols = len(ds), len(ncs)
    else:
        nrows, ncols = 1, len(keys)
        where = {k: (0, j) for j, k in enumerate(keys)}
    side = min(2.1, (WIDTH - 0.8) / max(ncols, 1))
    with _style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(side * ncols + 0.8, side * nrows + 0.1), squeeze=False)
        image = None
        for k in keys:
            ax = axes[where[k]]
            m = np.abs(np.asarray(matrices[k], dtype=float))
            image = ax.imshow(m, vmin=0, vmax=1, cmap="rocket_r", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            ax.set_title((titles or {}).get(k) or k, fontsize=MIN_PT)
        for ax in axes.flat:
            if not ax.images:
                ax.axis("off")
        fig.tight_layout(rect=(0, 0, (side * ncols) / (side * ncols + 0.8), 1))
        if image is not None:
            cax = fig.add_axes([(side * ncols + 0.15) / (side * ncols + 0.8), 0.15, 0.12 / (side * ncols + 0.8), 0.7])
            fig.colorbar(image, cax=cax, label="|correlation|")
    return fig


# ------------------------------------------------------------------ experiment 4

def transfer_summary(by_h1: pd.DataFrame, by_d: pd.DataFrame, by_mode: pd.DataFrame,
                     baselines: pd.DataFrame | None, note: str = "", n_labels: int = 100):
    """Accuracy by h1, by d and by mode: mean over autoencoder seeds of encoder-level means with
    the t-interval, baselines as lines. The axis is cut at 0 and 1 (the numbers of a clipped
    interval are in the report's tables)."""
    with _style():
        fig, axes = plt.subplots(1, 3, figsize=(WIDTH, 2.9), sharey=True)
        modes = [m for m in MODE_ORDER if m in set(by_mode["mode"])]
        palette = dict(zip(MODE_ORDER, sns.color_palette(n_colors=3)))
        _ci_points(axes[0], by_h1, "h1", "mode", hue_order=modes, palette=palette)
        axes[0].set_xlabel("MLP width h1")
        _ci_points(axes[1], by_d, "latent_dim", "mode", hue_order=modes, palette=palette)
        axes[1].set_xlabel("latent size d")
        _ci_points(axes[2], by_mode, "mode", None, order=modes, line=False)
        axes[2].set_xlabel("mode")
        for ax in axes:
            _baseline_lines(ax, baselines)
        axes[0].set_ylabel(f"test accuracy ({n_labels} labels)")
        axes[0].set_title("(a) by h1 (mean over d)")
        axes[1].set_title("(b) by d (mean over h1)")
        axes[2].set_title("(c) by mode (mean over d, h1)")
        handles, labels = axes[1].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False)
        lo, hi = axes[0].get_ylim()
        axes[0].set_ylim(max(lo, 0.0), min(hi, 1.0))
        fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig
