"""The semisup stage's one call from its notebook: everything a run does around `run.choose` and
`run.run` (set-up, data, stand-in encoder, the files it writes), so the notebook stays narrative,
a call and a figure, and the glue is tested here (tests/experiments/semisup/test_semisup_main.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...ondisk import METRICS, RESOURCES
from ...science import artifacts, data, training
from ..autoencode import standins
from ..transfer import run as transfer
from . import run as semisup

if TYPE_CHECKING:
    import pandas as pd  # the tables' type; imported where one is made


@dataclass
class SemisupResult:
    """What the notebook shows: the folder written to, the search (`choice` as `run.choose` returns
    it, `selection`: how the recipe was selected, `candidates`: one row per candidate recipe), one
    row per (method, label draw) (`records`, as in metrics.json) and the encoder's shape."""

    out: Path
    choice: dict
    selection: dict
    candidates: pd.DataFrame
    records: pd.DataFrame
    latent_dim: int
    num_conv: int

    def table(self) -> pd.DataFrame:
        """Test accuracy per method over the label draws: mean, min, max and count."""
        return self.records.groupby("method", sort=False)["accuracy"].agg(["mean", "min", "max", "count"])


def main(
    params: dict, *, checkpoints: list[str] | None = None, protocols: list[str] | None = None, out_dir=None
) -> SemisupResult:
    """One semisup run, in two steps whose order is the point: first the recipe is chosen by
    cross-validation on the search draw (`run.choose`) and written to recipe.json, before the test
    split is loaded, so no test image can sway the choice; only then is the test split read and
    every label draw evaluated (`run.run`: the chosen recipe beside the labelled-only classifiers,
    the protocol stage's choices from `protocols`). Without `checkpoints` a stand-in autoencoder is
    trained first. Writes recipe.json, metrics.json and resources.json under `out_dir`.

    params: what the notebook's `check_parameters("semisup", ...)` returned (the data fields too)."""
    import pandas as pd

    p = params
    recipe, space, folds, cv_steps = p["recipe"], p["space"], p["folds"], p["cv_steps"]
    training.setup(p["search_seed"])
    out = artifacts.output_dir(out_dir, "semisup")
    if not checkpoints:
        checkpoints = standins.stand_in_checkpoints([10], out, dataset=p["dataset"], data_dir=p["data_dir"])
    dev = training.pick_device(p["device"])
    encoder = transfer.encoder_from_checkpoints(checkpoints).to(dev)
    encoder_key = transfer.draw_key(artifacts.load_checkpoint(checkpoints[0]))  # whose label draws
    pool = data.split_of(p).to(dev)
    search = semisup.search_data(  # its images left out of the pool
        pool, encoder_key, p["search_label_seed"], p["n_labels"], p["balanced"]
    )
    search_steps = semisup.search_steps(recipe, space, p["candidates"], folds, cv_steps)
    steps = semisup.StepCounter(search_steps + len(p["label_seeds"]) * recipe["steps"])

    # 1. the search: no test image read so far
    started = time.perf_counter()
    with training.precision(p["precision"], p["device"]):
        choice = semisup.choose(
            encoder,
            p["h1"],
            search["x"],
            search["y"],
            search["unlabelled"],
            recipe,
            space,
            p["candidates"],
            folds,
            seed=p["search_seed"],
            cv_steps=cv_steps,
            on_step=steps,
        )
    search_seconds = time.perf_counter() - started
    selection = semisup.selection(
        len(choice["candidates"]), folds, cv_steps or recipe["steps"], p["search_label_seed"]
    )
    artifacts.write_json(
        out / "recipe.json",
        {"chosen": choice["chosen"], "cv_accuracy": choice["cv_accuracy"], "selection": selection},
    )
    print(f"chosen: {selection['label']}")
    candidates = semisup.table(choice)  # every candidate's cross-validation accuracy

    # 2. the evaluation: the test split is loaded only now, the recipe fixed
    test = data.split_of(p, train=False)
    started = time.perf_counter()
    with training.precision(p["precision"], p["device"]):
        records = semisup.run(
            encoder,
            pool,
            test,
            p["label_seeds"],
            encoder_key,
            p["h1"],
            p["n_labels"],
            p["balanced"],
            choice["chosen"],
            protocols=transfer.protocols_from(protocols or []),
            cv_accuracy=choice["cv_accuracy"],
            on_step=steps,
            selected_from=selection["candidates"],
        )
    precision = training.resolved_precision(p["precision"], dev)
    artifacts.write_json(
        out / METRICS,
        {
            "latent_dim": encoder.cfg.latent_dim,
            "num_conv": encoder.cfg.num_conv,
            "n_test": len(test.labels),
            "n_pool": len(pool.labels),
            "recipe": choice["chosen"],
            "selection": selection,
            "candidates": candidates.to_dict("records"),
            "records": records,
            "compute": {
                "device": str(dev),
                "precision": precision,
                "search_seconds": search_seconds,
                "evaluation_seconds": time.perf_counter() - started,
                "search_steps": search_steps,
                "steps_per_draw": choice["chosen"]["steps"],
            },
        },
    )
    artifacts.write_json(out / RESOURCES, {"precision": precision, "peak_rss_mb": artifacts.peak_rss_mb()})
    return SemisupResult(
        out=out,
        choice=choice,
        selection=selection,
        candidates=candidates,
        records=pd.DataFrame(records),
        latent_dim=encoder.cfg.latent_dim,
        num_conv=encoder.cfg.num_conv,
    )
