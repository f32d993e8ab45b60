"""What the run notebooks' figures draw where two marks must line up or stay apart."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from aestudy import drawing  # noqa: E402
from aestudy.experiments.transfer import plots as transfer_plots  # noqa: E402


@pytest.mark.parametrize(
    "modes", [["frozen"], ["frozen", "finetune"], ["frozen", "finetune", "scratch", "augmented"]]
)
def test_each_modes_mean_diamond_stands_over_its_own_dots(modes):
    """stripplot dodges its hues over 0.8 of a category; the mean diamonds must be dodged alike,
    or a mode's mean sits beside another mode's dots."""
    records = pd.DataFrame(
        [
            {"h1": h1, "mode": m, "accuracy": 0.5 + 0.1 * i + 0.01 * s}
            for h1 in (200, 650)
            for i, m in enumerate(modes)
            for s in range(3)
        ]
    )
    ax = transfer_plots.transfer_run_figure(records).axes[0]
    groups = [c.get_offsets()[:, 0] for c in ax.collections if len(c.get_offsets()) == 3]
    diamonds = np.array([x for line in ax.lines if line.get_marker() == "D" for x in line.get_xdata()])
    assert len(groups) == len(diamonds) == 2 * len(modes)
    # the dots are jittered at random within their own slot, so their mean is not the slot's centre:
    # each group's nearest diamond must be its own (one per group) and closer than half a slot
    half_slot = 0.4 / len(modes)
    nearest = [int(np.argmin(np.abs(diamonds - xs.mean()))) for xs in groups]
    assert sorted(nearest) == list(range(len(diamonds)))
    assert all(abs(diamonds[i] - xs).max() < half_slot for i, xs in zip(nearest, groups))


def test_published_anchors_a_tenth_of_a_point_apart_are_told_apart_by_their_dashes():
    import matplotlib.pyplot as plt

    records = pd.DataFrame({"method": ["a", "a", "b", "b"], "accuracy": [0.9, 0.91, 0.8, 0.81]})
    published = {"x": 0.989, "y": 0.991, "z": 0.9907, "w": 0.9936}
    ax = plt.subplots()[1]
    drawing.accuracy_by_method(ax, records, published)
    anchors = [line for line in ax.lines if line.get_label().split(":")[0] in published]
    assert len(anchors) == 4 and len({line.get_linestyle() for line in anchors}) == 4


@pytest.mark.parametrize("n_images", [1, 3, 8, 20])
def test_the_reconstructions_figure_shows_as_many_images_as_the_test_subset_has_up_to_eight(n_images):
    """`data.test_size: 1` once failed every autoencode run here (an IndexError in the figure)."""
    import torch

    from aestudy.experiments.autoencode import plots as autoencode_plots
    from aestudy.science.models import AEConfig, AutoEncoder

    model = AutoEncoder(AEConfig(latent_dim=2, num_conv=1, c_factor=2, fc_hidden=8))
    fig = autoencode_plots.reconstructions(model, torch.rand(n_images, 1, 28, 28))
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 2 * min(n_images, 8)
    matplotlib.pyplot.close(fig)
