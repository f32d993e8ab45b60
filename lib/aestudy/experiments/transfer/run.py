"""Experiment 4: transfer learning with 100 labels, for one pre-trained encoder.

For each label seed: a labelled draw of `n_labels` training images holding every class
(`data.labelled_subset`); for each MLP width h1 and mode:
- `frozen`: the encoder's weights stay as pre-trained (bit for bit); only the head is trained.
  The encoder has no dropout or batch-norm, so without augmentation training the head on
  features encoded once is the same computation as a forward pass through the frozen encoder
  at every step, and much cheaper.
- `finetune`: encoder and head trained together, starting from the pre-trained encoder.
- `scratch`: the same network, the encoder initialised at random with a seed derived from the
  run seed (so not the pre-trained weights, nor the autoencoder's own initialisation).
- `augmented`: the strong control: as `scratch`, always trained on augmented images (shifts,
  small rotations): the same CNN on the 100 labels alone, trained the way a careful
  practitioner would. (Every other mode trains on augmented images only where its protocol's
  `augment` says so, as cross-validation chose it.)
Each mode is trained by its *protocol* (`science.fitting`), chosen by cross-validation on the
labelled images in the `protocol` stage (`experiments.protocol.run`); without one, the untuned protocol. On a
GPU the label draws' classifiers of one (h1, mode) train together (`science.batched`). The
head's initialisation depends on (seed, h1) only, so the modes start from the same head: the
differences between modes are paired. Accuracy is
measured once, on the whole test split given. Baselines on the same labelled images: logistic
regression and 1-nearest-neighbour on raw pixels.
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ...progress_bar import LoopProgress
from ...science.fitting import derived_seed, encode, fit, single_thread
from ...science.models import Classifier, Encoder
from ...science.names import BASELINES, MODES

if TYPE_CHECKING:
    import pandas as pd  # the tables' type; imported where one is made

SCRATCH_INIT = ("scratch", "augmented")  # modes whose encoder starts from a random initialisation


def draw_key(checkpoint: dict) -> tuple[int, int, int] | None:
    """Which encoder a labelled draw belongs to: its autoencoder's (seed, d, num_conv); None for a
    stand-in saved without a seed. Every encoder draws its own labelled images, so the encoders of
    experiment 4 are independent units: a draw shared by one seed's encoders of every d made their
    mode differences share its luck, which an interval over encoders does not see."""
    seed = checkpoint.get("seed")
    if seed is None:
        return None
    config = checkpoint["config"]
    return int(seed), int(config["latent_dim"]), int(config["num_conv"])


def label_draw_seed(encoder: tuple | None, label_seed: int) -> int:
    """The seed of a labelled draw: derived from the encoder (`draw_key`) and the label seed, so
    every encoder sees its own draws (the protocol and semisup stages draw the same images as the
    transfer run of their encoder)."""
    return label_seed if encoder is None else derived_seed("label-draw", *encoder, label_seed)


def label_draw(
    labels: torch.Tensor, encoder: tuple | None, label_seed: int, n_labels: int, balanced: bool
) -> tuple[int, torch.Tensor]:
    """(seed, indices on the labels' device) of the labelled images drawn for `label_seed` and the
    encoder `encoder` (`draw_key`): the same images in the transfer, protocol and semisup stages."""
    from ...science.data import labelled_subset

    seed = label_draw_seed(encoder, label_seed)
    return seed, labelled_subset(labels.cpu(), n_labels, seed, balanced=balanced).to(labels.device)


def load_encoder(path) -> Encoder:
    """The encoder of an autoencode checkpoint."""
    from ...science.artifacts import load_autoencoder

    return load_autoencoder(path).encoder


def build_classifier(encoder: Encoder, h1: int, mode: str, seed: int) -> Classifier:
    """Encoder + head for `mode`; never modifies `encoder` (the classifier holds a copy)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    with torch.random.fork_rng(devices=[]):
        if mode in SCRATCH_INIT:
            torch.manual_seed(derived_seed("scratch-encoder", seed))
            enc = Encoder(encoder.cfg)
        else:
            enc = copy.deepcopy(encoder)
        torch.manual_seed(derived_seed("head", seed, h1))
        return Classifier(enc, h1)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def _accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    return int((pred == y).sum()) / len(y)


def train_mode(
    encoder: Encoder,
    mode: str,
    h1: int,
    x: torch.Tensor,
    y: torch.Tensor,
    seed: int,
    protocol: dict | None = None,
    features: torch.Tensor | None = None,
) -> tuple[Classifier, float]:
    """Build and train one classifier by `protocol` (None: the untuned protocol). Returns it and its
    last training loss."""
    clf = build_classifier(encoder, h1, mode, seed).to(x.device)
    loss = fit(clf, mode, x, y, protocol or {}, seed, features=features)
    return clf, loss


def pixel_baselines(
    train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor
) -> dict:
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


def run(
    encoder: Encoder,
    train,
    test,
    h1: list[int],
    modes: list[str],
    seeds: list[int],
    n_labels: int = 100,
    balanced: bool = True,
    protocols: dict | None = None,
    baselines: bool = True,
    device: str = "auto",
    progress: bool | None = None,
    draw_key: tuple | None = None,
) -> dict:
    """Every (seed, h1, mode) for one encoder plus the baselines per seed.

    protocols: {mode: {"chosen": protocol, "cv_accuracy": float}} as the protocol stage writes
    it; a mode it lacks is trained by the untuned protocol (and has no cross-validation score).

    train / test: data Splits (the labelled images are drawn from `train`). With `draw_key` (the
    encoder's autoencoder seed, d and num_conv), each label seed's draw and initialisations are
    derived from both, so every encoder sees its own label draws.
    Returns {"records": [...], "timings": {...}}: one record per (h1, mode, seed) with its test
    accuracy, accuracy on the labelled images, cross-validation accuracy of its protocol and last
    loss; one per (baseline, seed) with h1 None.
    """

    from ...science.batched import fit_each
    from ...science.training import pick_device

    dev = pick_device(device)
    encoder = copy.deepcopy(encoder).to(dev).eval()
    test_x, test_y = test.images.to(dev), test.labels.to(dev)
    timings = {"encode_test": 0.0, "baselines": 0.0, **{m: 0.0 for m in modes}}
    t0 = time.perf_counter()
    test_feats = encode(encoder, test_x) if "frozen" in modes else None
    timings["encode_test"] = time.perf_counter() - t0
    protocols = protocols or {}
    draws = {}
    for label_seed in seeds:
        seed, idx = label_draw(train.labels, draw_key, label_seed, n_labels, balanced)
        x, y = train.images[idx].to(dev), train.labels[idx].to(dev)
        draws[label_seed] = (seed, x, y, encode(encoder, x) if "frozen" in modes else None)
    results, total = {}, len(seeds) * len(h1) * len(modes)
    bar = LoopProgress(total, "model", "transfer", shown=progress)
    for width in h1:
        for mode in modes:  # one group per (h1, mode): the label draws' classifiers, together on a GPU
            t = time.perf_counter()
            chosen = protocols.get(mode, {})
            group = [draws[s] for s in seeds]
            clfs = [build_classifier(encoder, width, mode, seed).to(dev) for seed, *_ in group]
            losses = fit_each(
                clfs,
                mode,
                [d[1] for d in group],
                [d[2] for d in group],
                chosen.get("chosen") or {},
                [d[0] for d in group],
                features=[d[3] for d in group] if mode == "frozen" else None,
            )
            for label_seed, clf, loss, (_, x, y, feats) in zip(seeds, clfs, losses, group):
                if mode == "frozen":
                    with single_thread():
                        acc = _accuracy(predict(clf.head, test_feats), test_y)
                        train_acc = _accuracy(predict(clf.head, feats), y)
                else:
                    acc = _accuracy(predict(clf, test_x), test_y)
                    train_acc = _accuracy(predict(clf, x), y)
                results[label_seed, width, mode] = {
                    "h1": width,
                    "mode": mode,
                    "label_seed": label_seed,
                    "accuracy": acc,
                    "train_accuracy": train_acc,
                    "cv_accuracy": chosen.get("cv_accuracy"),
                    "final_loss": loss,
                }
                bar.add(1)
            timings[mode] += time.perf_counter() - t
    records = []
    for label_seed in seeds:  # in the order of the draws: each draw's models, then its baselines
        records += [results[label_seed, width, mode] for width in h1 for mode in modes]
        if baselines:
            t = time.perf_counter()
            _, x, y, _ = draws[label_seed]
            for name, acc in pixel_baselines(x, y, test_x, test_y).items():
                records.append(
                    {
                        "h1": None,
                        "mode": name,
                        "label_seed": label_seed,
                        "accuracy": acc,
                        "train_accuracy": None,
                        "cv_accuracy": None,
                        "final_loss": None,
                    }
                )
            timings["baselines"] += time.perf_counter() - t
    bar.close()
    timings["total"] = time.perf_counter() - t0
    return {
        "records": records,
        "timings": timings,
        "n_test": int(len(test_y)),
        "latent_dim": encoder.cfg.latent_dim,
        "num_conv": encoder.cfg.num_conv,
    }


def accuracy_table(records) -> pd.DataFrame:
    """Mean test accuracy over seeds (and its min-max) per mode and h1; baselines with h1 '-'."""
    import pandas as pd

    df = pd.DataFrame(records)
    df["h1"] = [("-" if pd.isna(h) else str(int(h))) for h in df["h1"]]
    order = {m: i for i, m in enumerate(MODES + BASELINES)}
    t = (
        df.groupby(["mode", "h1"])["accuracy"]
        .agg(["mean", "min", "max", "count"])
        .rename(columns={"count": "seeds"})
        .reset_index()
    )
    t = t.sort_values(
        ["mode", "h1"],
        key=lambda c: c.map(order) if c.name == "mode" else c.map(lambda h: -1 if h == "-" else int(h)),
    )
    return t.reset_index(drop=True)


def encoder_from_checkpoints(checkpoints: list[str]) -> Encoder:
    """The one encoder a transfer run uses (`for_each: autoencode` gives each run one)."""
    if len(checkpoints) != 1:
        raise ValueError(
            f"a transfer run uses exactly one encoder checkpoint, got {len(checkpoints)}: "
            f"{checkpoints} (set `for_each: autoencode` for the transfer stage)"
        )
    return load_encoder(checkpoints[0])


def protocols_from(paths: list[str]) -> dict:
    """The protocols a run trains by: {mode: chosen} merged over the protocol stage's
    protocol.json files (one run for every mode, or one run per mode); a mode chosen twice is an
    error, since which choice wins would be arbitrary."""
    from ...science.artifacts import read_json

    out, where = {}, {}
    for path in paths:
        for mode, chosen in read_json(path).items():
            if mode in out:
                raise ValueError(
                    f"mode {mode!r} has a protocol in both {where[mode]} and {path}: "
                    "select one protocol run per mode (stages.<stage>.uses.protocol)"
                )
            out[mode], where[mode] = chosen, path
    return out
