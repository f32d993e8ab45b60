"""Experiment 4: transfer learning with 100 labels, for one pre-trained encoder.

For each seed: a labelled draw of `n_labels` training images holding every class
(`lib.data.labelled_subset`); for each MLP width h1 and mode:
- `frozen`: the encoder's weights stay as pre-trained (bit for bit); only the head is trained.
  The encoder has no dropout or batch-norm, so training the head on features encoded once is
  the same computation as a forward pass through the frozen encoder at every step, and much
  cheaper: the labelled images and the test set are encoded once.
- `finetune`: encoder and head trained together, starting from the pre-trained encoder.
- `scratch`: the same architecture, the encoder initialised at random with a seed derived from
  the run seed (so not the pre-trained weights, nor the autoencoder's own initialisation).
The head's initialisation depends on (seed, h1) only, so the three modes start from the same
head: the differences between modes are paired. Training: `steps` full-batch Adam steps at
`lr` on cross-entropy. Accuracy is measured on the whole test split given.
Baselines on the same labelled images: logistic regression and 1-nearest-neighbour on raw pixels.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import time

import numpy as np
import torch
from torch import nn

from .models import Classifier, Encoder
from .names import BASELINES, MODES



def derived_seed(*parts) -> int:
    """A seed for a named purpose (e.g. ('scratch-encoder', 0)): stable across runs and platforms."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "little") & 0x7FFFFFFF


def load_encoder(path) -> Encoder:
    """The encoder of an autoencode checkpoint."""
    from .artifacts import load_autoencoder

    return load_autoencoder(path).encoder


def build_classifier(encoder: Encoder, h1: int, mode: str, seed: int) -> Classifier:
    """Encoder + head for `mode`; never modifies `encoder` (the classifier holds a copy)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    with torch.random.fork_rng(devices=[]):
        if mode == "scratch":
            torch.manual_seed(derived_seed("scratch-encoder", seed))
            enc = Encoder(encoder.cfg)
        else:
            enc = copy.deepcopy(encoder)
        torch.manual_seed(derived_seed("head", seed, h1))
        return Classifier(enc, h1)


@torch.no_grad()
def encode(encoder: nn.Module, images: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    encoder.eval()
    return torch.cat([encoder(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


@contextlib.contextmanager
def single_thread():
    """The head-only problems (100 x d inputs) are far too small to gain from several threads,
    and on a busy CPU the threads' waiting made them 30x slower (measured): run them on one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    return int((pred == y).sum()) / len(y)


def fit(model: nn.Module, params, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float) -> float:
    """`steps` full-batch Adam steps on cross-entropy; returns the loss at the last step."""
    opt = torch.optim.Adam(list(params), lr=lr)
    model.train()
    loss = torch.tensor(float("nan"))
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    return float(loss.detach())


def train_mode(encoder: Encoder, mode: str, h1: int, x: torch.Tensor, y: torch.Tensor, steps: int,
               lr: float, seed: int, features: torch.Tensor | None = None) -> tuple[Classifier, float]:
    """Build and train one classifier; `features` (the frozen encoder's codes of x) saves
    encoding x again in frozen mode. Returns the classifier and its last training loss."""
    clf = build_classifier(encoder, h1, mode, seed).to(x.device)
    if mode == "frozen":
        feats = features if features is not None else encode(clf.encoder, x)
        for p in clf.encoder.parameters():
            p.requires_grad_(False)
        with single_thread():
            loss = fit(clf.head, clf.head.parameters(), feats, y, steps, lr)
    else:
        loss = fit(clf, clf.parameters(), x, y, steps, lr)
    return clf, loss


