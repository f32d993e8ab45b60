"""Training throughput of the experiment-1 models, three ways in one process (figures printed,
never asserted):

  lib         `aestudy.experiments.autoencode.run.run` on tensors already in memory (what the notebooks run)
  bare        a bare PyTorch loop over batches made beforehand, same optimiser as lib: the ceiling
  DataLoader  the usual `DataLoader` over `torchvision.datasets.MNIST(transform=ToTensor())`

Every method trains a copy of the same initial model for `--steps` batches of 64, in
`--rounds` interleaved rounds; the best round counts (the least disturbed by anything else
running on the machine). `--explore` adds the ceiling study: the bare loop with the
variants tried while tuning `aestudy.experiments.autoencode.run` (optimiser implementation, `loss.item()` every step,
channels_last, one thread, zero_grad without set_to_none, torch.compile with `--compile`),
and evaluation under `no_grad` vs `inference_mode`.

    DATA_DIR=../shared/data .venv/bin/python benchmarks/train_throughput.py [--steps 50] [--explore]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from aestudy.experiments.autoencode import run as train  # noqa: E402
from aestudy.science import data, models

BATCH = 64
CFG = dict(latent_dim=10, c_factor=8, kernel_size=3, fc_hidden=256)  # experiment 1, d = 10


def make_model(num_conv: int, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return models.AutoEncoder(models.AEConfig(num_conv=num_conv, **CFG))


def mse(model, x):
    return nn.functional.mse_loss(model(x), x)


# ---------------------------------------------------------------- the three ways


def time_lib(model, images, test_images, seed):
    t = time.perf_counter()
    train.run(model, images, test_images, epochs=1, batch_size=BATCH, seed=seed, device="cpu", progress=False)
    return time.perf_counter() - t


def bare_loop(model, batch_list, opt, item=False, set_to_none=True, forward=None):
    forward = model if forward is None else forward
    model.train()
    t = time.perf_counter()
    for x in batch_list:
        loss = mse(forward, x)
        opt.zero_grad(set_to_none=set_to_none)
        loss.backward()
        opt.step()
        if item:
            loss.item()
    return time.perf_counter() - t


def time_bare(model, batch_list):
    return bare_loop(model, batch_list, train.make_optimizer("adam", model.parameters(), 1e-3))


def time_loader(model, loader, steps):
    opt = train.make_optimizer("adam", model.parameters(), 1e-3)
    model.train()
    t = time.perf_counter()
    for i, (x, _) in enumerate(loader):
        if i == steps:
            break
        loss = mse(model, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - t


def best_of(rounds, fns: dict) -> dict:
    """Interleave the methods round by round; keep each one's fastest round."""
    best = {k: float("inf") for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            best[k] = min(best[k], fn())
    return best


# ---------------------------------------------------------------- exploring the ceiling


def explore(num_conv, init, batch_list, rounds, with_compile):
    steps = len(batch_list)
    threads = torch.get_num_threads()

    def variant(opt_kw=None, **loop_kw):
        def run():
            m = copy.deepcopy(init)
            return bare_loop(
                m, batch_list, torch.optim.Adam(m.parameters(), lr=1e-3, **(opt_kw or {})), **loop_kw
            )

        return run

    def one_thread():
        torch.set_num_threads(1)
        try:
            return variant({"fused": True})()
        finally:
            torch.set_num_threads(threads)

    def channels_last():
        m = copy.deepcopy(init).to(memory_format=torch.channels_last)
        cl = [x.contiguous(memory_format=torch.channels_last) for x in batch_list]
        return bare_loop(m, cl, torch.optim.Adam(m.parameters(), lr=1e-3, fused=True))

    fns = {
        "Adam default (for-loop)": variant(),
        "Adam foreach": variant({"foreach": True}),
        "Adam fused": variant({"fused": True}),
        "fused + loss.item() each step": variant({"fused": True}, item=True),
        "fused + zero_grad(set_to_none=False)": variant({"fused": True}, set_to_none=False),
        "fused + channels_last": channels_last,
        f"fused + 1 thread (of {threads})": one_thread,
    }
    if with_compile:
        m = copy.deepcopy(init)
        compiled = torch.compile(m)
        opt = torch.optim.Adam(m.parameters(), lr=1e-3, fused=True)
        t = time.perf_counter()
        bare_loop(m, batch_list[:3], opt, forward=compiled)
        print(f"  torch.compile: first 3 steps (compilation) {time.perf_counter() - t:.1f} s")
        fns["fused + torch.compile (warm)"] = lambda: bare_loop(m, batch_list, opt, forward=compiled)
    best = best_of(rounds, fns)
    base = best["Adam default (for-loop)"]
    print(f"\nnum_conv={num_conv}: bare-loop variants ({steps} steps, best of {rounds})")
    for k, v in best.items():
        print(f"  {k:<40} {steps * BATCH / v:9.0f} img/s  x{base / v:5.2f}")


def explore_eval(init, images, rounds):
    def run(ctx):
        def f():
            init.eval()
            t = time.perf_counter()
            with ctx():
                for idx in train.batches(len(images), 1000):
                    nn.functional.mse_loss(init(images[idx]), images[idx], reduction="sum").item()
            return time.perf_counter() - t

        return f

    best = best_of(rounds, {"no_grad": run(torch.no_grad), "inference_mode": run(torch.inference_mode)})
    print(
        f"  evaluation over {len(images)} images: "
        + ", ".join(f"{k} {len(images) / v:,.0f} img/s" for k, v in best.items())
    )


# ---------------------------------------------------------------- main


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=50, help="batches of 64 per round and method")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds; the best counts")
    ap.add_argument("--num-conv", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--loader-workers", type=int, default=0, help="DataLoader num_workers")
    ap.add_argument("--explore", action="store_true", help="also time the ceiling variants")
    ap.add_argument("--compile", action="store_true", help="with --explore: also torch.compile")
    args = ap.parse_args(argv)

    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    if args.threads:
        torch.set_num_threads(args.threads)
    root = data.resolve_data_dir(None)
    n = args.steps * BATCH
    t = time.perf_counter()
    images = data.load_split("mnist", train=True, limit=n, seed=0).images
    test_images = data.load_split("mnist", train=False, limit=BATCH, seed=0).images
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores; "
        f"{args.steps} steps x {BATCH} images per round, best of {args.rounds} rounds; "
        f"data {root} (loaded in {time.perf_counter() - t:.1f} s)"
    )

    # same seed -> identical numbers (the determinism aestudy.experiments.autoencode.run promises on the CPU)
    runs = []
    for _ in range(2):
        train.setup(0)
        m = make_model(1)
        runs.append(
            train.run(
                m,
                images[: 5 * BATCH],
                test_images,
                epochs=2,
                batch_size=BATCH,
                seed=0,
                device="cpu",
                progress=False,
            )
        )
    same = all(runs[0][k] == runs[1][k] for k in ("train_error", "test_error"))
    print(f"determinism: two seeded lib runs give identical errors: {'yes' if same else 'NO'}")

    mnist = datasets.MNIST(root=str(root), train=True, transform=transforms.ToTensor())
    loader = DataLoader(
        mnist,
        batch_size=BATCH,
        shuffle=True,
        num_workers=args.loader_workers,
        generator=torch.Generator().manual_seed(0),
        persistent_workers=args.loader_workers > 0,
    )
    g = torch.Generator().manual_seed(0)
    batch_list = [images[i] for i in train.batches(n, BATCH, g)]

    rows = []
    for nc in args.num_conv:
        init = make_model(nc)
        fresh = lambda: copy.deepcopy(init)  # noqa: E731
        # warm-up: first calls allocate and pick kernels
        time_bare(fresh(), batch_list[:3])
        best = best_of(
            args.rounds,
            {
                "lib": lambda: time_lib(fresh(), images, test_images, 0),
                "bare": lambda: time_bare(fresh(), batch_list),
                "loader": lambda: time_loader(fresh(), loader, args.steps),
            },
        )
        ips = {k: n / v for k, v in best.items()}
        rows.append((nc, models.num_parameters(init), ips))
        print(f"  num_conv={nc}: " + ", ".join(f"{k} {v:,.0f} img/s" for k, v in ips.items()), flush=True)
        if args.explore:
            explore(nc, init, batch_list, args.rounds, args.compile)
            explore_eval(init, images[: min(n, 2000)], args.rounds)

    print(
        "\n| num_conv | parameters | lib img/s | bare img/s | DataLoader img/s | lib/bare | lib/DataLoader |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for nc, params, ips in rows:
        print(
            f"| {nc} | {params:,} | {ips['lib']:,.0f} | {ips['bare']:,.0f} | {ips['loader']:,.0f} | "
            f"{ips['lib'] / ips['bare']:.3f} | {ips['lib'] / ips['loader']:.2f} |"
        )
    print(
        "\nlib: train.run (one epoch over the same images + its end-of-epoch evaluation of "
        f"{len(test_images)} test images); bare and DataLoader use lib's optimiser "
        "(train.make_optimizer)."
    )


if __name__ == "__main__":
    main()
