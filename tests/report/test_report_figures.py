"""The report's figures say what they show (issue 30): a saved interpolation figure's caption
counts the figure's rows, not the table's; the correlation heat-maps' titles can be read."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from aestudy.experiments.correlate import report as correlate
from aestudy.experiments.interpolate import figures as interpolate_figures
from aestudy.report import profile


def _interpolate_profile(tmp_path, seeds=(0, 1, 2, 3, 4), ds=(10, 20), ncs=(3, 2), shared=None):
    """One interpolate run over every seed's d = 10 and d = 20 models of each num_conv (as the
    default profile runs it), its metrics.json and its saved figure of the pair 1-5; `shared`: its
    recorded `shared_images` (None: a run from before the field, which shared them)."""
    run = tmp_path / "runs" / "interpolate" / "interpolate"
    run.mkdir(parents=True)
    records = [
        {
            "pair": "1-5",
            "latent_dim": d,
            "num_conv": nc,
            "seed": s,
            "n_image_pairs": 30,
            "end_sharpness_error": 0.1,
            "mid_pair_mass_rel": 0.9,
            "mid_entropy_excess": 0.2,
        }
        for s in seeds
        for nc in ncs
        for d in ds
    ]
    extra = {} if shared is None else {"shared_images": shared}
    (run / "metrics.json").write_text(
        json.dumps({"records": records, "curves": [], "alphas": [0.0, 0.5, 1.0], **extra})
    )
    (run / "interpolation_1-5.png").write_bytes(b"")
    table = pd.DataFrame([{**r, "run_id": "interpolate", "status": "ok"} for r in records])
    return profile.ProfileData(tmp_path, tables={"interpolate": table})


def test_an_interpolation_caption_counts_the_figures_rows_not_the_tables(tmp_path):
    data = _interpolate_profile(tmp_path)
    [(path, caption)] = interpolate_figures.run_figures(data)
    assert path.name == "interpolation_1-5.png"
    # the run draws the first model pair (one seed and num_conv: experiments.interpolate.run.run): 2 rows,
    # not the table's 20
    assert (
        "one row per model of seed 0 and num_conv 3 (2 rows: d = 10 and 20; labelled at the left)" in caption
    )
    assert "20 in all" not in caption and "[0, 1, 2, 3, 4]" not in caption
    assert (
        "the first of the 30 image pairs drawn for seed 0 and num_conv 3; its other 29 and the image pairs of the "
        "other 9 model pairs are measured in the tables below" in caption
    )
    assert "at 3 values of a from 0 to 1" in caption


def test_an_interpolation_caption_says_whose_image_pair_every_model_decodes(tmp_path):
    """Every model on its own images (shared_images false): the figure decodes the first model's first
    pair with every model of its seed and num_conv, which the caption says, and that each model is
    measured on its own pairs."""
    data = _interpolate_profile(tmp_path, shared=False)
    [(_, caption)] = interpolate_figures.run_figures(data)
    assert (
        "the first of the 30 image pairs drawn for the d=10 model of seed 0 and num_conv 3, decoded by every "
        "model of seed 0 and num_conv 3, though it is not among the others' own; the tables below measure every "
        "model on its own 30 image pairs)" in caption
    )
    assert "model pairs" not in caption


def _overlaps(boxes) -> list:
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)]


@pytest.mark.parametrize(
    "keys",
    [
        [f"autoencode/d{d}-nc{nc}-s0" for nc in (1, 2, 3) for d in (5, 20)],  # models named by their run
        [f"d{d}-nc{nc}-s0" for nc in (1, 2, 3) for d in (5, 20)],
        [f"model-{i}" for i in range(6)],  # unparsed keys: one row
    ],
)
def test_the_heatmap_titles_do_not_overlap(keys):
    rng = np.random.default_rng(0)
    mats = {k: np.corrcoef(rng.normal(size=(5, 50))).tolist() for k in keys}
    titles = {k: f"d={k.split('d')[-1].split('-')[0]}, num_conv=1, seed 0" for k in keys}
    fig = correlate.heatmaps(mats, titles)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 6
    if keys[0].startswith(("autoencode/", "d")):
        rows = {round(ax.get_position().y0, 3) for ax in shown}
        assert len(rows) == 2  # one row per d, one column per num_conv
    boxes = [(ax.get_title(), ax.title.get_window_extent(renderer)) for ax in shown]
    assert not _overlaps(boxes)


@pytest.mark.parametrize("num_conv", [False, True])
def test_the_transfer_panels_titles_do_not_overlap(num_conv):
    """With several num_conv each title names it too: on one line the three ran into each other."""
    import matplotlib.pyplot as plt

    from aestudy.experiments.transfer import summaries as transfer_data
    from aestudy.vocabulary import MODES

    rows = [
        {"h1": h, "latent_dim": d, "mode": m, "mean": 0.8, "ci_lo": 0.75, "ci_hi": 0.85, "n": 4}
        for h in (200, 650, 1000)
        for d in (5, 10, 15, 20)
        for m in MODES
    ]
    s = pd.DataFrame(rows)
    fig = transfer_data.summary_figure(s, s, s.drop_duplicates("mode"), None, num_conv=num_conv)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(ax.get_title(), ax.title.get_window_extent(renderer)) for ax in fig.axes]
    plt.close(fig)
    assert all("num_conv" in t for t, _ in boxes) == num_conv
    assert not _overlaps(boxes)
