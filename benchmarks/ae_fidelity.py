"""How far the study's autoencoders train in a budget, judged on held-out TRAINING images.

For each (d, num_conv) cell and each training recipe (images, epochs, learning-rate schedule,
peak rate), one autoencoder (seed 0, one thread, the profile's precision) is trained and its
validation error (MSE on `--val` held-out training images; never the test set) is printed beside
PCA's with the same d (fitted on the same training images, measured on the same validation
images), with the CPU seconds of its training. The default profile's recipe was chosen from this
table (benchmarks/README.md): the cheapest recipe whose validation error is below PCA's in every
cell. Rows print as they finish, so a stopped run keeps what it measured.

    .venv/bin/python benchmarks/ae_fidelity.py --train 7000 --epochs 2 4 --lr 1e-3 3e-3 --schedule constant cosine
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time

import torch

from aestudy.experiments.autoencode import baselines
from aestudy.experiments.autoencode import run as train
from aestudy.science import data, models
from aestudy.vocabulary import OUTPUT_BIASES


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latent-dim", type=int, nargs="+", default=[5, 10, 15, 20])
    ap.add_argument("--num-conv", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--train", type=int, nargs="+", default=[7000])
    ap.add_argument("--epochs", type=int, nargs="+", default=[2])
    ap.add_argument("--lr", type=float, nargs="+", default=[1e-3])
    ap.add_argument("--schedule", nargs="+", default=["constant"])
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--val", type=int, default=2000)
    ap.add_argument("--precision", default="bfloat16")
    ap.add_argument("--seed", type=int, nargs="+", default=[0])
    ap.add_argument("--output-bias", nargs="+", default=["mean"], choices=OUTPUT_BIASES)
    ap.add_argument(
        "--hidden-bias",
        nargs="+",
        default=["torch"],
        help="the encoder hidden layer's starting bias: torch (its init) or a number (benchmarks/dead_units.py)",
    )
    a = ap.parse_args(argv)
    print(
        "train  epochs  steps  schedule  lr      bias   hidden  seed  d   nc  val_error  pca_val  ratio  val_change  dead   cpu_s",
        flush=True,
    )
    for n_train, epochs, schedule, lr in itertools.product(a.train, a.epochs, a.schedule, a.lr):
        tr, val = data.load_train_val("mnist", limit=n_train, val_size=a.val, seed=0)
        for d, nc, bias, hidden, seed in itertools.product(
            a.latent_dim, a.num_conv, a.output_bias, a.hidden_bias, a.seed
        ):
            train.setup(seed, threads=1)
            model = models.AutoEncoder(
                models.AEConfig(latent_dim=d, num_conv=nc, c_factor=8, kernel_size=3, fc_hidden=256)
            )
            if bias == "mean":
                models.start_output_at_mean(model, tr.images)
            if hidden != "torch":
                with torch.no_grad():
                    model.encoder.fc[1].bias.fill_(float(hidden))
            cpu = time.process_time()
            h = train.run(
                model,
                tr.images,
                val.images[:500],
                epochs=epochs,
                batch_size=a.batch_size,
                lr=lr,
                seed=seed,
                progress=False,
                warmup_steps=a.warmup,
                precision=a.precision,
                val_images=val.images,
                schedule=schedule,
            )
            cpu = time.process_time() - cpu
            v, pca = h["val_error"], baselines.pca_error(tr.images, val.images, d)
            change = v[-1] / v[-2] - 1 if len(v) > 1 else float("nan")
            steps = epochs * -(-len(tr) // a.batch_size)
            dead = models.dead_units(model, val.images)[models.ENCODER_HIDDEN]
            print(
                f"{len(tr):5d}  {epochs:6d}  {steps:5d}  {schedule:8s}  {lr:.0e}  {bias:5s}  {hidden:6s}  {seed:4d}  {d:2d}  {nc:2d}  "
                f"{v[-1]:.5f}    {pca:.5f}  {v[-1] / pca:.2f}   {100 * change:+6.1f} %   {dead:.2f}  {cpu:6.1f}",
                flush=True,
            )


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
