"""What the GPU paths buy, and that they agree with the eager ones (needs a CUDA device).

    DATA_DIR=... python benchmarks/gpu_steps.py [--train 10000] [--steps 300]

1. The autoencoder step (science.steps): ms per step eager against replayed from a CUDA graph,
   for num_conv 1, 2, 3 at batch 64, and the test error of one epoch trained each way from the
   same initialisation (agreement asked: within 2 %).
2. Classifiers trained together (science.batched): one protocol cross-validation (5 folds of
   100 labelled images, fine-tuning, `--steps` steps) one by one against vmapped, with the
   folds' validation accuracies each way; the semi-supervised recipe on 3 label draws each way.
3. Peak device memory of this process.
Prints its figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import torch  # noqa: E402

from aestudy.science import data
from aestudy.experiments.protocol import run as protocol
from aestudy.experiments.autoencode import run as train  # noqa: E402
from aestudy.science.models import AEConfig, AutoEncoder  # noqa: E402


DEVICE = "cuda"


def _sync() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def _eager(flag: bool) -> None:
    os.environ["AESTUDY_EAGER"] = "1" if flag else "0"


def step_times(images: torch.Tensor, test: torch.Tensor, num_conv: int, steps: int) -> dict:
    out = {}
    for eager in (True, False):
        _eager(eager)
        torch.manual_seed(0)
        model = AutoEncoder(AEConfig(latent_dim=10, num_conv=num_conv, c_factor=8, kernel_size=3, fc_hidden=256))
        sub = images[: 64 * steps]
        train.run(model, sub[: 64 * 20], test[:500], epochs=1, device=DEVICE, progress=False)  # warm
        _sync()
        t = time.perf_counter()
        train.run(model, sub, test[:500], epochs=1, device=DEVICE, progress=False)
        _sync()
        out["eager" if eager else "graph"] = (time.perf_counter() - t) / steps * 1000
        torch.manual_seed(0)
        model = AutoEncoder(AEConfig(latent_dim=10, num_conv=num_conv, c_factor=8, kernel_size=3, fc_hidden=256))
        hist = train.run(model, images, test, epochs=1, device=DEVICE, progress=False, warmup_steps=100)
        out["error_eager" if eager else "error_graph"] = hist["test_error"][-1]
        out["replays_eager" if eager else "replays_graph"] = hist["graph_replays"]
    return out


def cv_times(pool, steps: int) -> dict:
    torch.manual_seed(0)
    model = AutoEncoder(AEConfig(latent_dim=10, num_conv=2, c_factor=8, kernel_size=3, fc_hidden=256))
    encoder = model.encoder.to(DEVICE).eval()
    idx = data.labelled_subset(pool.labels, 100, 0, balanced=True)
    x, y = pool.images[idx].to(DEVICE), pool.labels[idx].to(DEVICE)
    folds = protocol.stratified_folds(y.cpu(), 5, 0)
    folds = [(tr.to(DEVICE), va.to(DEVICE)) for tr, va in folds]
    proto = {"steps": steps, "lr": 1e-3, "augment": True, "warmup": 50, "encoder_lr": 0.3}
    out = {}
    for eager in (True, False):
        _eager(eager)
        protocol.cross_validate(encoder, "finetune", 650, x, y, {**proto, "steps": 5}, folds, 0)  # warm
        _sync()
        t = time.perf_counter()
        accs = protocol.cross_validate(encoder, "finetune", 650, x, y, proto, folds, 0)
        _sync()
        out["one by one" if eager else "together"] = (time.perf_counter() - t, accs)
    return out


def semisup_times(pool, steps: int) -> dict:
    """The semi-supervised recipe on 3 label draws, one by one against together."""
    from aestudy.experiments.semisup import run as semisup

    torch.manual_seed(0)
    encoder = AutoEncoder(AEConfig(latent_dim=10, num_conv=2, c_factor=8, kernel_size=3, fc_hidden=256)).encoder
    unlabelled = pool.images.to(DEVICE)
    draws = [data.labelled_subset(pool.labels, 100, s, balanced=True) for s in range(3)]
    xs, ys = [unlabelled[i] for i in draws], [pool.labels[i].to(DEVICE) for i in draws]
    rec = semisup.recipe(steps=steps, unlabelled_batch=448, threshold=0.8)
    out = {}
    for eager in (True, False):
        _eager(eager)
        semisup.train_each(encoder, 650, xs, ys, unlabelled, {**rec, "steps": 3}, [0, 1, 2])  # warm
        _sync()
        t = time.perf_counter()
        trained = semisup.train_each(encoder, 650, xs, ys, unlabelled, rec, [0, 1, 2])
        _sync()
        out["one by one" if eager else "together"] = (time.perf_counter() - t, [round(i["final_loss"], 4) for _, i in trained])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=int, default=10000, help="training images for the agreement epoch")
    ap.add_argument("--steps", type=int, default=300, help="timed steps")
    ap.add_argument("--device", default="cuda", help="cpu: only checks that the script runs (both paths are eager there)")
    args = ap.parse_args()
    global DEVICE
    DEVICE = args.device
    if DEVICE == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_steps.py: no CUDA device")
    print(f"device: {torch.cuda.get_device_name() if DEVICE == 'cuda' else DEVICE}, torch {torch.__version__}")
    tr = data.load_split("mnist", train=True, limit=args.train, download=False)
    te = data.load_split("mnist", train=False, limit=2000, download=False)
    images, test = tr.images.to(DEVICE), te.images.to(DEVICE)
    print("\nautoencoder step, batch 64 (ms/step; one epoch of", args.train, "images for the error)")
    print("| num_conv | eager ms | graph ms | speed-up | eager test MSE | graph test MSE | relative | replays |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for nc in (1, 2, 3):
        r = step_times(images, test, nc, args.steps)
        rel = r["error_graph"] / r["error_eager"] - 1
        print(f"| {nc} | {r['eager']:.2f} | {r['graph']:.2f} | {r['eager'] / r['graph']:.1f}x | "
              f"{r['error_eager']:.5f} | {r['error_graph']:.5f} | {rel:+.2%} | {r['replays_graph']} |", flush=True)
    print(f"\nprotocol cross-validation, fine-tuning, 5 folds x {args.steps} steps, h1 650")
    c = cv_times(tr, args.steps)
    for name, (secs, accs) in c.items():
        print(f"{name}: {secs:.2f} s, validation accuracies {[round(a, 3) for a in accs]}")
    print(f"speed-up: {c['one by one'][0] / c['together'][0]:.1f}x")
    print(f"\nsemi-supervised recipe, 3 label draws x {args.steps} steps of 448 unlabelled images, h1 650")
    c = semisup_times(tr, args.steps)
    for name, (secs, losses) in c.items():
        print(f"{name}: {secs:.2f} s ({secs / args.steps * 1000:.1f} ms per step of all 3), last losses {losses}")
    print(f"speed-up: {c['one by one'][0] / c['together'][0]:.1f}x")
    if DEVICE == "cuda":
        print(f"\npeak device memory of this process: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
