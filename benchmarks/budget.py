"""What the default profile's work is made of, measured as ratios in one process (1 torch thread,
as each of `make report`'s 2 workers runs): one autoencode run per num_conv at the profile's
fidelity (d = 10; epochs x train_size images, the per-epoch monitor and the final test error), one
transfer run (d = 10, num_conv = 2: 3 h1 x 4 modes by the untuned protocol, baselines) and
semi-supervised steps, in interleaved rounds (best of each). Each piece is timed in CPU seconds of
this process (`time.process_time`: with one thread, what a worker spends on it when it has a core
to itself, far less sensitive than wall time to other work on a shared machine) and in wall
seconds. Prints the pieces and a profile's work in those units: scale it by a measured `make
report` of a known profile to estimate another. Asserts nothing.

    DATA_DIR=../shared/data python benchmarks/budget.py [--rounds 2] [--epochs 2 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from aestudy.experiments.autoencode import run as train
from aestudy.experiments.semisup import run as semisup
from aestudy.experiments.transfer import run as transfer  # noqa: E402
from aestudy.science import data, models


def autoencode(pool, test, nc: int, epochs: int) -> float:
    train.setup(0)
    model = models.AutoEncoder(models.AEConfig(latent_dim=10, num_conv=nc))
    t = time.process_time()
    monitor = data.sample_images(test.images, 2000, 0)
    train.run(
        model,
        pool.images,
        test.images,
        epochs=epochs,
        seed=0,
        progress=False,
        monitor_images=monitor,
        warmup_steps=100,
        device="cpu",
    )
    models.dead_units(model, monitor)
    return time.process_time() - t


def transfer_run(pool, test) -> float:
    train.setup(0)
    enc = models.AutoEncoder(models.AEConfig(latent_dim=10, num_conv=2)).encoder
    t = time.process_time()
    transfer.run(
        enc,
        pool,
        test,
        [200, 650, 1000],
        ["frozen", "finetune", "scratch", "augmented"],
        [0],
        n_labels=100,
        balanced=True,
        protocols={},
        baselines=True,
        device="cpu",
        progress=False,
        draw_key=(0, 10, 2),
    )
    return time.process_time() - t


def semisup_step(pool, steps: int = 30, unlabelled_batch: int = 256) -> float:
    train.setup(0)
    enc = models.AutoEncoder(models.AEConfig(latent_dim=10, num_conv=2)).encoder
    _, idx = transfer.label_draw(pool.labels, 0, 0, 100, True)
    t = time.process_time()
    semisup.train(
        enc,
        650,
        pool.images[idx],
        pool.labels[idx],
        pool.images,
        semisup.recipe(steps=steps, unlabelled_batch=unlabelled_batch),
        0,
    )
    return (time.process_time() - t) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--epochs", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--train-size", type=int, default=8000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    pool = data.load_split("mnist", train=True, limit=args.train_size, seed=0)
    test = data.load_split("mnist", train=False)
    best: dict = {}
    for r in range(args.rounds):
        pieces = {
            f"autoencode nc={nc} {ep} epochs": (lambda nc=nc, ep=ep: autoencode(pool, test, nc, ep))
            for ep in args.epochs
            for nc in (1, 2, 3)
        }
        pieces["transfer run"] = lambda: transfer_run(pool, test)
        pieces["semisup step (256 unlabelled)"] = lambda: semisup_step(pool)
        pieces["semisup step (128 unlabelled)"] = lambda: semisup_step(pool, unlabelled_batch=128)
        for name, fn in pieces.items():
            wall = time.perf_counter()
            s = fn()
            best[name] = min(best.get(name, float("inf")), s)
            print(f"round {r}: {name}: {s:.3f} CPU s ({time.perf_counter() - wall:.2f} wall s)", flush=True)
    print("best of rounds:", {k: round(v, 3) for k, v in best.items()})
    for ep in args.epochs:
        per_seed = sum(best[f"autoencode nc={nc} {ep} epochs"] for nc in (1, 2, 3)) * 4
        print(
            f"{ep} epochs: autoencoders per seed (12 runs) {per_seed:.0f} s; transfer per seed (4 runs) "
            f"{4 * best['transfer run']:.0f} s; a semisup step {1000 * best['semisup step (256 unlabelled)']:.0f} ms "
            f"(256 unlabelled images), {1000 * best['semisup step (128 unlabelled)']:.0f} ms (128)"
        )


if __name__ == "__main__":
    main()
