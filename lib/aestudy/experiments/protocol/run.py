"""How experiment 4's classifiers are trained, chosen by cross-validation on the labelled images.

The original fixes the network (encoder + MLP head) and the 100 labels, not how to train them.
Every choice it leaves open is a field of a *protocol* (`science.fitting`).

Per mode, `candidates` protocols are taken from the mode's search space: the untuned protocol
first (so the search can only keep or improve on it), then distinct random draws. Each is scored
by stratified k-fold cross-validation on the labelled images of the given draws (validation
accuracy, averaged over folds and draws: several label draws of one encoder make the choice
steadier, benchmarks/protocol_search_rules.py) and the best wins. Every mode gets the same number of
candidates and folds: the same search budget. Nothing here reads a test image.
"""

from __future__ import annotations

import itertools
import random
from typing import TYPE_CHECKING

import torch

from ...progress_bar import LoopProgress
from ...science.batched import fit_each
from ...science.fitting import derived_seed, encode, untuned
from ...search_rule import first_best
from ..transfer.run import build_classifier, label_draw

if TYPE_CHECKING:
    import pandas as pd  # the tables' type; imported where one is made

TUNED = {  # the protocol fields each mode chooses; the others keep UNTUNED (or FORCED) values
    "frozen": ("steps", "lr", "weight_decay", "augment"),
    "finetune": ("steps", "lr", "weight_decay", "augment", "warmup", "encoder_lr"),
    "scratch": ("steps", "lr", "weight_decay", "augment"),
    "augmented": ("steps", "lr", "weight_decay"),
}


def candidates(mode: str, space: dict, n: int, seed: int = 0) -> list[dict]:
    """`n` distinct protocols for `mode`: the untuned protocol first, then seeded random draws from the
    product of the space's values for the fields the mode tunes (fewer if the space is smaller)."""
    return seeded_candidates(
        untuned(mode),
        TUNED[mode],
        space,
        n,
        derived_seed("protocol-search", mode, seed),
        valid=lambda p: p["warmup"] < p["steps"],
    )


def seeded_candidates(
    base: dict, keys, space: dict, n: int, rng_seed: int, valid=lambda p: True
) -> list[dict]:
    """`n` distinct settings: `base` first (so a search can only keep or improve on it), then
    draws, shuffled by `rng_seed`, from the product of `space`'s values for `keys`."""
    keys = [k for k in keys if k in space]
    grid = [{**base, **dict(zip(keys, values))} for values in itertools.product(*(space[k] for k in keys))]
    grid = [p for p in grid if valid(p)]
    rest = [p for i, p in enumerate(grid) if p != base and p not in grid[:i]]
    random.Random(rng_seed).shuffle(rest)
    return [base, *rest][: max(1, n)]


