"""What every run's figures share: seaborn's theme, and how a figure is saved and shown.

Each experiment draws its own figures (its package's `plots`); each returns a matplotlib Figure,
and `show(fig, path)` saves it as PNG (atomically), closes it and returns an IPython image, so a
notebook cell shows each figure exactly once whatever the matplotlib backend.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns

from ..files import atomic_write_bytes

sns.set_theme(style="whitegrid", context="notebook")


def save_figure(fig, path, dpi: int = 110) -> Path:
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
