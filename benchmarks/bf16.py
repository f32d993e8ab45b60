"""bf16 autocast on the CPU against float32, for the experiment-1 autoencoder: training speed
(bare loop, fused Adam, best of interleaved rounds) and the test error it reaches after the same
training (same initialisation, same batches). Prints figures; asserts nothing.

    DATA_DIR=../shared/data python benchmarks/bf16.py [--steps 60] [--epochs 1] [--train 8000]
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from aestudy.science import data, models, train  # noqa: E402


def loop(model, batches, autocast: bool) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if autocast else contextlib.nullcontext
    model.train()
    t = time.perf_counter()
    for x in batches:
        with ctx():
            loss = nn.functional.mse_loss(model(x), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - t


@torch.no_grad()
def test_error(model, images) -> float:
    model.eval()
    return float(sum(nn.functional.mse_loss(model(images[i:i + 1000]), images[i:i + 1000], reduction="sum")
                     for i in range(0, len(images), 1000)) / images.numel())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--train", type=int, default=8000)
    ap.add_argument("--num-conv", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"bf16 supported: {torch.backends.mkldnn.is_available()} (mkldnn)")
    pool = data.load_split("mnist", train=True, limit=args.train, seed=0).images
    test = data.load_split("mnist", train=False, limit=2000, seed=0).images
    g = torch.Generator().manual_seed(0)
    print("| num_conv | fp32 img/s | bf16 img/s | bf16/fp32 | fp32 test MSE | bf16 test MSE | relative |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for nc in args.num_conv:
        train.setup(0)
        init = models.AutoEncoder(models.AEConfig(latent_dim=10, num_conv=nc))
        batches = [pool[torch.randint(0, len(pool), (64,), generator=g)] for _ in range(args.steps)]
        best = {False: float("inf"), True: float("inf")}
        for _ in range(args.rounds):
            for bf16 in (False, True):
                best[bf16] = min(best[bf16], loop(copy.deepcopy(init), batches, bf16))
        epoch = [pool[idx] for idx in train.batches(len(pool), 64, torch.Generator().manual_seed(1))] * args.epochs
        err = {}
        for bf16 in (False, True):
            m = copy.deepcopy(init)
            loop(m, epoch, bf16)
            err[bf16] = test_error(m, test)
        fp, bf = args.steps * 64 / best[False], args.steps * 64 / best[True]
        print(f"| {nc} | {fp:,.0f} | {bf:,.0f} | {bf / fp:.2f} | {err[False]:.4f} | {err[True]:.4f} | "
              f"{err[True] / err[False] - 1:+.1%} |", flush=True)


if __name__ == "__main__":
    main()
