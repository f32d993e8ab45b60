"""How far the semi-supervised recipe goes at a larger budget than the default profile's: the recipe
of `experiments.semisup.run` (no cross-validation: the recipe given here) on N label draws, with the
untuned protocol on the same draws for comparison. Prints one line per draw and the mean.

Scored on held-out *training* images, never on the test set: `--val` training images outside the
profile's training subset (both drawn by the profile's data seed; with `train_size: null` the
subset is the other 60,000 - val). The default label draws (100-104) are ones no profile evaluates,
so a budget chosen from these figures is chosen on neither the test set nor an evaluated draw.

The encoder is a checkpoint (`--encoder`), or an autoencoder trained here by the autoencode
parameters of `--params` (default params/full.yaml: all 60,000 images, 10 epochs) at d=10,
num_conv=2, seed 0. On the 2-core CPU, full fidelity takes about 4 min for the autoencoder and
45-70 ms per recipe step.

    DATA_DIR=../shared/data python benchmarks/semisup_recipe.py --steps 3000 --threshold 0.8 [--val 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from aestudy.experiments.autoencode import run as train
from aestudy.experiments.semisup import run as semisup
from aestudy.experiments.transfer import run as transfer  # noqa: E402
from aestudy.science import artifacts, data, models


def trained_encoder(params: dict, dataset: str, pool, test) -> Path:
    ae = params["stages"]["autoencode"]["params"]
    cfg = models.AEConfig(
        latent_dim=10,
        num_conv=2,
        c_factor=ae["c_factor"],
        kernel_size=ae["kernel_size"],
        fc_hidden=ae["fc_hidden"],
    )
    train.setup(0)
    model = models.AutoEncoder(cfg)
    t = time.perf_counter()
    hist = train.run(
        model,
        pool.images,
        test.images,
        epochs=ae["epochs"],
        batch_size=ae["batch_size"],
        lr=ae["lr"],
        seed=0,
        progress=False,
        warmup_steps=ae.get("warmup_steps", 0),
    )
    print(
        f"autoencoder d=10 num_conv=2 seed 0: {ae['epochs']} epochs of {len(pool):,} images, "
        f"held-out MSE {hist['test_error'][-1]:.4f}, {time.perf_counter() - t:.0f} s",
        flush=True,
    )
    path = Path(tempfile.mkdtemp()) / "model.pt"
    artifacts.save_checkpoint(path, model, cfg.to_dict(), seed=0)
    return path


def split_with_validation(d: dict, n_val: int):
    """(the profile's training subset, `n_val` training images outside it), both drawn by the data
    seed as `data.load_split(limit=train_size, seed=data_seed)` draws the subset."""
    full = data.load_split(d["dataset"], train=True)
    perm = torch.randperm(len(full), generator=torch.Generator().manual_seed(d.get("data_seed", 0)))
    n_train = d.get("train_size") or len(full) - n_val
    if n_train + n_val > len(full):
        raise SystemExit(f"--val {n_val}: only {len(full) - n_train} training images lie outside the subset")
    return full.subset(perm[:n_train].sort().values), full.subset(
        perm[n_train : n_train + n_val].sort().values
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default="params/full.yaml")
    ap.add_argument("--encoder", default=None, help="an autoencode model.pt (default: train one)")
    ap.add_argument("--label-seeds", type=int, nargs="+", default=[100, 101, 102, 103, 104])
    ap.add_argument(
        "--val", type=int, default=10000, help="held-out training images scored (never the test set)"
    )
    ap.add_argument("--steps", type=int, default=None, help="default: the parameter file's recipe")
    ap.add_argument("--unlabelled-batch", type=int, default=None)
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--init", choices=("pretrained", "random"), default=None)
    args = ap.parse_args()

    params = yaml.safe_load(Path(args.params).read_text())
    d = params["data"]
    pool, test = split_with_validation(d, args.val)  # `test` here: held-out training images
    semi = params["stages"]["semisup"]["params"]
    changes = {
        k: v
        for k, v in (
            ("steps", args.steps),
            ("unlabelled_batch", args.unlabelled_batch),
            ("threshold", args.threshold),
            ("init", args.init),
        )
        if v is not None
    }
    recipe = semisup.recipe(**{**semi.get("recipe", {}), **changes})
    path = Path(args.encoder) if args.encoder else trained_encoder(params, d["dataset"], pool, test)
    encoder = transfer.load_encoder(path)
    encoder_key = transfer.draw_key(artifacts.load_checkpoint(path))  # whose label draws
    print(
        f"recipe {recipe}; {len(pool):,} unlabelled images; scored on {len(test):,} held-out training images "
        "(no test image is read)",
        flush=True,
    )
    means = {}
    for s in args.label_seeds:
        t = time.perf_counter()
        train.setup(0)
        recs = semisup.run(
            encoder,
            pool,
            test,
            [s],
            encoder_key,
            semi.get("h1", 650),
            semi.get("n_labels", 100),
            semi.get("balanced", True),
            recipe,
        )
        acc = {r["method"]: r["accuracy"] for r in recs}
        for k, v in acc.items():
            means.setdefault(k, []).append(v)
        print(
            f"label draw {s}: "
            + ", ".join(f"{k} {100 * v:.2f} %" for k, v in acc.items())
            + f"  ({time.perf_counter() - t:.0f} s, {1000 * (time.perf_counter() - t) / recipe['steps']:.0f} ms/step)",
            flush=True,
        )
    print(
        "mean over label draws: "
        + ", ".join(f"{k} {100 * sum(v) / len(v):.2f} % (n = {len(v)})" for k, v in means.items())
    )


if __name__ == "__main__":
    main()
