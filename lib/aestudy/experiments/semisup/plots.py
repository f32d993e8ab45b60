"""The semisup run's figure: test accuracy per method, the published anchors as lines (drawn as
the report draws them: `aestudy.drawing`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ...drawing import (
    accuracy_by_method,
    show,  # noqa: F401 (the notebook's; importing it sets seaborn's theme)
)


def semisup_run_figure(records: pd.DataFrame, title: str = "", published: dict | None = None):
    """One encoder: test accuracy per method (label draws as dots, their mean as a diamond), the
    published anchors (`{name: accuracy}`) as dashed lines."""
    published = published or {}
    fig, ax = plt.subplots(figsize=(6.4, 3.2 + 0.2 * len(published)))
    accuracy_by_method(ax, records, published)
    ax.set_title(title)
    ax.tick_params(axis="x", labelsize=9)
    if published:  # below the axis, in one column: never over a point, and no wider than the axes
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1, frameon=False)
    fig.tight_layout()
    return fig
