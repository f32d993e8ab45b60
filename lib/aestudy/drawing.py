"""What the runs' figures (each experiment's `plots`) and the report's draw alike: seaborn's theme,
how a figure is saved and shown, and the marks both draw. Torch-free, so the report imports it
without the science side.

Importing it sets seaborn's theme, so every figure of a run and of the report has one look.
`show(fig, path)` saves a figure as PNG (atomically), closes it and returns an IPython image, so a
notebook cell shows each figure exactly once whatever the matplotlib backend.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from .files import atomic_write_bytes
from .vocabulary import BASELINE_NAMES, BASELINE_STYLE

sns.set_theme(style="whitegrid", context="notebook")
DPI = 110  # at this, a figure at most 7 in wide prints at about its own size on the report's A4 page
ANCHOR_DASHES = ("--", ":", "-.", "-")


def save_figure(fig, path, dpi: int = DPI) -> Path:
    """Write `fig` to `path` (its suffix names the format) in one atomic step."""
    buf = io.BytesIO()
    fig.savefig(buf, format=Path(path).suffix.lstrip(".") or "png", dpi=dpi, bbox_inches="tight")
    return atomic_write_bytes(path, buf.getvalue())


def show(fig, path):
    """Save `fig` as PNG at `path`, close it, and return it as an IPython image to display."""
    from IPython.display import Image

    path = save_figure(fig, path)
    plt.close(fig)
    return Image(filename=str(path))


def baseline_lines(ax, baselines: pd.DataFrame | None):
    """A horizontal line per raw-pixel baseline at its mean accuracy, styled and named as in every figure."""
    if baselines is None or baselines.empty:
        return
    for name, g in baselines.groupby("mode"):
        ax.axhline(
            g["accuracy"].mean(), label=BASELINE_NAMES.get(name, name), lw=1.2, **BASELINE_STYLE.get(name, {})
        )


def heatmap_keys(records: pd.DataFrame) -> list[str]:
    """The models whose matrices are shown: every num_conv at the smallest and the largest d, of
    the smallest seed (the run's figure and the report's show the same few)."""
    if records.empty:
        return []
    if "seed" in records and records["seed"].notna().any():
        records = records[records["seed"] == records["seed"].min()]
    ds = records["latent_dim"].astype(int)
    keep = records[(ds == ds.min()) | (ds == ds.max())]
    keep = keep.sort_values(["num_conv", "latent_dim"])
    return keep["model"].tolist() if "model" in keep else []


def accuracy_by_method(ax, records: pd.DataFrame, published: dict | None = None) -> None:
    """Test accuracy per method on `ax`: each label draw a grey dot, their mean a diamond; the
    published anchors (`{name: accuracy}`) as dashed lines, named for a legend (the semi-supervised
    run's figure and the report's draw it alike)."""
    order = list(dict.fromkeys(records["method"]))
    sns.stripplot(records, x="method", y="accuracy", order=order, color="0.45", alpha=0.6, ax=ax)
    sns.pointplot(
        records,
        x="method",
        y="accuracy",
        order=order,
        errorbar=None,
        markers="D",
        linestyles="none",
        color="C0",
        ax=ax,
    )
    for i, (name, acc) in enumerate((published or {}).items()):
        label = f"{name.replace(', published', '')}: {100 * acc:.1f} %"
        # anchors a tenth of a point apart overlap: each its own dash as well as its own colour
        ax.axhline(acc, color=f"C{i + 1}", ls=ANCHOR_DASHES[i % len(ANCHOR_DASHES)], lw=1.2, label=label)
    ax.set_ylabel("test accuracy")
    ax.set_xlabel("")