def pixel_baselines(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                    test_y: torch.Tensor) -> dict:
    """Accuracy of logistic regression and 1-nearest-neighbour on raw pixels."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    xtr = train_x.reshape(len(train_x), -1).cpu().numpy().astype(np.float64)
    xte = test_x.reshape(len(test_x), -1).cpu().numpy().astype(np.float64)
    ytr, yte = train_y.cpu().numpy(), test_y.cpu().numpy()
    out = {}
    logreg = LogisticRegression(max_iter=2000).fit(xtr, ytr)
    out["logreg"] = float((logreg.predict(xte) == yte).mean())
    knn = KNeighborsClassifier(n_neighbors=1, algorithm="brute").fit(xtr, ytr)
    out["1nn"] = float((knn.predict(xte) == yte).mean())
    return out


def run_transfer(encoder: Encoder, train, test, h1: list[int], modes: list[str], seeds: list[int],
                 n_labels: int = 100, balanced: bool = True, steps: int = 200, lr: float = 1e-3,
                 baselines: bool = True, device: str = "auto", progress: bool = True,
                 encoder_seed: int | None = None) -> dict:
    """Every (seed, h1, mode) for one encoder plus the baselines per seed.

    train / test: data Splits (the labelled images are drawn from `train`). With `encoder_seed`
    (the autoencoder's training seed), each label seed's draw and initialisations are derived
    from both, so the encoders of different autoencoder seeds see independent label draws.
    Returns {"records": [...], "timings": {...}}: one record per (h1, mode, seed) with its test
    accuracy, accuracy on the labelled images and last loss; one per (baseline, seed) with h1 None.
    """
    from tqdm import tqdm

    from .data import labelled_subset
    from .train import pick_device

    dev = pick_device(device)
    encoder = copy.deepcopy(encoder).to(dev).eval()
    test_x, test_y = test.images.to(dev), test.labels.to(dev)
    timings = {"encode_test": 0.0, "baselines": 0.0, **{m: 0.0 for m in modes}}
    t0 = time.perf_counter()
    test_feats = encode(encoder, test_x) if "frozen" in modes else None
    timings["encode_test"] = time.perf_counter() - t0
    records = []
    bar = tqdm(total=len(seeds) * len(h1) * len(modes), desc="transfer", unit="model",
               disable=not progress, mininterval=1.0)
    for label_seed in seeds:
        seed = label_seed if encoder_seed is None else derived_seed("label-draw", encoder_seed, label_seed)
        idx = labelled_subset(train.labels, n_labels, seed, balanced=balanced)
        x, y = train.images[idx].to(dev), train.labels[idx].to(dev)
        feats = encode(encoder, x) if "frozen" in modes else None
        for width in h1:
            for mode in modes:
                t = time.perf_counter()
                clf, loss = train_mode(encoder, mode, width, x, y, steps, lr, seed, features=feats)
                if mode == "frozen":
                    with single_thread():
                        acc = _accuracy(predict(clf.head, test_feats), test_y)
                        train_acc = _accuracy(predict(clf.head, feats), y)
                else:
                    acc = _accuracy(predict(clf, test_x), test_y)
                    train_acc = _accuracy(predict(clf, x), y)
                timings[mode] += time.perf_counter() - t
                records.append({"h1": width, "mode": mode, "label_seed": label_seed, "accuracy": acc,
                                "train_accuracy": train_acc, "final_loss": loss})
                bar.update(1)
        if baselines:
            t = time.perf_counter()
            for name, acc in pixel_baselines(x, y, test_x, test_y).items():
                records.append({"h1": None, "mode": name, "label_seed": label_seed, "accuracy": acc,
                                "train_accuracy": None, "final_loss": None})
            timings["baselines"] += time.perf_counter() - t
    bar.close()
    timings["total"] = time.perf_counter() - t0
    return {"records": records, "timings": timings, "n_test": int(len(test_y)),
            "latent_dim": encoder.cfg.latent_dim, "num_conv": encoder.cfg.num_conv}


def accuracy_table(records) -> "pd.DataFrame":
    """Mean test accuracy over seeds (and its min-max) per mode and h1; baselines with h1 '-'."""
    import pandas as pd

    df = pd.DataFrame(records)
    df["h1"] = [("-" if pd.isna(h) else str(int(h))) for h in df["h1"]]
    order = {m: i for i, m in enumerate(MODES + BASELINES)}
    t = (df.groupby(["mode", "h1"])["accuracy"].agg(["mean", "min", "max", "count"])
         .rename(columns={"count": "seeds"}).reset_index())
    t = t.sort_values(["mode", "h1"], key=lambda c: c.map(order) if c.name == "mode" else c.map(
        lambda h: -1 if h == "-" else int(h)))
    return t.reset_index(drop=True)


def encoder_from_checkpoints(checkpoints: list[str]) -> Encoder:
    """The one encoder a transfer run uses (`for_each: autoencode` gives each run one)."""
    if len(checkpoints) != 1:
        raise ValueError(f"a transfer run uses exactly one encoder checkpoint, got {len(checkpoints)}: "
                         f"{checkpoints} (set `for_each: autoencode` for the transfer stage)")
    return load_encoder(checkpoints[0])
