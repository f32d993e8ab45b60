"""The autoencode run's figures: its loss curves and its reconstructions of test images."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from ...drawing import show  # noqa: F401 (the notebook's; importing it sets seaborn's theme)


def loss_curves(history: dict, title: str = "", test_subset: int | None = None):
    """The reconstruction error after every epoch: on the training images (the running mean over
    the epoch's batches, taken while the weights change), on the validation images when measured,
    and on the test images (on a `test_subset` of them before the last epoch, when one is given)."""
    fig, ax = plt.subplots(figsize=(5.6, 3.4))
    if len(history["epoch"]) == 1:  # one epoch: three numbers, not three lone points on an axis
        return _one_epoch(fig, ax, history, title)
    ax.plot(history["epoch"], history["train_error"], marker="o", label="train (running mean over the epoch)")
    if any(v is not None for v in history.get("val_error") or []):
        ax.plot(
            history["epoch"], history["val_error"], marker="o", label="validation (held-out training images)"
        )
    several = len(history["epoch"]) > 1
    test = f"test ({test_subset:,} images before the last epoch)" if test_subset and several else "test"
    ax.plot(history["epoch"], history["test_error"], marker="o", label=test)
    ax.set_xlabel("epoch")
    ax.set_ylabel("reconstruction error (MSE per pixel)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _one_epoch(fig, ax, history: dict, title: str):
    errors = {"train\n(running mean)": history["train_error"][0]}
    if (history.get("val_error") or [None])[0] is not None:
        errors["validation"] = history["val_error"][0]
    errors["test"] = history["test_error"][0]
    bars = ax.bar(list(errors), list(errors.values()), color=["C0", "C1", "C2"][: len(errors)])
    ax.bar_label(bars, fmt="%.4f", fontsize=8)
    ax.set_ylabel("reconstruction error (MSE per pixel)")
    ax.set_title(f"{title} (after its one epoch)" if title else "after its one epoch")
    fig.tight_layout()
    return fig


def reconstructions(model, images, n: int = 8, title: str = ""):
    """Inputs on the top row, their reconstructions below (the first `n`, fewer where a test
    subset has fewer)."""
    model.eval()
    x = images[:n]
    n = len(x)
    with torch.inference_mode():
        y = model(x)
    fig, axes = plt.subplots(2, n, figsize=(1.1 * max(n, 2), 2.5), squeeze=False)
    for i in range(n):
        for row, img in enumerate((x[i], y[i])):
            ax = axes[row, i]
            ax.imshow(img.squeeze(0).numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel("output")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
