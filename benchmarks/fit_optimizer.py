"""One transfer-sized round of classifier fits, with the optimiser every classifier stage uses
(`science.training.adamw`: torch's AdamW, fused where the device has the kernel) or, with
`--unfused`, torch's default AdamW (on the CPU, a Python loop over the parameter tensors at every
step): the figure behind the fused optimiser of `science.fitting.fit`. Time it as a whole process,
fused against unfused, with farm-bench (benchmarks/README.md):

    farm-bench -n 5 --timeout 600 --vs '.venv/bin/python benchmarks/fit_optimizer.py --unfused' \\
        -- .venv/bin/python benchmarks/fit_optimizer.py

What it trains: the classifiers of one transfer run of the default profile on one thread, from a
random d = 10, num_conv = 2 encoder on 100 random images: h1 in (200, 650, 1000) x the four modes,
each by the untuned protocol (100 full-batch steps; augmented: on shifted and rotated copies).
Prints its own wall time and the last losses: the two optimisers differ by float rounding, which
100 steps can grow to a visible difference (the augmented mode's, trained on random copies)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import torch  # noqa: E402

from aestudy.experiments.transfer.run import build_classifier  # noqa: E402
from aestudy.science import fitting, training  # noqa: E402
from aestudy.science.models import AEConfig, Encoder  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--unfused", action="store_true", help="torch's default AdamW instead of the fused one")
    args = ap.parse_args()
    if args.unfused:
        training.adamw = lambda groups, weight_decay: torch.optim.AdamW(
            list(groups), weight_decay=weight_decay
        )
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x, y = torch.rand(100, 1, 28, 28), torch.arange(10).repeat(10)
    encoder = Encoder(AEConfig(latent_dim=10, num_conv=2, c_factor=8, kernel_size=3, fc_hidden=256))
    start, losses = time.perf_counter(), []
    for h1 in (200, 650, 1000):
        for mode in ("frozen", "finetune", "scratch", "augmented"):
            clf = build_classifier(encoder, h1, mode, seed=h1)
            losses.append(fitting.fit(clf, mode, x, y, fitting.untuned(mode), seed=h1))
    print(
        f"{'unfused' if args.unfused else 'fused'}: {time.perf_counter() - start:.2f} s; last losses",
        [round(v, 4) for v in losses],
    )


if __name__ == "__main__":
    main()
