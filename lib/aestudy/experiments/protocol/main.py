"""The protocol stage's one call from its notebook: everything a run does around `run.run` (set-up,
data, stand-in encoder, the files it writes), so the notebook stays narrative, a call and a figure,
and the glue is tested here (tests/experiments/protocol/test_protocol_main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...ondisk import METRICS, RESOURCES
from ...science import artifacts, data, training
from ..autoencode import standins
from . import run as protocol

if TYPE_CHECKING:
    import pandas as pd  # the tables' type; imported where one is made


@dataclass
class ProtocolResult:
    """What the notebook shows: the folder written to, each mode's choice (as `run.run` returns
    it) and its table of candidates (`scores`: one row per (mode, candidate), the figure's data)."""

    out: Path
    choice: dict
    scores: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """Every candidate's cross-validation accuracy per mode (the chosen one marked)."""
        return self.scores


def main(params: dict, *, checkpoints: list[str] | None = None, out_dir=None) -> ProtocolResult:
    """One protocol run: each mode's protocol chosen by cross-validation on the labelled training
    images of the encoders in `checkpoints` (a stand-in autoencoder trained first without any), then
    protocol.json (what transfer and semisup receive), metrics.json and resources.json under
    `out_dir`. Reads no test image: the test set is for the transfer runs.

    params: what the notebook's `check_parameters("protocol", ...)` returned (the data fields too)."""
    p = params
    training.setup(p["search_seed"])
    out = artifacts.output_dir(out_dir, "protocol")
    if not checkpoints:
        checkpoints = standins.stand_in_checkpoints([10], out, dataset=p["dataset"], data_dir=p["data_dir"])
    pool = data.split_of(p)
    draws = protocol.labelled_draws(
        checkpoints, pool, p["label_seeds"], p["n_labels"], p["balanced"], device=p["device"]
    )
    with training.precision(p["precision"], p["device"]):
        choice = protocol.run(
            draws, p["modes"], p["h1"], p["space"], p["candidates"], p["folds"], seed=p["search_seed"]
        )
    scores = protocol.table(choice)  # one row per (mode, candidate)
    tuned_on = {  # where the protocols are tuned (said beside the verdicts)
        "encoders": [artifacts.model_label(cfg) for cfg, _ in artifacts.load_models(checkpoints)],
        "label_seeds": p["label_seeds"],
        "h1": p["h1"],
    }
    artifacts.write_json(
        out / "protocol.json",
        {
            mode: {
                "chosen": r["chosen"],
                "cv_accuracy": r["cv_accuracy"],
                "n_candidates": len(r["candidates"]),
                "folds": p["folds"],
                "tuned_on": tuned_on,
            }
            for mode, r in choice.items()
        },
    )
    artifacts.write_json(
        out / METRICS,
        {
            "folds": p["folds"],
            "candidates": p["candidates"],
            "h1": p["h1"],
            "encoders": list(dict.fromkeys(d["checkpoint"] for d in draws)),
            "label_seeds": p["label_seeds"],
            "records": scores.to_dict("records"),  # cv_se: each candidate's over folds
            "cv_folds": {  # every fold's accuracy (each draw's folds in turn)
                mode: [c["cv_folds"] for c in r["candidates"]] for mode, r in choice.items()
            },
        },
    )
    artifacts.write_json(
        out / RESOURCES,
        {
            "precision": training.resolved_precision(p["precision"], p["device"]),
            "peak_rss_mb": artifacts.peak_rss_mb(),
        },
    )
    return ProtocolResult(out=out, choice=choice, scores=scores)
