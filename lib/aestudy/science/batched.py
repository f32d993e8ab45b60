"""Several classifiers of one mode trained together, as one vmapped network.

Experiment 4 and its protocol search train many small classifiers on 100 labelled images or
fewer: one per label draw (transfer) or per fold (cross-validation), each by the same protocol,
and every candidate protocol of a search on the same folds. Classifiers train together where
their protocols agree in what shapes the step (`SHARED`: steps, augmentation, warm-up); each
keeps its own learning rates and weight decay (`stacked_adamw`).
On a GPU each full-batch step of one such classifier is a few dozen tiny kernel launches, so
the card idles. `fit_together` stacks the classifiers' weights (`torch.func.stack_module_state`),
runs the step of all of them as one batched call (`torch.func.vmap` over `functional_call`),
and trains the stacked weights with one AdamW (`stacked_adamw.adamw`): AdamW works element by element, and the summed
loss gives each classifier exactly its own gradient, so each classifier follows the same
arithmetic as `fitting.fit` alone. Only the kernels differ (a grouped convolution instead of
one per model), so the numbers agree to rounding, not bit for bit: the CPU keeps the one-by-one
path (`batch_fits` is false there) and its numbers; tests pin the agreement on the CPU.

Draws of unequal size (k-fold splits of 100 images into 3) are padded to the largest and the
padding is masked out of the loss. Each classifier keeps its own augmentation generator, so
it sees the same augmented images as when trained alone. `Stack` is shared with the
semi-supervised stage (`semisup.fit_together`). `batch_fits` decides where classifiers train
together; `fit_each` applies it to protocol fits, `semisup.train_each` to the recipe's.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from .capture import eager_only
from .fitting import derived_seed, fit, untuned
from .graphed import GraphedLoop, affine, affine_draws, flat, graph_fits
from .stacked_adamw import adamw


def batch_fits(device: torch.device) -> bool:
    """Train the classifiers of one mode together on CUDA, unless AESTUDY_EAGER=1."""
    return device.type == "cuda" and not eager_only()


def _stack(modules: list[nn.Module], trainable: bool) -> tuple[dict, nn.Module]:
    params, _ = stack_module_state(modules)  # the study's networks have no buffers
    params = {k: v.detach().requires_grad_(trainable) for k, v in params.items()}
    return params, copy.deepcopy(modules[0]).to("meta")


def padded(tensors: list[torch.Tensor]) -> torch.Tensor:
    """The tensors stacked, each padded with zeros to the longest."""
    n = max(len(t) for t in tensors)
    return torch.stack([torch.cat([t, t.new_zeros((n - len(t), *t.shape[1:]))]) for t in tensors])


def padded_labels(ys: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(labels padded, mask of the real ones as floats, each draw's size)."""
    sizes = torch.tensor([len(y) for y in ys], device=ys[0].device)
    y = padded(ys)
    mask = (torch.arange(y.shape[1], device=y.device)[None, :] < sizes[:, None]).to(torch.float32)
    return y, mask, sizes


def mean_cross_entropy(
    out: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, sizes: torch.Tensor
) -> torch.Tensor:
    """Each model's mean cross-entropy over its real labelled images: out [M, N, C], y [M, N]."""
    per_image = nn.functional.cross_entropy(out.flatten(0, 1), y.flatten(), reduction="none").view_as(mask)
    return (per_image * mask).sum(1) / sizes


class Stack:
    """Classifiers (encoder + head) with their weights stacked: `net(x)` runs each on its own
    slice of x [M, N, ...]; `encode` and `head` run the halves. `write_back` copies the trained
    weights into the classifiers."""

    def __init__(self, clfs: list, train_encoder: bool = True):
        self.heads, head = _stack([c.head for c in clfs], True)
        self.encoders, enc = _stack([c.encoder for c in clfs], train_encoder)
        self.train_encoder = train_encoder
        self._head = vmap(lambda w, z: functional_call(head, w, (z,)))
        self._enc = vmap(lambda w, x: functional_call(enc, w, (x,)))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self._enc(self.encoders, x)

    def head(self, z: torch.Tensor) -> torch.Tensor:
        return self._head(self.heads, z)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encode(x))

    def write_back(self, clfs: list) -> None:
        with torch.no_grad():
            for i, clf in enumerate(clfs):
                for part, params in (("head", self.heads), ("encoder", self.encoders)):
                    if part == "head" or self.train_encoder:
                        for name, value in params.items():
                            clf.get_submodule(part).get_parameter(name).copy_(value[i])
        for clf in clfs:
            clf.encoder.requires_grad_(self.train_encoder)  # as one trained alone is left
            clf.eval()


def one_each(setting: dict | list[dict], n: int) -> list[dict]:
    """A protocol or recipe given once for all n models, or already one per model, as n of them."""
    return setting if isinstance(setting, list) else [setting] * n


SHARED = ("steps", "augment", "warmup")
"""The protocol fields that shape the step: classifiers trained together share them; lr,
weight_decay and encoder_lr are each one's (`stacked_adamw`)."""


def shared(mode: str, protocol: dict) -> tuple:
    """The values of a protocol's SHARED fields in `mode`: protocols with equal ones train together."""
    p = {**untuned(mode), **protocol}
    return tuple(p[k] for k in SHARED)


