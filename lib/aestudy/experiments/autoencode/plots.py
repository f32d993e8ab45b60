"""The autoencode run's figures: its loss curves and its reconstructions of test images."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from ...science.plots import save_figure  # noqa: F401 (the notebook's; it sets seaborn's theme)


def loss_curves(history: dict, title: str = ""):
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(history["epoch"], history["train_error"], marker="o", label="train")
    ax.plot(history["epoch"], history["test_error"], marker="o", label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("reconstruction error (MSE per pixel)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def reconstructions(model, images, n: int = 8, title: str = ""):
    """Inputs on the top row, their reconstructions below."""
    model.eval()
    x = images[:n]
    with torch.inference_mode():
        y = model(x)
    fig, axes = plt.subplots(2, n, figsize=(1.1 * n, 2.5))
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
