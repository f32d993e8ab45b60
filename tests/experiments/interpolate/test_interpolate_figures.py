"""The interpolate run's measures figure: a line per model, a legend entry per d."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from aestudy.experiments.interpolate import plots  # noqa: E402


def test_the_measures_figure_draws_a_line_per_model_and_names_each_d_once():
    alphas = np.linspace(0, 1, 5)
    curves = [
        {"latent_dim": d, "num_conv": nc, "seed": s, "sharpness": list(alphas), "pair_mass": list(alphas)}
        for d in (10, 20)
        for nc in (1, 2, 3)
        for s in (0, 1)
    ]
    fig = plots.measures_figure(curves, alphas)
    assert [ax.get_title() for ax in fig.axes] == ["(a) sharpness", "(b) on the two digits"]
    assert len(fig.axes[0].get_lines()) == 12 + 1  # the models, and the dashed line at 1
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["d=10", "d=20"]
    assert legend.get_title().get_text() == "12 models"