def stratified_folds(labels: torch.Tensor, k: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """k (train, validation) index pairs; each class's images are spread evenly over the folds."""
    if k < 2:
        raise ValueError(f"folds must be >= 2, got {k}")
    g = torch.Generator().manual_seed(seed)
    fold_of = torch.empty(len(labels), dtype=torch.long)
    for c in labels.unique():
        idx = (labels == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        fold_of[idx] = torch.arange(len(idx)) % k
    return [((fold_of != f).nonzero().flatten(), (fold_of == f).nonzero().flatten()) for f in range(k)]


def fold_se(accs: list[float]) -> float | None:
    """Standard error of a cross-validation mean: the sample standard deviation of the fold
    accuracies over the square root of their number (the folds taken as independent; None for
    fewer than two). Over 100 labels it is several points: candidates closer than that are not
    told apart by the search."""
    n = len(accs)
    if n < 2:
        return None
    mean = sum(accs) / n
    return (sum((a - mean) ** 2 for a in accs) / (n - 1)) ** 0.5 / n**0.5


def cross_validate(
    encoder, mode: str, h1: int, x: torch.Tensor, y: torch.Tensor, protocol: dict, folds: list, seed: int
) -> list[float]:
    """Validation accuracy of `protocol` on each fold of the labelled images (x, y)."""
    return cross_validate_each(encoder, mode, h1, x, y, [protocol], folds, seed)[0]


def cross_validate_each(
    encoder,
    mode: str,
    h1: int,
    x: torch.Tensor,
    y: torch.Tensor,
    protocols: list[dict],
    folds: list,
    seed: int,
    on_fitted=None,
) -> list[list[float]]:
    """Each protocol's validation accuracy on each fold of the labelled images (x, y). On a GPU
    the folds' classifiers of every protocol train together where the protocols share the step's
    shape (`batched.fit_each`); each fold's classifier starts from the same seed whatever the protocol."""
    feats = encode(encoder, x) if mode == "frozen" else None
    seeds = [derived_seed("cv", seed, f) for f in range(len(folds))]
    fits = [(q, f) for q in protocols for f in range(len(folds))]
    clfs = [build_classifier(encoder, h1, mode, seeds[f]).to(x.device) for _, f in fits]
    fit_each(
        clfs,
        mode,
        [x[folds[f][0]] for _, f in fits],
        [y[folds[f][0]] for _, f in fits],
        [q for q, _ in fits],
        [seeds[f] for _, f in fits],
        features=None if feats is None else [feats[folds[f][0]] for _, f in fits],
        on_fitted=on_fitted,
    )
    out = []
    for clf, (_, f) in zip(clfs, fits):
        va = folds[f][1]
        with torch.no_grad():
            pred = (clf.head(feats[va]) if feats is not None else clf(x[va])).argmax(1)
        out.append(int((pred == y[va]).sum()) / len(va))
    k = len(folds)
    return [out[i * k : (i + 1) * k] for i in range(len(protocols))]


def run(
    draws: list[dict], modes: list[str], h1: int, space: dict, n_candidates: int, n_folds: int, seed: int = 0
) -> dict:
    """Per mode: every candidate's cross-validation accuracy (with its fold accuracies, `cv_folds`,
    over every draw's folds, and their standard error, `cv_se`) and the chosen (best) protocol.

    draws: [{"encoder": Encoder, "x": images, "y": labels, "seed": int}], the labelled images
    of one or more encoders and label draws; a candidate's score is its mean validation accuracy over the folds
    of every draw. Ties go to the earlier candidate (the untuned protocol first). `modes` may be one
    mode's name (a protocol run per mode: `grid: {modes: [...]}`). Every candidate is
    cross-validated on a draw in one call (`cross_validate_each`: together on a GPU)."""
    modes = [modes] if isinstance(modes, str) else modes
    out = {}
    fitted = LoopProgress(
        search_size(modes, space, n_candidates, len(draws)) * n_folds, "fold fit", "protocol"
    ).add

    for mode in modes:
        cands = candidates(mode, space, n_candidates, seed)
        per_cand = [[] for _ in cands]  # per candidate, each draw's fold accuracies
        for d in draws:
            folds = stratified_folds(d["y"], n_folds, derived_seed("folds", d["seed"]))
            scores = cross_validate_each(
                d["encoder"], mode, h1, d["x"], d["y"], cands, folds, d["seed"], on_fitted=fitted
            )
            for accs, fold_accs in zip(per_cand, scores):
                accs.append(fold_accs)
        scored = []
        for cand, per_draw in zip(cands, per_cand):
            accs = [a for fold_accs in per_draw for a in fold_accs]
            scored.append(
                {
                    "protocol": cand,
                    "cv_accuracy": sum(accs) / len(accs),
                    "cv_se": fold_se(accs),
                    "cv_folds": accs,
                    "per_draw": [sum(a) / len(a) for a in per_draw],
                }
            )
        best = first_best([s["cv_accuracy"] for s in scored])
        out[mode] = {
            "chosen": scored[best]["protocol"],
            "cv_accuracy": scored[best]["cv_accuracy"],
            "candidates": scored,
        }
    return out


def search_size(modes: list[str], space: dict, n_candidates: int, n_draws: int) -> int:
    """How many cross-validations `run` runs (for a progress bar)."""
    return sum(len(candidates(m, space, n_candidates)) for m in modes) * n_draws


def labelled_draws(
    checkpoints: list[str], pool, label_seeds: list[int], n_labels: int, balanced: bool, device: str = "auto"
) -> list[dict]:
    """For each autoencoder checkpoint and label seed: its encoder and the labelled images the
    transfer run of that encoder draws for that seed (the same derivation as `transfer.run`)."""
    from ...science.artifacts import load_checkpoint
    from ...science.training import pick_device
    from ..transfer.run import draw_key, load_encoder

    dev = pick_device(device)
    draws = []
    for path in checkpoints:
        key, encoder = draw_key(load_checkpoint(path)), load_encoder(path).to(dev).eval()
        for label_seed in label_seeds:
            seed, idx = label_draw(pool.labels, key, label_seed, n_labels, balanced)
            draws.append(
                {
                    "encoder": encoder,
                    "x": pool.images[idx].to(dev),
                    "y": pool.labels[idx].to(dev),
                    "seed": seed,
                    "label_seed": label_seed,
                    "checkpoint": str(path),
                }
            )
    return draws


def table(choice: dict) -> pd.DataFrame:
    """One row per (mode, candidate): its protocol, cross-validation accuracy, the standard error
    of that mean over the folds, and whether chosen."""
    import pandas as pd

    rows = [
        {
            "mode": mode,
            "candidate": i,
            **c["protocol"],
            "cv_accuracy": c["cv_accuracy"],
            "cv_se": c.get("cv_se"),
            "chosen": c["protocol"] == res["chosen"],
        }
        for mode, res in choice.items()
        for i, c in enumerate(res["candidates"])
    ]
    return pd.DataFrame(rows)
