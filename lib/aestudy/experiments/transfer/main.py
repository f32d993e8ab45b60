"""The transfer stage's one call from its notebook: everything a run does around `run.run` (set-up,
data, stand-in encoder, the protocols it receives, the files it writes), so the notebook stays
narrative, a call and a figure, and the glue is tested here
(tests/experiments/transfer/test_transfer_main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...ondisk import METRICS, RESOURCES
from ...science import artifacts, data, training
from ..autoencode import standins
from . import run as transfer

if TYPE_CHECKING:
    import pandas as pd  # the tables' type; imported where one is made


@dataclass
class TransferResult:
    """What the notebook shows: the folder written to, one row per (h1, mode, label seed) and per
    (baseline, label seed) (`records`, as in metrics.json), and the encoder's shape for the figure's
    title."""

    out: Path
    records: pd.DataFrame
    latent_dim: int
    num_conv: int
    n_test: int
    protocols: dict  # {mode: the protocol.json entry it was trained by}; a mode absent: untuned

    def table(self) -> pd.DataFrame:
        """Mean test accuracy over label seeds (and its min-max) per mode and h1; baselines with h1 '-'."""
        return transfer.accuracy_table(self.records)


def main(
    params: dict, *, checkpoints: list[str] | None = None, protocols: list[str] | None = None, out_dir=None
) -> TransferResult:
    """One transfer run: the encoder of the one checkpoint in `checkpoints` (a stand-in autoencoder
    trained first without any) under an MLP, every (h1, mode, label seed) trained by the protocol
    chosen for its mode (`protocols`: the protocol stage's protocol.json files; none: the untuned
    protocol) and the raw-pixel baselines, tested on the whole test split; metrics.json and
    resources.json under `out_dir`, and a summary line printed.

    params: what the notebook's `check_parameters("transfer", ...)` returned (the data fields too)."""
    import pandas as pd

    p = params
    training.setup(p["label_seeds"][0])
    out = artifacts.output_dir(out_dir, "transfer")
    if not checkpoints:
        checkpoints = standins.stand_in_checkpoints([10], out, dataset=p["dataset"], data_dir=p["data_dir"])
    encoder = transfer.encoder_from_checkpoints(checkpoints)
    encoder_key = transfer.draw_key(artifacts.load_checkpoint(checkpoints[0]))  # whose label draws
    chosen = transfer.protocols_from(protocols or [])
    pool = data.split_of(p)
    test = data.split_of(p, train=False)
    with training.precision(p["precision"], p["device"]):
        result = transfer.run(
            encoder,
            pool,
            test,
            p["h1"],
            p["modes"],
            p["label_seeds"],
            n_labels=p["n_labels"],
            balanced=p["balanced"],
            protocols=chosen,
            baselines=p["baselines"],
            device=p["device"],
            draw_key=encoder_key,
        )
    artifacts.write_json(
        out / METRICS,
        {
            "num_conv": result["num_conv"],
            "n_test": result["n_test"],
            "protocols": chosen,
            "records": result["records"],
        },
    )
    artifacts.write_json(
        out / RESOURCES,
        {
            "seconds": result["timings"],
            "peak_rss_mb": artifacts.peak_rss_mb(),
            "precision": training.resolved_precision(p["precision"], p["device"]),
        },
    )
    records = pd.DataFrame(result["records"])
    print(
        f"encoder d={result['latent_dim']}, num_conv={result['num_conv']}; {len(records)} records; "
        f"test set of {result['n_test']} images; {result['timings']['total']:.1f} s"
    )
    return TransferResult(
        out=out,
        records=records,
        latent_dim=result["latent_dim"],
        num_conv=result["num_conv"],
        n_test=result["n_test"],
        protocols=chosen,
    )
