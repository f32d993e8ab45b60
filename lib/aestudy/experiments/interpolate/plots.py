"""The interpolate run's figures: the measures along a, and each digit pair's decodes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...drawing import show  # noqa: F401 (the notebook's; importing it sets seaborn's theme)

FIGURE_FONT = 16  # a 13-column figure prints at about half size on A4: 16 pt in the figure, 8 pt on paper
PANELS = {
    "sharpness": ("(a) sharpness", "Tenengrad: decode / real digits"),
    "pair_mass": ("(b) on the two digits", "P(first digit) + P(second digit)"),
    "entropy": ("(c) uncertainty", "entropy of the classifier (nats)"),
}


def measures_figure(curves: list[dict], alphas):
    """The measures along a, one line per model (num_conv, seed; a colour per d, one legend entry
    per d), averaged over the digit pairs:
    (a) Tenengrad sharpness of the decode over the real digits' (dashed: as sharp as they are);
    (b) the calibrated reference classifier's probability on the two digits interpolated and
    (c) its entropy, when it was measured."""
    df = pd.DataFrame(curves)
    panels = [c for c in PANELS if c in df and df[c].notna().all()]
    ds = sorted(df["latent_dim"].unique())
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels) + 1.5, 3), squeeze=False)
    for ax, col in zip(axes[0], panels):
        named = set()
        for (d, _nc, _seed), g in df.groupby(["latent_dim", "num_conv", "seed"], dropna=False):
            ax.plot(
                alphas,
                np.mean(np.stack(g[col].tolist()), axis=0),
                marker="o",
                ms=3,
                color=f"C{ds.index(d)}",
                label=None if d in named else f"d={d}",
                alpha=0.8,
            )
            named.add(d)
        ax.set_xlabel("a")
        ax.set_title(PANELS[col][0])
        ax.set_ylabel(PANELS[col][1])
        if col == "sharpness":
            ax.axhline(1.0, color="0.5", lw=0.8, ls="--")
    handles, labels = axes[0][0].get_legend_handles_labels()
    models = df.groupby(["latent_dim", "num_conv", "seed"], dropna=False).ngroups
    fig.legend(handles, labels, loc="center right", fontsize=9, frameon=False, title=f"{models} models")
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    return fig


def interpolation_figure(pair: dict, alphas, title: str = ""):
    """One row per model: the first input, the decodes of (1-a) z1 + a z2, the second input."""
    rows = pair["rows"]
    xa, xb = pair["inputs"]
    n = len(alphas) + 2
    fig, axes = plt.subplots(len(rows), n, figsize=(0.95 * n, 1.15 * len(rows) + 0.6), squeeze=False)
    for r, row in enumerate(rows):
        images = [xa] + list(row["decodes"]) + [xb]
        for c, img in enumerate(images):
            ax = axes[r, c]
            ax.imshow(np.asarray(img).squeeze(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for s in ax.spines.values():
                s.set_visible(c in (0, n - 1))
                s.set_color("tab:orange")
            if r == 0:
                ax.set_title("input" if c in (0, n - 1) else f"{alphas[c - 1]:.2g}", fontsize=FIGURE_FONT)
        label = str(row["label"]).replace(", num_conv=", " nc").replace(", seed=", " s")
        axes[r, 0].set_ylabel(label, fontsize=FIGURE_FONT, rotation=0, ha="right", va="center")
    a, b = pair["pair"]
    fig.suptitle(title or f"Interpolation from digit {a} to digit {b} (columns: a)", fontsize=FIGURE_FONT + 2)
    fig.tight_layout()
    return fig
