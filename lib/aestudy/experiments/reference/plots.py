"""The reference run's figure: the classifier's confidence on the test images."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ...drawing import show  # noqa: F401 (the notebook's; importing it sets seaborn's theme)


def confidence_histogram(confidence, correct):
    """The classifier's top-class probability on the test images, stacked: the images it
    classifies correctly and the others (log counts)."""
    confidence, correct = np.asarray(confidence), np.asarray(correct, dtype=bool)
    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.hist(
        [confidence[correct], confidence[~correct]],
        bins=np.linspace(0.1, 1.0, 19),
        stacked=True,
        color=["tab:green", "tab:red"],
        label=[f"correct ({correct.sum()})", f"wrong ({(~correct).sum()})"],
    )
    ax.set_yscale("log")
    ax.set_xlabel("top-class probability (confidence)")
    ax.set_ylabel("test images")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