def fit_together(
    clfs: list,
    mode: str,
    xs: list[torch.Tensor],
    ys: list[torch.Tensor],
    protocol: dict | list[dict],
    seeds: list[int],
    features: list[torch.Tensor] | None = None,
    graph: bool | None = None,
) -> list[float]:
    """Train each `clfs[i]` on (xs[i], ys[i]) by `protocols[i]`, as `fitting.fit(clfs[i], mode,
    xs[i], ys[i], protocols[i], seeds[i], features[i])` would; returns each one's last loss.
    `protocol` is one protocol for all or one per classifier (equal in SHARED: candidates of a
    search that differ in rates and decay train together). The step is replayed from a CUDA graph
    where `graph` (default: `graphed.graph_fits`), see `science.graphed`."""
    ps = [{**untuned(mode), **q} for q in one_each(protocol, len(clfs))]
    if len(ps) != len(clfs) or len({shared(mode, q) for q in ps}) > 1:
        raise ValueError(f"classifiers trained together need one protocol each, equal in {SHARED}")
    p = ps[0]  # its SHARED fields are everyone's
    frozen = mode == "frozen"
    device = xs[0].device
    graph = (graph_fits(device) if graph is None else graph) and device.type == "cuda"
    net = Stack(clfs, train_encoder=not frozen)
    lr = [q["lr"] for q in ps]
    groups = [{"params": list(net.heads.values()), "model_lr": lr}]
    if not frozen:
        groups.append(
            {"params": list(net.encoders.values()), "model_lr": [q["lr"] * q["encoder_lr"] for q in ps]}
        )
    opt = adamw(groups, [q["weight_decay"] for q in ps], capturable=graph)
    gens = (
        [torch.Generator().manual_seed(derived_seed("augment", s)) for s in seeds] if p["augment"] else None
    )
    warmup = p["warmup"] if mode == "finetune" else 0
    y, mask, sizes = padded_labels(ys)
    x_all = padded(xs)
    codes_fixed = None
    if frozen and gens is None:
        codes_fixed = padded(features) if features is not None else net.encode(x_all).detach()

    def step_fn(inputs: dict, warm: bool = False) -> torch.Tensor:
        """One step of all the classifiers from this step's random numbers (`inputs`)."""
        if codes_fixed is not None:
            codes = codes_fixed
        else:
            xb = (
                x_all
                if gens is None
                else affine(flat(x_all), inputs["angle"], inputs["shift"]).view_as(x_all)
            )
            with torch.no_grad() if frozen or warm else contextlib.nullcontext():
                codes = net.encode(xb)
        losses = mean_cross_entropy(net.head(codes), y, mask, sizes)
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()  # each classifier's gradient is its own loss's
        opt.step()
        return losses.detach()

    def draws() -> dict:
        """Each classifier's augmentation numbers, drawn as `fitting.augment` draws them, padded."""
        if gens is None:
            return {}
        each = [affine_draws(len(x), g) for x, g in zip(xs, gens)]
        return {"angle": flat(padded([a for a, _ in each])), "shift": flat(padded([s for _, s in each]))}

    loop = GraphedLoop(step_fn, opt, device, eager_steps=warmup, graph=graph)
    losses = torch.full((len(clfs),), float("nan"))
    for step in range(p["steps"]):
        losses = loop(draws(), step, warm=step < warmup)
    net.write_back(clfs)
    return [float(v) for v in losses.cpu()]


def fit_each(
    clfs: list,
    mode: str,
    xs: list[torch.Tensor],
    ys: list[torch.Tensor],
    protocol: dict | list[dict],
    seeds: list[int],
    features: list[torch.Tensor] | None = None,
    on_fitted=None,
) -> list[float]:
    """Train each classifier by `protocol` (one for all, or one each): on a GPU together, one
    `fit_together` per group of protocols equal in SHARED, else one at a time (`fitting.fit`);
    returns each one's last loss, in the order given. `on_fitted(n)` hears of every n classifiers
    trained (for a progress bar)."""
    ps = one_each(protocol, len(clfs))
    feats = features or [None] * len(clfs)
    fitted = on_fitted or (lambda n: None)
    if not batch_fits(xs[0].device):
        losses = []
        for c, x, y, q, s, f in zip(clfs, xs, ys, ps, seeds, feats):
            losses.append(fit(c, mode, x, y, q, s, features=f))
            fitted(1)
        return losses

    def train(idx: list[int]) -> list[float]:
        pick = lambda values: [values[i] for i in idx]  # noqa: E731
        features_ = pick(features) if features is not None else None
        losses = fit_together(pick(clfs), mode, pick(xs), pick(ys), pick(ps), pick(seeds), features=features_)
        fitted(len(idx))
        return losses

    return in_groups([shared(mode, q) for q in ps], train)


def in_groups(keys: list, train: Callable[[list[int]], list]) -> list:
    """`train(indices)` once per group of equal keys (the models one vmapped step can train: a
    search's candidates of one shape), its results put back in the order of `keys`."""
    groups: dict = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    out = [None] * len(keys)
    for idx in groups.values():
        for i, result in zip(idx, train(idx)):
            out[i] = result
    return out
