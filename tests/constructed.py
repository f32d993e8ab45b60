"""Constructed tables shared by the report's tests: one row per autoencoder, per interpolated
digit pair and model, per transfer record, as the stages write them; and profile folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from aestudy.report import profile

SEEDS = (0, 1, 2)


def _ae(error, seeds=SEEDS, ds=(5, 10, 15, 20), ncs=(1, 2, 3)) -> pd.DataFrame:
    """error(d, num_conv, seed) -> final test error; one row per autoencoder."""
    return pd.DataFrame(
        [
            {
                "run_id": f"d{d}-nc{nc}-s{s}",
                "status": "ok",
                "latent_dim": d,
                "num_conv": nc,
                "seed": s,
                "final_test_error": error(d, nc, s),
            }
            for d in ds
            for nc in ncs
            for s in seeds
        ]
    )


def _good_error(d, nc, s):
    return (0.1 / d * (1.0 - 0.05 * nc) + (0.02 if d < 10 else 0.0)) * (1 + 0.05 * s)


def _interp(sharp_lo, sharp_hi, conf_lo, conf_hi, seeds=SEEDS) -> pd.DataFrame:
    """Per seed s, digit pair i: d=10 and d=20 rows (each a mean over 30 image pairs) with the
    i-th end Tenengrad ratio (its |ln| the verdict's measure) and a~0.5 endpoint mass relative to
    the ends (also the confidence), the d=20 values scaled by (1 + 0.1 s)."""
    rows = []
    for s in seeds:
        for i, pair in enumerate(["1-5", "3-6", "0-4"]):
            for d, sharp, conf in ((10, sharp_lo[i], conf_lo[i]), (20, sharp_hi[i], conf_hi[i])):
                k = 1 + 0.1 * s * (d == 20)
                rows.append(
                    {
                        "status": "ok",
                        "pair": pair,
                        "latent_dim": d,
                        "num_conv": 3,
                        "seed": s,
                        "n_image_pairs": 30,
                        "end_sharpness": sharp * k,
                        "mid_confidence": conf * k,
                        "end_sharpness_error": abs(np.log(sharp * k)),
                        "mid_pair_mass_rel": conf * k,
                        "mid_entropy_excess": 0.5 / (conf * k),
                        "pair_seed": 100 + s,
                        "input_confidence": 0.98,
                        "end_mse": 0.02,
                        "mid_nn_distance": 0.03,
                        "input_nn_distance": 0.03,
                    }
                )
    return pd.DataFrame(rows)


MODES = ("frozen", "finetune", "scratch", "augmented")


def _transfer(
    acc, seeds=SEEDS, ds=(5, 10, 15, 20), h1s=(200, 650, 1000), draws=(0, 1), base=(0.60, 0.65)
) -> pd.DataFrame:
    """acc(d, h1, mode, seed, draw) -> accuracy. As in the transfer stage's table: one encoder per
    (d, seed) (`seed` the autoencoder's), every encoder with its own label draws (`label_seed`: the
    draw is derived from the encoder and it), and its logreg / 1nn records per draw (here the same
    numbers for every encoder unless a test sets them)."""
    rows = []
    for d in ds:
        for s in seeds:
            encoder = {
                "run_id": f"d{d}-nc2-s{s}",
                "status": "ok",
                "seed": s,
                "latent_dim": d,
                "num_conv": 2,
                "n_labels": 100,
            }
            for draw in draws:
                for h in h1s:
                    for m in MODES:
                        rows.append(
                            {
                                **encoder,
                                "h1": float(h),
                                "mode": m,
                                "label_seed": draw,
                                "accuracy": acc(d, h, m, s, draw),
                            }
                        )
                rows.append(
                    {
                        **encoder,
                        "h1": np.nan,
                        "mode": "logreg",
                        "label_seed": draw,
                        "accuracy": base[0] + 0.01 * draw,
                    }
                )
                rows.append(
                    {
                        **encoder,
                        "h1": np.nan,
                        "mode": "1nn",
                        "label_seed": draw,
                        "accuracy": base[1] + 0.01 * draw,
                    }
                )
    return pd.DataFrame(rows)


def _study_like(d, h, m, s, draw):
    mode = {"frozen": 0.70, "finetune": 0.76, "scratch": 0.55, "augmented": 0.65}[m]
    return (
        mode
        + 0.004 * d
        + 0.003 * ((s * 7 + draw * 5 + h // 10) % 3)
        - 0.002 * (h == 1000)
        + 0.01 * s * (m != "scratch")
    )


def _write_profile(
    folder: Path, name: str, ae: pd.DataFrame, tr: pd.DataFrame, report: dict | None = None
) -> Path:
    (folder / "tables").mkdir(parents=True)
    ae.to_csv(folder / "tables" / "autoencode.csv", index=False)
    tr.to_csv(folder / "tables" / "transfer.csv", index=False)
    (folder / "params.yaml").write_text(
        yaml.safe_dump({"profile": name, **({"report": report} if report else {})})
    )
    return folder


def _study_profile(error=_good_error) -> profile.ProfileData:
    """A study-like profile: `error(d, num_conv, seed)` its autoencoders' final test errors."""
    return profile.ProfileData(
        Path("."),
        tables={
            "autoencode": _ae(error),
            "transfer": _transfer(_study_like),
            "interpolate": _interp([0.5] * 3, [0.7] * 3, [0.8] * 3, [0.6] * 3),
        },
    )
