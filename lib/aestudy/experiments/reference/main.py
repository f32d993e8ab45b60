"""The reference run as its notebook calls it: `main(params, out_dir=...)` does the whole run
(seeding, data, training, calibration, the files it writes, its summary line), so the notebook
stays narrative, one call and a figure, and what it does is tested here (tests/experiments/reference)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...ondisk import METRICS, RESOURCES
from ...science import artifacts, data, training
from . import run as reference

if TYPE_CHECKING:
    import pandas as pd  # the table's type; imported where one is made


@dataclass
class ReferenceResult:
    """What the notebook's display and figure need: the run's folder, the calibrated classifier,
    its test summary (per-digit records, every test image's confidence and correctness) and the
    metrics written to metrics.json."""

    out: Path
    model: reference.ReferenceCNN
    summary: dict
    metrics: dict

    @property
    def records(self) -> pd.DataFrame:
        """metrics.json's records: one row per digit of the test set."""
        import pandas as pd

        return pd.DataFrame(self.metrics["records"])

    @property
    def confidence(self):
        return self.summary["confidence"]

    @property
    def correct(self):
        return self.summary["correct"]

    def table(self) -> pd.DataFrame:
        """Per digit of the test set: images, accuracy and mean confidence (calibrated)."""
        return self.records.set_index("digit")


def main(params: dict, *, out_dir=None) -> ReferenceResult:
    """Train the reference classifier on the profile's training images minus a held-out
    calibration split, fit its temperature on that split, and write classifier.pt (what
    interpolate receives), metrics.json (test accuracy and calibration before and after) and
    resources.json (timings, memory) under `out_dir` (None: reports/lab/reference).

    `params`: the notebook's `check_parameters("reference", ...)`: the data fields and
    `ReferenceParams`' fields."""
    p = params
    start = time.perf_counter()
    training.setup(p["seed"])
    out = artifacts.output_dir(out_dir, "reference")
    pool = data.split_of(p)
    test = data.split_of(p, train=False)
    fit_idx, cal_idx = reference.calibration_split(len(pool), p["calibration_size"], p["data_seed"])
    model, history = reference.run(
        pool.images[fit_idx],
        pool.labels[fit_idx],
        p["epochs"],
        p["batch_size"],
        p["lr"],
        p["seed"],
        p["channels"],
        p["hidden"],
        p["device"],
    )
    raw = reference.test_summary(model, test.images, test.labels)  # before calibration
    temperature = reference.calibrate(model, pool.images[cal_idx], pool.labels[cal_idx])
    calibration_ece = reference.expected_calibration_error(
        reference.probabilities(model, pool.images[cal_idx]), pool.labels[cal_idx]
    )
    reference.save_reference(
        out / "classifier.pt", model, seed=p["seed"], dataset=p["dataset"], temperature=temperature
    )
    summary = reference.test_summary(model, test.images, test.labels)
    metrics = {
        "test_accuracy": summary["accuracy"],
        "n_train": len(fit_idx),
        "n_calibration": len(cal_idx),
        "n_test": len(test),
        "temperature": temperature,
        "test_ece": summary["ece"],
        "test_ece_raw": raw["ece"],
        "calibration_ece": calibration_ece,
        "test_mean_confidence": summary["mean_confidence"],
        "test_mean_confidence_raw": raw["mean_confidence"],
        "train_loss": history["train_loss"],
        "records": summary["records"],
    }
    artifacts.write_json(out / METRICS, metrics)
    artifacts.write_json(
        out / RESOURCES,
        {
            "seconds": time.perf_counter() - start,
            "train_seconds": history["train_seconds"],
            "peak_rss_mb": artifacts.peak_rss_mb(),
        },
    )
    epochs = p["epochs"]
    print(
        f"trained on {len(fit_idx)} images for {epochs} epoch{'s' * (epochs != 1)} in "
        f"{history['train_seconds']:.1f} s; test accuracy {100 * summary['accuracy']:.2f} % on {len(test)} "
        f"images; temperature {temperature:.3f} (fitted on {len(cal_idx)} held-out training images); "
        f"{reference.calibration_words(summary['ece'], raw['ece'], len(cal_idx))}; "
        f"mean confidence {summary['mean_confidence']:.3f}"
    )
    return ReferenceResult(out=out, model=model, summary=summary, metrics=metrics)
