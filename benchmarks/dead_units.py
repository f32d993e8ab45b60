"""When the encoder's hidden ReLU units die, and whether keeping them alive lowers the error.

About half of every autoencoder's encoder hidden units are dead (zero on every held-out image)
after the default's recipe. This trains one autoencoder per (variant, cell, seed) with the
default's recipe (7,000 training images, 6 epochs, Adam at 2e-3 after a 100-step linear warm-up,
batch 64, float32, the decoder's output starting at the mean pixel) and prints the dead fraction
after the first steps and at the end, with the validation error (2,000 held-out TRAINING images,
never the test set) over PCA's with the same d. Variants, each a remedy one would try:

- `base`: the recipe as it is;
- `warm<N>`: a linear warm-up of N steps instead of 100;
- `layer<F>`: the encoder's hidden layer trained at F times the rate (its fan-in is the largest);
- `bias<B>`: that layer's biases started at B instead of PyTorch's small uniform draw.

    .venv/bin/python benchmarks/dead_units.py --variant base layer0.1 bias0.1 --cell 10,2 20,3
"""

from __future__ import annotations

import argparse
import itertools
import sys

import torch

from aestudy.experiments.autoencode import baselines
from aestudy.experiments.autoencode import run as train
from aestudy.science import data, models

WATCHED = (1, 5, 10, 20, 50, 100, 200)  # steps after which the dead fraction is printed
LR, WARMUP, EPOCHS, BATCH = 2e-3, 100, 6, 64


def variant_settings(variant: str) -> tuple[int, float, float | None]:
    """(warm-up steps, the hidden layer's rate factor, its starting bias or None) of a variant name."""
    for prefix, make in (
        ("warm", lambda v: (int(v), 1.0, None)),
        ("layer", lambda v: (WARMUP, float(v), None)),
        ("bias", lambda v: (WARMUP, 1.0, float(v))),
    ):
        if variant.startswith(prefix):
            return make(variant[len(prefix) :])
    if variant == "base":
        return WARMUP, 1.0, None
    raise SystemExit(f"--variant: {variant!r} is none of base, warm<N>, layer<F>, bias<B>")


def train_one(variant: str, d: int, nc: int, seed: int, tr, val) -> str:
    warmup, factor, bias = variant_settings(variant)
    train.setup(seed, threads=1)
    model = models.AutoEncoder(
        models.AEConfig(latent_dim=d, num_conv=nc, c_factor=8, kernel_size=3, fc_hidden=256)
    )
    models.start_output_at_mean(model, tr.images)
    hidden = model.encoder.fc[1]
    if bias is not None:
        with torch.no_grad():
            hidden.bias.fill_(bias)
    mine = {id(p) for p in hidden.parameters()}
    rest = [p for p in model.parameters() if id(p) not in mine]
    opt = torch.optim.Adam(
        [{"params": rest, "factor": 1.0}, {"params": list(hidden.parameters()), "factor": factor}], lr=LR
    )

    def dead() -> float:
        return models.dead_units(model, val.images)[models.ENCODER_HIDDEN]

    seen = [f"0:{dead():.2f}"]
    g, step = torch.Generator().manual_seed(seed), 0
    total = EPOCHS * -(-len(tr.images) // BATCH)
    for _ in range(EPOCHS):
        model.train()
        for idx in train.batches(len(tr.images), BATCH, g):
            rate = train.learning_rate(step, LR, warmup, total)
            for group in opt.param_groups:
                group["lr"] = rate * group["factor"]
            x = tr.images[idx]
            loss = torch.nn.functional.mse_loss(model(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step in WATCHED:
                seen.append(f"{step}:{dead():.2f}")
    v = train.reconstruction_error(model, val.images)
    pca = baselines.pca_error(tr.images, val.images, d)
    return f"{variant:9s} {d:2d}  {nc:2d}  {seed:4d}  {v / pca:.3f}      {dead():.2f}      {' '.join(seen)}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", nargs="+", default=["base", "warm500", "layer0.1", "bias0.1"])
    ap.add_argument("--cell", nargs="+", default=["10,2", "20,3"], help="d,num_conv")
    ap.add_argument("--seed", type=int, nargs="+", default=[0])
    a = ap.parse_args(argv)
    tr, val = data.load_train_val("mnist", limit=7000, val_size=2000, seed=0)
    print("variant    d  nc  seed  val/PCA  dead_end  dead after step:fraction", flush=True)
    for cell, seed, variant in itertools.product(a.cell, a.seed, a.variant):
        d, nc = (int(x) for x in cell.split(","))
        print(train_one(variant, d, nc, seed, tr, val), flush=True)


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
