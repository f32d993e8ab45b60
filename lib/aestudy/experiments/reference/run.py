"""The reference classifier of experiment 2: a small CNN trained on the labelled training images,
whose confidence on a decoded image measures how much that image looks like some digit.

The interpolation runs receive its checkpoint and ask it about their decodes (`confidence`):
the probability of its top class (1: it is sure which digit it sees; 0.1: uniform), the
probability it puts on given classes, and the entropy of its softmax (0: sure; ln 10 = 2.30:
uniform). Trained seeded, a few epochs on the profile's training subset minus a held-out
calibration split, on which its softmax temperature is then fitted (`calibrate`: temperature
scaling, Guo et al. 2017), so that its probabilities mean what they say on digits; its expected
calibration error on the test set (`expected_calibration_error`) says how far they do. Its test
accuracy says how far its class can be trusted.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn

from ...science import training

KIND = "reference_cnn"  # the checkpoint's kind: a reference classifier, not an autoencoder
NUM_CLASSES = 10


class ReferenceCNN(nn.Module):
    """conv(1 -> c, 3x3) -> ReLU -> max-pool 2 -> conv(c -> 2c, 3x3) -> ReLU -> max-pool 2
    -> flatten -> linear(2c * 7 * 7 -> hidden) -> ReLU -> linear(hidden -> 10): the classic
    small MNIST CNN (about 99 % test accuracy when trained on all 60,000 images)."""

    def __init__(self, channels: int = 16, hidden: int = 128):
        super().__init__()
        self.config = {"kind": KIND, "channels": channels, "hidden": hidden}
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * channels * 7 * 7, hidden),
            nn.ReLU(),
            nn.Linear(hidden, NUM_CLASSES),
        )
        self.register_buffer("temperature", torch.ones(()))  # 1 while training; set by `calibrate`

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) / self.temperature


def run(
    images: torch.Tensor,
    labels: torch.Tensor,
    epochs: int = 2,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    channels: int = 16,
    hidden: int = 128,
    device: str = "auto",
) -> tuple[ReferenceCNN, dict]:
    """A ReferenceCNN trained with Adam on cross-entropy (seeded: same inputs, same weights on
    the CPU); returns it (on the CPU, in eval mode) and the mean training loss per epoch."""
    dev = training.pick_device(device)
    torch.manual_seed(seed)
    model = ReferenceCNN(channels, hidden).to(dev)
    opt = training.make_optimizer("adam", model.parameters(), lr)
    g = torch.Generator().manual_seed(seed)
    x_all, y_all = images.to(dev), labels.to(dev)
    history = {"epoch": [], "train_loss": []}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        total = torch.zeros((), dtype=torch.float64, device=dev)
        for idx in training.batches(len(x_all), batch_size, g, device=dev):
            loss = nn.functional.cross_entropy(model(x_all[idx]), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total.add_(loss.detach(), alpha=len(idx))
        history["epoch"].append(epoch)
        history["train_loss"].append(total.item() / len(x_all))
    history["train_seconds"] = time.perf_counter() - start
    return model.to("cpu").eval(), history


@torch.inference_mode()
def probabilities(model: nn.Module, images, batch_size: int = 250) -> torch.Tensor:
    """Softmax probabilities (N, 10) of the classifier for images (N, 1, 28, 28) in [0, 1]."""
    model.eval()
    x = torch.as_tensor(images, dtype=torch.float32).reshape(-1, 1, 28, 28)
    return (
        torch.cat([torch.softmax(model(x[i : i + batch_size]), dim=1) for i in range(0, len(x), batch_size)])
        if len(x)
        else torch.empty(0, NUM_CLASSES)
    )


def confidence(model: nn.Module, images) -> dict[str, np.ndarray]:
    """Per image: `confidence`, the probability of the top class (in [0.1, 1]); `entropy`, of the
    softmax in nats (in [0, ln 10]); `top`, the class it names; `probs`, all ten (N, 10)."""
    p = probabilities(model, images).double()
    entropy = -(p * torch.log(p.clamp_min(1e-30))).sum(1)
    return {
        "confidence": p.max(1).values.numpy(),
        "entropy": entropy.numpy(),
        "top": p.argmax(1).numpy(),
        "probs": p.numpy(),
    }


def accuracy(model: nn.Module, images, labels) -> float:
    """The fraction of images whose top class is their label."""
    return float((probabilities(model, images).argmax(1) == torch.as_tensor(labels)).double().mean())


MAX_ENTROPY = math.log(NUM_CLASSES)
ECE_BINS = 15  # equal-width bins of the top-class probability (the usual choice, Guo et al. 2017)


def calibration_split(n: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(training indices, calibration indices) of n images: `size` drawn by `seed` are held out."""
    if not 0 < size < n:
        raise ValueError(f"calibration_size must be between 1 and {n - 1} (the training images), got {size}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[size:].sort().values, perm[:size].sort().values


@torch.no_grad()
def calibrate(model: ReferenceCNN, images, labels, steps: int = 200) -> float:
    """Temperature scaling: the T > 0 minimising the negative log-likelihood of `labels` under
    softmax(logits / T) on held-out images; set in the model (a buffer: saved with it). The
    classes it names do not change, only how sure it says it is."""
    model.eval()
    model.temperature.fill_(1.0)
    x = torch.as_tensor(images, dtype=torch.float32).reshape(-1, 1, 28, 28)
    logits = torch.cat([model(x[i : i + 500]) for i in range(0, len(x), 500)]).double()
    y = torch.as_tensor(labels)
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        with torch.enable_grad():
            loss = nn.functional.cross_entropy(logits / log_t.exp(), y)
            loss.backward()
        return loss

    opt.step(closure)
    temperature = float(log_t.detach().exp())
    model.temperature.fill_(temperature)
    return temperature


def expected_calibration_error(probs, labels, bins: int = ECE_BINS) -> float:
    """Sum over equal-width bins of the top-class probability of |accuracy - mean confidence|,
    weighted by the fraction of images in the bin (0: perfectly calibrated)."""
    p = torch.as_tensor(probs, dtype=torch.float64)
    conf, top = p.max(1)
    correct = (top == torch.as_tensor(labels)).double()
    edges = torch.linspace(0.0, 1.0, bins + 1, dtype=torch.float64)
    which = torch.bucketize(conf, edges[1:-1], right=True)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += float(inside.double().mean() * (correct[inside].mean() - conf[inside].mean()).abs())
    return total


def save_reference(path, model: ReferenceCNN, **extra):
    from ...science.artifacts import save_checkpoint

    return save_checkpoint(path, model, model.config, **extra)


def load_reference(path) -> ReferenceCNN:
    """Rebuild the classifier from its checkpoint (weights only: no pickled code runs)."""
    from ...science.artifacts import CorruptArtifact, load_checkpoint

    ckpt = load_checkpoint(path)
    cfg = ckpt["config"]
    if cfg.get("kind") != KIND:
        raise CorruptArtifact(f"{path}: not a reference classifier (kind {cfg.get('kind')!r})")
    model = ReferenceCNN(int(cfg["channels"]), int(cfg["hidden"]))
    state = dict(ckpt["state_dict"])
    state.setdefault("temperature", torch.ones(()))  # a checkpoint from before calibration: T = 1
    model.load_state_dict(state)
    return model.eval()


def load_one(paths) -> ReferenceCNN:
    """The one reference classifier a run received (its `classifiers` parameter)."""
    if len(paths) != 1:
        raise ValueError(
            f"expected one reference classifier, got {len(paths)}: select a single reference run "
            "in the parameter file's uses.reference"
        )
    return load_reference(paths[0])


def test_summary(model: nn.Module, images, labels) -> dict:
    """The classifier on a labelled split: overall accuracy, and per digit its accuracy and mean
    confidence (records), with every image's confidence and correctness for a histogram."""
    conf = confidence(model, images)
    labels = np.asarray(labels)
    correct = conf["top"] == labels
    records = [
        {
            "digit": d,
            "n": int((labels == d).sum()),
            "accuracy": float(correct[labels == d].mean()),
            "mean_confidence": float(conf["confidence"][labels == d].mean()),
        }
        for d in range(NUM_CLASSES)
        if (labels == d).any()
    ]
    return {
        "accuracy": float(correct.mean()),
        "mean_confidence": float(conf["confidence"].mean()),
        "ece": expected_calibration_error(conf["probs"], labels),
        "records": records,
        "confidence": conf["confidence"],
        "correct": correct,
    }


def calibration_words(ece: float, ece_raw: float, n_calibration: int) -> str:
    """The test set's expected calibration error after temperature scaling, beside the one before,
    in words that say which way it moved: the temperature is fitted on held-out training images,
    and on the test set it can make a well-calibrated classifier slightly worse."""
    moved = "down" if ece < ece_raw else "up" if ece > ece_raw else "unchanged"
    words = (
        f"expected calibration error on the test set {ece:.4f} ({moved} from {ece_raw:.4f} before calibration"
    )
    if ece > ece_raw:
        words += (
            f": the temperature fitted on the {n_calibration} held-out training images did not lower it "
            "on the test set"
        )
    return words + ")"
