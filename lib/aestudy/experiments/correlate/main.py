"""The correlate notebook's one call: everything a run does between its parameters and its figures.

`main` loads the autoencoders (or trains stand-ins when none is given), draws the images from
their own training images, runs the experiment (`correlation.run`) and writes metrics.json and
resources.json. It lives here, under tests (tests/experiments/correlate/test_correlate_main.py),
so that the notebook keeps only its narrative, this call and its figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ...drawing import heatmap_keys
from ...ondisk import METRICS, RESOURCES
from ...science import artifacts, data, training
from ..autoencode import standins
from . import run as correlation

DIMS_WITHOUT_CHECKPOINTS = [5, 10, 20]  # the stand-ins' latent sizes, without checkpoints
IMAGES_WITHOUT_CHECKPOINTS = 5000  # their training images: a seeded subset, the images are then drawn from it


@dataclass
class Result:
    """What the notebook shows: the records (its table), the matrices and the run's folder."""

    metrics: dict  # as written to metrics.json: n_encoded, records, matrices
    notes: list[str]  # the latent dimensions constant over the images, per model
    out: Path
    records: pd.DataFrame  # one row per model: the notebook's table and its figures' data

    def shown_matrices(self) -> dict:
        """The matrices the heat-maps draw, the report's own choice (`drawing.heatmap_keys`)."""
        return {k: self.metrics["matrices"][k] for k in heatmap_keys(self.records)}


def main(params: dict, *, checkpoints=(), out_dir=None) -> Result:
    """The correlate run for `params` (what `check_parameters("correlate", ...)` returned).

    `checkpoints`: the autoencoders' model.pt paths; none: stand-ins (d 5, 10, 20) trained on a
    seeded subset of `IMAGES_WITHOUT_CHECKPOINTS` training images drawn by `image_seed`, which the images
    are then drawn from. `out_dir`: the run's folder (None: reports/lab/correlate). Prints how
    many images were encoded and a note for each latent dimension that is constant."""
    start = time.perf_counter()
    training.setup(params["image_seed"])
    out = artifacts.output_dir(out_dir, "correlate")
    dataset, data_dir = params["dataset"], params["data_dir"]
    train_size, data_seed = params["train_size"], params["data_seed"]
    if not checkpoints:  # stand-ins, trained on a seeded subset: the images below are drawn from it too
        train_size, data_seed = IMAGES_WITHOUT_CHECKPOINTS, params["image_seed"]
        checkpoints = standins.stand_in_checkpoints(
            DIMS_WITHOUT_CHECKPOINTS,
            out,
            dataset=dataset,
            data_dir=data_dir,
            n_images=train_size,
            seed=data_seed,
        )
    models = artifacts.load_models(checkpoints)
    held_out = max((c["val_size"] or 0 for c, _ in models), default=0)  # the autoencoders' validation images
    pool, _ = data.load_train_val(
        dataset, data_dir=data_dir, limit=train_size, val_size=held_out, seed=data_seed
    )
    images = data.sample_images(pool.images, params["n_images"], params["image_seed"])
    result = correlation.run(models, images)
    artifacts.write_json(out / METRICS, result["metrics"])
    artifacts.write_json(
        out / RESOURCES,
        {"seconds": time.perf_counter() - start, "peak_rss_mb": artifacts.peak_rss_mb()},
    )
    print(f"{len(models)} models, {len(images):,} of their {len(pool):,} training images encoded")
    for note in result["notes"] or [
        "no latent dimension is constant over these images (no nan in any matrix)"
    ]:
        print("Note:", note)
    return Result(result["metrics"], result["notes"], out, pd.DataFrame(result["metrics"]["records"]))
