"""Why one autoencoder of the sweep trains worse: dead units, and a learning-rate warm-up.

Trains the autoencoder of one grid point (default d=20, num_conv=3, at the default profile's
fidelity) for each seed, with the profile's setup and with a linear learning-rate warm-up, and
prints after every epoch the validation error and the fraction of dead units in the encoder's
hidden layer (ReLU units that are zero on every validation image). The validation images are
training images outside the training subset (both drawn by `--data-seed`, the same for every
seed, as in the study): the test set is never read, so a warm-up chosen from these figures is
not chosen on the test set. Prints figures, asserts nothing.

    python benchmarks/outlier.py [--latent-dim 20] [--num-conv 3] [--seeds 0 1 2 3 4] [--epochs 2]
                                 [--train-size 8000] [--val-size 2000] [--warmup 0 100] [--output-bias torch]

`--output-bias torch` trains from PyTorch's init as the sweeps did before `output_bias: mean`
(science.models.start_output_at_mean), the start this script's figures of 2026-11-27 and 2026-12-02 had.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from aestudy.experiments.autoencode import run as train
from aestudy.science import data, models
from aestudy.vocabulary import OUTPUT_BIASES


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latent-dim", type=int, default=20)
    ap.add_argument("--num-conv", type=int, default=3)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--train-size", type=int, default=8000)
    ap.add_argument("--val-size", type=int, default=2000, help="training images outside the subset")
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, nargs="+", default=[0, 100], help="warm-up steps (0: none)")
    ap.add_argument("--precision", choices=("float32", "bfloat16"), default="float32")
    ap.add_argument(
        "--output-bias", choices=OUTPUT_BIASES, default="mean", help="where the decoder's output starts"
    )
    args = ap.parse_args()
    data_dir = os.environ.get("DATA_DIR", "data")
    torch.set_num_threads(int(os.environ.get("LIB_THREADS", "1")))
    print(
        f"d={args.latent_dim} num_conv={args.num_conv}, {args.train_size} images x {args.epochs} epochs, "
        f"lr {args.lr:g}, {args.precision}, output bias {args.output_bias}; dead = fraction of encoder hidden units zero on all {args.val_size} validation images "
        "(training images outside the subset; no test image is read)"
    )
    full = data.load_split("mnist", train=True, data_dir=data_dir)
    perm = torch.randperm(len(full), generator=torch.Generator().manual_seed(args.data_seed))
    tr = full.subset(
        perm[: args.train_size].sort().values
    )  # data.load_split(limit=train_size, seed=data_seed)'s
    te = full.subset(perm[args.train_size : args.train_size + args.val_size].sort().values)
    print("warmup  seed  epoch  val_error  dead_enc_hidden  dead_dec_hidden  seconds")
    for warmup in args.warmup:
        for seed in args.seeds:
            train.setup(seed)
            model = models.AutoEncoder(models.AEConfig(args.latent_dim, args.num_conv))
            if args.output_bias == "mean":
                models.start_output_at_mean(model, tr.images)
            start = time.perf_counter()

            def report(m, epoch):
                dead = models.dead_units(m, te.images)
                err = train.reconstruction_error(m, te.images)
                print(
                    f"{warmup:6d}  {seed:4d}  {epoch:5d}  {err:10.4f}  {dead['encoder.fc.2']:15.2f}  "
                    f"{dead['decoder.fc.3']:15.2f}  {time.perf_counter() - start:7.1f}",
                    flush=True,
                )
                m.train()

            train.run(
                model,
                tr.images,
                te.images,
                epochs=args.epochs,
                lr=args.lr,
                seed=seed,
                device="cpu",
                progress=False,
                warmup_steps=warmup,
                on_epoch=report,
                precision=args.precision,
            )


if __name__ == "__main__":
    main()
