"""The reference classifier of experiment 2: a small CNN trained on the labelled training images,
whose confidence on a decoded image measures how much that image looks like some digit.

The interpolation runs receive its checkpoint and ask it about their decodes (`confidence`):
the probability of its top class (1: it is sure which digit it sees; 0.1: uniform) and the
entropy of its softmax (0: sure; ln 10 = 2.30: uniform). Its test accuracy says how far its
confidence can be trusted. Trained seeded, a few epochs on the profile's training subset.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn

from . import train

KIND = "reference_cnn"     # the checkpoint's kind: a reference classifier, not an autoencoder
NUM_CLASSES = 10


class ReferenceCNN(nn.Module):
    """conv(1 -> c, 3x3) -> ReLU -> max-pool 2 -> conv(c -> 2c, 3x3) -> ReLU -> max-pool 2
    -> flatten -> linear(2c * 7 * 7 -> hidden) -> ReLU -> linear(hidden -> 10): the classic
    small MNIST CNN (about 99 % test accuracy when trained on all 60,000 images)."""

    def __init__(self, channels: int = 16, hidden: int = 128):
        super().__init__()
        self.config = {"kind": KIND, "channels": channels, "hidden": hidden}
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * channels * 7 * 7, hidden), nn.ReLU(), nn.Linear(hidden, NUM_CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def train_reference(images: torch.Tensor, labels: torch.Tensor, epochs: int = 2, batch_size: int = 128,
                    lr: float = 1e-3, seed: int = 0, channels: int = 16, hidden: int = 128,
                    device: str = "auto") -> tuple[ReferenceCNN, dict]:
    """A ReferenceCNN trained with Adam on cross-entropy (seeded: same inputs, same weights on
    the CPU); returns it (on the CPU, in eval mode) and the mean training loss per epoch."""
    dev = train.pick_device(device)
    torch.manual_seed(seed)
    model = ReferenceCNN(channels, hidden).to(dev)
    opt = train.make_optimizer("adam", model.parameters(), lr)
    g = torch.Generator().manual_seed(seed)
    x_all, y_all = images.to(dev), labels.to(dev)
    history = {"epoch": [], "train_loss": []}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        total = torch.zeros((), dtype=torch.float64, device=dev)
        for idx in train.batches(len(x_all), batch_size, g, device=dev):
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
    return torch.cat([torch.softmax(model(x[i:i + batch_size]), dim=1) for i in range(0, len(x), batch_size)]) \
        if len(x) else torch.empty(0, NUM_CLASSES)


def confidence(model: nn.Module, images) -> dict[str, np.ndarray]:
    """Per image: `confidence`, the probability of the top class (in [0.1, 1]); `entropy`, of the
    softmax in nats (in [0, ln 10]); `top`, the class it names."""
    p = probabilities(model, images).double()
    entropy = -(p * torch.log(p.clamp_min(1e-30))).sum(1)
    return {"confidence": p.max(1).values.numpy(), "entropy": entropy.numpy(), "top": p.argmax(1).numpy()}


def accuracy(model: nn.Module, images, labels) -> float:
    """The fraction of images whose top class is their label."""
    return float((probabilities(model, images).argmax(1) == torch.as_tensor(labels)).double().mean())


MAX_ENTROPY = math.log(NUM_CLASSES)


def save_reference(path, model: ReferenceCNN, **extra):
    from .artifacts import save_checkpoint

    return save_checkpoint(path, model, model.config, **extra)


def load_reference(path) -> ReferenceCNN:
    """Rebuild the classifier from its checkpoint (weights only: no pickled code runs)."""
    from .artifacts import CorruptArtifact, load_checkpoint

    ckpt = load_checkpoint(path)
    cfg = ckpt["config"]
    if cfg.get("kind") != KIND:
        raise CorruptArtifact(f"{path}: not a reference classifier (kind {cfg.get('kind')!r})")
    model = ReferenceCNN(int(cfg["channels"]), int(cfg["hidden"]))
    model.load_state_dict(ckpt["state_dict"])
    return model.eval()


def load_one(paths) -> ReferenceCNN:
    """The one reference classifier a run received (its `classifiers` parameter)."""
    if len(paths) != 1:
        raise ValueError(f"expected one reference classifier, got {len(paths)}: select a single reference run "
                         "in the parameter file's uses.reference")
    return load_reference(paths[0])


def test_summary(model: nn.Module, images, labels) -> dict:
    """The classifier on a labelled split: overall accuracy, and per digit its accuracy and mean
    confidence (records), with every image's confidence and correctness for a histogram."""
    conf = confidence(model, images)
    labels = np.asarray(labels)
    correct = conf["top"] == labels
    records = [{"digit": d, "n": int((labels == d).sum()), "accuracy": float(correct[labels == d].mean()),
                "mean_confidence": float(conf["confidence"][labels == d].mean())}
               for d in range(NUM_CLASSES) if (labels == d).any()]
    return {"accuracy": float(correct.mean()), "mean_confidence": float(conf["confidence"].mean()),
            "records": records, "confidence": conf["confidence"], "correct": correct}


def confidence_histogram(confidence, correct):
    """The classifier's top-class probability on the test images, stacked: the images it
    classifies correctly and the others (log counts)."""
    import matplotlib.pyplot as plt

    confidence, correct = np.asarray(confidence), np.asarray(correct, dtype=bool)
    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.hist([confidence[correct], confidence[~correct]], bins=np.linspace(0.1, 1.0, 19), stacked=True,
            color=["tab:green", "tab:red"], label=[f"correct ({correct.sum()})", f"wrong ({(~correct).sum()})"])
    ax.set_yscale("log")
    ax.set_xlabel("top-class probability (confidence)")
    ax.set_ylabel("test images")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
