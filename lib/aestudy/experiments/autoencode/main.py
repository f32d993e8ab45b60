"""The autoencode notebook's one call: everything a run does between its parameters and its figures.

`main` loads the splits, builds the run's model (and, under --seeds-together, the models of the
further seeds of its cell), trains them (`together.fit`: `train.run` for one model), measures the
yardsticks and writes each model's folder: model.pt, metrics.json, resources.json. It lives here,
under tests (tests/experiments/autoencode/test_autoencode_main.py), so that the notebook keeps
only its narrative, this call and its figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ...ondisk import METRICS, RESOURCES
from ...science import artifacts, data, models
from ...science.fitting import derived_seed
from . import baselines, together
from . import run as train


@dataclass
class Trained:
    """One model of the run, with what its figures need: the run's own comes first, then each
    seed the runner had trained with it (`cell_runs`), each written to its own folder."""

    seed: int
    out: Path
    model: models.AutoEncoder
    history: dict
    metrics: dict
    title: str  # its figures' title: "d=5, num_conv=1, seed=0"


@dataclass
class Result:
    """What the notebook's figure cells draw: each trained model and the test images."""

    trained: list[Trained]
    test_images: torch.Tensor


def torch_seed(params: dict, seed: int) -> int:
    """The seed that initialises the model of grid seed `seed` in this run's cell and orders its
    batches: under `seed_scope: cell` one derived from (seed, d, num_conv), so that the models of
    different cells share nothing random and each is an independent unit of the verdicts; under
    `shared`, `seed` itself in every cell (the models of one seed then form a block)."""
    if params["seed_scope"] == "shared":  # validated parameters: the default is written out
        return int(seed)
    return derived_seed("autoencoder", int(seed), int(params["latent_dim"]), int(params["num_conv"]))


def main(params: dict, *, cell_runs: list[dict] | None = None, out_dir=None) -> Result:
    """The autoencode run for `params` (what `check_parameters("autoencode", ...)` returned).

    `cell_runs`: further seeds of this cell trained in the same steps, `[{"seed": 1, "out_dir":
    ...}]` (the runner's --seeds-together); None takes the one in `params`. `out_dir`: this run's
    folder (None: reports/lab/autoencode). Prints the split sizes and the architecture, then each
    model's test error beside PCA's and the mean image's."""
    p = params
    cell_runs = p.get("cell_runs", []) if cell_runs is None else cell_runs
    seeds = [p["seed"]] + [r["seed"] for r in cell_runs]  # one model per seed: this run's, then its cell's
    drawn = [torch_seed(p, s) for s in seeds]  # what initialises each and orders its batches
    train.setup(drawn[0])
    train_split, val_split = data.load_train_val(
        p["dataset"],
        data_dir=p["data_dir"],
        limit=p["train_size"],
        val_size=p["val_size"],
        seed=p["data_seed"],
    )
    test_split = data.split_of(p, train=False)
    config = models.AEConfig.from_params(p)  # the architecture's fields, by keyword
    outs = [artifacts.output_dir(d, "autoencode") for d in [out_dir] + [r["out_dir"] for r in cell_runs]]
    trained = together.build(config, drawn) if cell_runs else [models.AutoEncoder(config)]
    if p["output_bias"] == "mean":  # no random draw: each seed's init is otherwise PyTorch's
        for model in trained:
            models.start_output_at_mean(model, train_split.images)
    print(
        f"{len(train_split)} train / {len(val_split)} validation / {len(test_split)} test images; "
        f"{models.num_parameters(trained[0]):,} parameters; image and feature-map sizes "
        + " → ".join(f"{s}x{s}" for s in trained[0].encoder.sizes)
    )

    monitor = (
        data.sample_images(test_split.images, p["epoch_test_size"], p["data_seed"])
        if p["epoch_test_size"]
        else None
    )
    histories = together.fit(
        trained,
        drawn,
        train_split.images,
        test_split.images,
        epochs=p["epochs"],
        batch_size=p["batch_size"],
        optimizer=p["optimizer"],
        lr=p["lr"],
        device=p["device"],
        monitor_images=monitor,
        warmup_steps=p["warmup_steps"],
        precision=p["precision"],
        val_images=val_split.images if p["val_size"] else None,
        schedule=p["schedule"],
    )
    pca = baselines.pca_error(train_split.images, test_split.images, p["latent_dim"])
    mean_image = baselines.mean_image_error(train_split.images, test_split.images)
    result = Result([], test_split.images)
    for model, history, seed, out in zip(trained, histories, seeds, outs):
        dead = models.dead_units(
            model, monitor if monitor is not None else test_split.images
        )  # ReLU units zero on every image
        artifacts.save_checkpoint(
            out / "model.pt",
            model,
            config.to_dict(),
            dataset=p["dataset"],
            seed=seed,
            data_seed=p["data_seed"],
            val_size=p["val_size"],
        )
        metrics = _metrics(model, history, pca, mean_image, dead)
        artifacts.write_json(out / METRICS, metrics)
        artifacts.write_json(
            out / RESOURCES,
            {
                "train_seconds": history["train_seconds"],  # of all trained together
                "cuda_graph_replays": history["graph_replays"],
                "models_trained_together": len(trained),
                "precision": train.resolved_precision(p["precision"], p["device"]),
                "peak_rss_mb": artifacts.peak_rss_mb(),
            },
        )
        converged = (f"; validation error {metrics['final_val_error']:.5f}" if p["val_size"] else "") + (
            f", {100 * metrics['val_change']:+.1f} % in the last epoch"
            if metrics["val_change"] is not None
            else ""
        )
        print(
            f"seed {seed}: final test reconstruction error {metrics['final_test_error']:.5f} (PCA with "
            f"d={p['latent_dim']}: {pca:.5f}, the mean image: {mean_image:.5f}){converged}"
        )
        title = f"d={p['latent_dim']}, num_conv={p['num_conv']}, seed={seed}"
        result.trained.append(Trained(seed, out, model, history, metrics, title))
    return result


def _metrics(model, history: dict, pca: float, mean_image: float, dead: dict) -> dict:
    """metrics.json of one model (AutoencodeMetrics' keys): its errors, the yardsticks beside
    them, its dead units and its history; `val_change` is the last epoch's relative change of
    the validation error (None with one epoch or no validation images)."""
    val = history.get("val_error") or [None]
    return {
        "final_test_error": history["test_error"][-1],
        "final_train_error": history["train_error"][-1],
        "final_val_error": val[-1],
        "val_change": val[-1] / val[-2] - 1 if len(val) > 1 else None,
        "pca_test_error": pca,
        "mean_image_test_error": mean_image,
        "n_parameters": models.num_parameters(model),
        "dead_encoder_hidden": dead[models.ENCODER_HIDDEN],
        "dead_units": dead,
        "history": {
            k: history[k] for k in ("epoch", "train_error", "test_error", "val_error") if k in history
        },
    }
