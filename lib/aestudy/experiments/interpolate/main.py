"""The interpolate run as its notebook calls it: `main(params, checkpoints=..., classifiers=...,
out_dir=...)` does the whole run (seeding, data, stand-ins when nothing was received, the
measures, the files it writes, its summary line), so the notebook stays narrative, one call and
its figures, and what it does is tested here (tests/experiments/interpolate)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...ondisk import METRICS, RESOURCES
from ...science import artifacts, data, training
from ..autoencode import standins
from ..reference import run as reference
from . import run as interpolation

if TYPE_CHECKING:
    import pandas as pd  # the table's type; imported where one is made

DIMS_WITHOUT_CHECKPOINTS = (10, 20)  # the study's two latent sizes, trained as stand-ins without checkpoints
SHOWN_COLUMNS = (  # the notebook's table: experiment 2's measures first, the secondary columns last
    "pair",
    "latent_dim",
    "num_conv",
    "seed",
    "end_sharpness_error",
    "end_sharpness",
    "mid_pair_mass_rel",
    "mid_entropy_excess",
    "mid_pair_mass",
    "end_pair_mass",
    "mid_confidence",
    "end_mse",
    "mid_nn_distance",
)


@dataclass
class InterpolateResult:
    """What the notebook's display and figures need: the run's folder, the models measured
    ((config, AutoEncoder) pairs), the values of a, each digit pair's figure data (its first
    image pair's decodes per model of the first seed) and the metrics written to metrics.json."""

    out: Path
    models: list
    alphas: object  # numpy array of the values of a
    pairs: list[dict]
    metrics: dict

    @property
    def curves(self) -> list[dict]:
        """The measures along a, per digit pair and model (the measures figure's lines)."""
        return self.metrics["curves"]

    @property
    def records(self) -> pd.DataFrame:
        """metrics.json's records: one row per digit pair and model."""
        import pandas as pd

        return pd.DataFrame(self.metrics["records"])

    def table(self) -> pd.DataFrame:
        """The records' columns a reader compares (those measured: no classifier columns without one)."""
        records = self.records
        return records[[c for c in SHOWN_COLUMNS if c in records]]


def stand_in_classifier(pool, data_seed: int, seed: int) -> reference.ReferenceCNN:
    """A reference classifier for a run that received none (JupyterLab, its defaults): one epoch
    on the training images but a tenth held out (at least 10), on which it is calibrated."""
    print("No classifier given: training a stand-in reference classifier for one epoch (then calibrated).")
    fit_idx, cal_idx = reference.calibration_split(len(pool), max(10, len(pool) // 10), data_seed)
    classifier, _ = reference.run(pool.images[fit_idx], pool.labels[fit_idx], epochs=1, seed=seed)
    reference.calibrate(classifier, pool.images[cal_idx], pool.labels[cal_idx])
    return classifier


def main(params: dict, *, checkpoints=(), classifiers=(), out_dir=None) -> InterpolateResult:
    """Interpolate between test images' codes for every autoencoder in `checkpoints` (none:
    stand-ins with d = 10 and 20, trained here) and measure the decodes, with the reference
    classifier in `classifiers` (none: a stand-in trained here); write metrics.json and
    resources.json (timings, memory) under `out_dir` (None: reports/lab/interpolate).

    `params`: the notebook's `check_parameters("interpolate", ...)`: the data fields and
    `InterpolateParams`' fields (the received paths come by keyword)."""
    p = params
    start = time.perf_counter()
    training.setup(p["image_seed"])
    out = artifacts.output_dir(out_dir, "interpolate")
    if not checkpoints:
        checkpoints = standins.stand_in_checkpoints(
            list(DIMS_WITHOUT_CHECKPOINTS),
            out,
            dataset=p["dataset"],
            data_dir=p["data_dir"],
            seed=p["image_seed"],
        )
    models = artifacts.load_models(checkpoints)
    test = data.split_of(p, train=False)
    pool = data.split_of(p)
    if classifiers:
        classifier = reference.load_one(classifiers)
    else:
        classifier = stand_in_classifier(pool, p["data_seed"], p["image_seed"])
    reference_images = data.sample_images(pool.images, p["n_reference"], p["image_seed"]).numpy()
    result = interpolation.run(
        models,
        test,
        reference_images,
        p["pairs"],
        p["steps"],
        p["image_seed"],
        classifier=classifier,
        pairs_per_digit_pair=p["pairs_per_digit_pair"],
        shared_images=p["shared_images"],
    )
    artifacts.write_json(out / METRICS, result["metrics"])
    artifacts.write_json(
        out / RESOURCES,
        {"seconds": time.perf_counter() - start, "peak_rss_mb": artifacts.peak_rss_mb()},
    )
    done = InterpolateResult(
        out=out, models=models, alphas=result["alphas"], pairs=result["pairs"], metrics=result["metrics"]
    )
    print(summary_line(done))
    return done


def summary_line(result: InterpolateResult) -> str:
    """How many models of each d, digit pairs and image pairs were measured, and the a taken as 0.5."""
    import pandas as pd

    by_d = pd.Series([c["latent_dim"] for c, _ in result.models]).value_counts().sort_index()
    n_images = int(result.records["n_image_pairs"].min())
    n_pairs = len(result.pairs)
    return (
        f"{len(result.models)} models ({'; '.join(f'{n} with d={d}' for d, n in by_d.items())}); "
        f"{n_pairs} digit pair{'s' * (n_pairs != 1)} x {n_images} image pair{'s' * (n_images != 1)}; "
        f"a near 0.5 is a = {result.metrics['mid_alpha']:.2f}"
    )
