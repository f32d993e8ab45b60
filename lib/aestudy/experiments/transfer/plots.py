"""The transfer run's figure: accuracy against h1 per mode, the baselines as lines (drawn as the
report draws them: `aestudy.drawing`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from ...drawing import (
    baseline_lines,
    show,  # noqa: F401 (the notebook's; importing it sets seaborn's theme)
)
from ...vocabulary import MODES, in_mode_order, mode_palette


def transfer_run_figure(records: pd.DataFrame, title: str = ""):
    """One encoder: accuracy against h1 per mode (mean over seeds, seeds as dots), baselines as lines."""
    is_mode = records["mode"].isin(list(MODES))
    clf, base = records[is_mode].astype({"h1": int}), records[~is_mode]
    fig, ax = plt.subplots(figsize=(6, 3.8))
    by_mode = dict(
        x="h1", y="accuracy", hue="mode", hue_order=in_mode_order(clf["mode"]), palette=mode_palette()
    )
    sns.stripplot(clf, **by_mode, dodge=True, alpha=0.45, legend=False, ax=ax)  # each seed
    # their mean, beside its own dots: a stripplot dodges n hues over 0.8 (centres 0.8 (1 - 1/n) apart)
    n = clf["mode"].nunique()
    sns.pointplot(clf, **by_mode, dodge=0.8 * (1 - 1 / n), errorbar=None, markers="D", ax=ax)
    baseline_lines(ax, base)
    ax.set_ylabel("test accuracy")
    ax.set_xlabel("h1 (width of the first MLP layer)")
    ax.set_title(title)
    ax.legend(fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig
