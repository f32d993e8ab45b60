"""How the report draws: the print style, means with their t-intervals (`ci_points`), and the
page-1 figure made of the panels the experiments lend it (`overview`). Each experiment's own
figures are in its package's `report` module (a single run's figures are the run's own, in its
`plots`); `show` (aestudy.drawing's, as the runs') saves a report figure and displays it. What a figure shows, its interval and
its n are said by its numbered caption in the report (`note`, e.g. '95 % t-interval over 3
autoencoder seeds', is accepted for the callers that still pass it, and not drawn).

Made for print: every figure is at most WIDTH inches wide (the text width of an A4 page with
15 mm margins is 7.09 in; `show` saves at drawing.DPI = 110, which the page shows at or above that width,
so a figure prints at about its own size) and its text is at least 8 pt (`_style`). Panels sit
side by side only while each stays legible at that width; otherwise they are stacked.

Every function returns a matplotlib Figure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .. import vocabulary as vocab
from ..drawing import show  # noqa: F401 (analyses.ipynb's; importing it sets the runs' seaborn theme)
from ..experiments import about

WIDTH = 7.0  # inches: the printed text width (A4, 15 mm margins) less a little
MIN_PT = 8  # the smallest text in a figure, at print size
STYLE = {
    "font.size": MIN_PT,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "xtick.labelsize": MIN_PT,
    "ytick.labelsize": MIN_PT,
    "legend.fontsize": MIN_PT,
    "legend.title_fontsize": MIN_PT,
    "figure.titlesize": 9,
    "lines.markersize": 4.5,
    "axes.titlepad": 4,
}


@contextlib.contextmanager
def style():
    """Sizes for print: text at least MIN_PT points (the seaborn 'notebook' context is larger)."""
    with plt.rc_context(STYLE):
        yield


def tick(v) -> str:
    return (
        str(int(v))
        if isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer()
        else str(v)
    )


def ci_points(
    ax,
    summary: pd.DataFrame,
    x: str,
    hue: str | None,
    order=None,
    hue_order=None,
    line: bool = True,
    palette=None,
    prefix: str = "",
    ls: str = "-",
):
    """Means with t-interval error bars, one series per `hue` value, dodged around each x."""
    s = summary.copy()
    s[x] = s[x].map(tick)
    xs = order or list(dict.fromkeys(s[x]))
    hues = (hue_order or sorted(set(s[hue]))) if hue else [None]
    palette = palette or dict(zip(hues, sns.color_palette(n_colors=max(len(hues), 1))))
    width = 0.5
    for j, h in enumerate(hues):
        g = s if h is None else s[s[hue] == h]
        offset = (j - (len(hues) - 1) / 2) * (width / max(len(hues), 1))
        pos = np.array([xs.index(v) for v in g[x]]) + offset
        err = np.nan_to_num(np.vstack([g["mean"] - g["ci_lo"], g["ci_hi"] - g["mean"]]), nan=0.0)
        ax.errorbar(
            pos,
            g["mean"],
            yerr=err,
            fmt="o" + (ls if line else ""),
            color=palette.get(h, "tab:blue"),
            capsize=3,
            lw=1.5,
            label=f"{prefix}{tick(h)}" if h is not None else None,
        )
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels(xs)
    ax.set_xlim(-0.5, len(xs) - 0.5)


# ------------------------------------------------------------------ page 1


@dataclass(frozen=True)
class Panel:
    """One panel of the page-1 figure, against the latent size d: `draw(ax)` draws it (and returns
    True when it has a legend to show below the figure); `caption` says what it shows."""

    title: str
    ylabel: str
    draw: Callable
    caption: str


LEGEND_ROW = 6  # entries of the page-1 legend per row at most


def overview(panels: list[Panel]):
    """The answer at a glance: the experiments' panels side by side, each against d, lettered
    (a), (b), ...; the legends the panels ask for go below the figure as one (each label once, in
    rows of at most LEGEND_ROW entries). None without panels."""
    if not panels:
        return None
    with style():
        fig, axes = plt.subplots(1, len(panels), figsize=(WIDTH, 2.1), squeeze=False)
        below: dict = {}
        for j, (ax, panel) in enumerate(zip(axes[0], panels)):
            if panel.draw(ax):
                for h, label in zip(*ax.get_legend_handles_labels()):
                    below.setdefault(label, h)
            ax.set_ylabel(panel.ylabel)
            ax.set_title(f"({'abcdefgh'[j]}) {panel.title}")
            ax.set_xlabel(vocab.axis(about.OVERVIEW_X))
        rows = -(-len(below) // LEGEND_ROW)
        if below:
            fig.set_size_inches(WIDTH, 2.1 + 0.2 * (rows - 1))
            fig.legend(
                list(below.values()),
                list(below),
                loc="lower center",
                ncol=-(-len(below) // rows),
                frameon=False,
                handlelength=1.8,
                columnspacing=1.2,
            )
        fig.tight_layout(w_pad=1.0, rect=(0, 0.1 * rows + 0.01 * bool(rows), 1, 1))
    return fig


def overview_caption(panels: list[Panel], tail: str) -> str:
    """'Against the latent size d: (a) ...; (b) .... ' + tail (what the means are over and the bars)."""
    return (
        f"Against the {vocab.axis(about.OVERVIEW_X)}: "
        + "; ".join(f"({'abcdefgh'[j]}) {p.caption}" for j, p in enumerate(panels))
        + ". "
        + tail
    )
