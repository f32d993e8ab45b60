"""The correlate run's figures show what the report shows: one seed's matrices, titled readably."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402

from aestudy.experiments.correlate import plots  # noqa: E402


def _records(seeds=(0, 1, 2)):
    return pd.DataFrame(
        [
            {"model": f"autoencode/d{d}-nc{nc}-s{s}", "latent_dim": d, "num_conv": nc, "seed": s}
            for s in seeds
            for nc in (1, 2)
            for d in (5, 10, 20)
        ]
    )


def test_the_heatmaps_are_of_the_smallest_seed_at_the_smallest_and_largest_d():
    keys = plots.heatmap_keys(_records(seeds=(2, 1, 3)))
    assert keys == [
        "autoencode/d5-nc1-s1",
        "autoencode/d20-nc1-s1",
        "autoencode/d5-nc2-s1",
        "autoencode/d20-nc2-s1",
    ]


def test_the_heatmaps_of_stand_ins_without_a_seed_are_every_num_conv_at_both_ends():
    records = _records(seeds=(0,)).assign(seed=None, model=lambda r: r["model"].str.replace("-s0", ""))
    assert plots.heatmap_keys(records) == [
        "autoencode/d5-nc1",
        "autoencode/d20-nc1",
        "autoencode/d5-nc2",
        "autoencode/d20-nc2",
    ]


def test_a_heatmap_is_titled_by_d_num_conv_and_seed():
    fig = plots.correlation_heatmaps({"autoencode/d5-nc1-s0": [[1.0, 0.2], [0.2, 1.0]], "d10-nc2": [[1.0]]})
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["d=5, num_conv=1, seed 0", "d=10, num_conv=2"]
