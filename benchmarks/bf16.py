"""bf16 autocast on the CPU against float32, for the experiment-1 autoencoder: training speed
(bare loop, fused Adam, best of interleaved rounds) and the test error it reaches after the same
training (same initialisation, same batches). With `--classifier`: experiment 4's classifier
instead (fine-tuning step on 100 augmented images, and a prediction over 10,000 images), CPU
seconds, 1 thread, whole stage under `training.precision` as the notebooks run it. Prints figures;
asserts nothing.

    DATA_DIR=../shared/data python benchmarks/bf16.py [--steps 60] [--epochs 1] [--train 8000]
    python benchmarks/bf16.py --classifier [--steps 40] [--rounds 3]
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

from aestudy.experiments.autoencode import run as train  # noqa: E402
from aestudy.science import (
    data,
    models,
    training,  # noqa: E402
)


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
    return float(
        sum(
            nn.functional.mse_loss(model(images[i : i + 1000]), images[i : i + 1000], reduction="sum")
            for i in range(0, len(images), 1000)
        )
        / images.numel()
    )


def classifier(steps: int, rounds: int, num_convs) -> None:
    """Experiment 4's classifier step and prediction, float32 against bfloat16 (CPU seconds, 1 thread)."""
    from aestudy.science.fitting import augment

    torch.set_num_threads(1)
    x, y = torch.rand(100, 1, 28, 28), torch.randint(0, 10, (100,))
    test = torch.rand(10000, 1, 28, 28)
    print(
        "| num_conv | fp32 ms/step | bf16 ms/step | step bf16/fp32 | fp32 s/predict 10k | bf16 s/predict 10k | "
        "predict bf16/fp32 |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for nc in num_convs:
        torch.manual_seed(0)
        init = models.Classifier(models.Encoder(models.AEConfig(latent_dim=10, num_conv=nc)), 650)
        step, pred = {}, {}
        for _ in range(rounds):
            for prec in ("float32", "bfloat16"):
                clf, g = copy.deepcopy(init), torch.Generator().manual_seed(0)
                opt = torch.optim.AdamW(clf.parameters(), 1e-3)
                with training.precision(prec, "cpu"):
                    t = time.process_time()
                    for _ in range(steps):
                        loss = nn.functional.cross_entropy(clf(augment(x, g)), y)
                        opt.zero_grad(set_to_none=True)
                        loss.backward()
                        opt.step()
                    step[prec] = min(step.get(prec, float("inf")), (time.process_time() - t) / steps)
                    t = time.process_time()
                    with torch.no_grad():
                        for i in range(0, len(test), 2000):
                            clf(test[i : i + 2000]).argmax(1)
                    pred[prec] = min(pred.get(prec, float("inf")), time.process_time() - t)
        print(
            f"| {nc} | {1000 * step['float32']:.1f} | {1000 * step['bfloat16']:.1f} | "
            f"{step['bfloat16'] / step['float32']:.2f} | {pred['float32']:.2f} | {pred['bfloat16']:.2f} | "
            f"{pred['bfloat16'] / pred['float32']:.2f} |",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--train", type=int, default=8000)
    ap.add_argument("--num-conv", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--classifier", action="store_true", help="experiment 4's classifier instead")
    args = ap.parse_args()
    if args.classifier:
        return classifier(args.steps, args.rounds, args.num_conv)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"bf16 supported: {torch.backends.mkldnn.is_available()} (mkldnn)"
    )
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
        epoch = [
            pool[idx] for idx in train.batches(len(pool), 64, torch.Generator().manual_seed(1))
        ] * args.epochs
        err = {}
        for bf16 in (False, True):
            m = copy.deepcopy(init)
            loop(m, epoch, bf16)
            err[bf16] = test_error(m, test)
        fp, bf = args.steps * 64 / best[False], args.steps * 64 / best[True]
        print(
            f"| {nc} | {fp:,.0f} | {bf:,.0f} | {bf / fp:.2f} | {err[False]:.4f} | {err[True]:.4f} | "
            f"{err[True] / err[False] - 1:+.1%} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
