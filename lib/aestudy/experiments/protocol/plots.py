"""The protocol run's figure: each candidate's cross-validation accuracy, the chosen one marked."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from ...drawing import show  # noqa: F401 (the notebook's; importing it sets seaborn's theme)
from ...vocabulary import in_mode_order


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
