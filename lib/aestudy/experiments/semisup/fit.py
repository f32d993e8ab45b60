"""How the semi-supervised recipe trains one network (`fit`), or several as one vmapped network on
a GPU (`fit_together`): the larger network and the levers of issue 25.

Every lever is a recipe field whose default is the recipe before it (so the default and large
profiles train bit for bit as before; tests/test_semisup_levers.py pins it against a copy of the
old loop):
- `ema` > 0: an averaged (EMA) teacher, its weights `ema * teacher + (1 - ema) * student` after
  every step, makes the pseudo-labels and is the network returned, so evaluated (Tarvainen and
  Valpola 2017; FixMatch evaluates its EMA too). 0: the student labels its own images.
- `strong` and `elastic`: the strong augmentation of the unlabelled images (`augmentations`: "erase" or
  the RandAugment-like "rand", with an elastic distortion of `elastic` pixels where > 0).
- `align`: distribution alignment (ReMixMatch, Berthelot et al. 2020): the pseudo-label
  probabilities are multiplied by the labelled draw's class frequencies over a running mean of the
  network's predictions on unlabelled images (momentum `DA_MOMENTUM`) and renormalised.
- `schedule`: "constant", or "cosine", FixMatch's lr * cos(7 pi k / (16 K)).
- `network`: "study" (experiment 4's encoder + MLP head) or "conv-small", a larger convolutional
  network after the Conv-Small of Rasmus et al. 2015 (GroupNorm for batch norm, so it has no
  buffers and can be vmapped): 32 5x5, max-pool, 64 3x3, 64 3x3, max-pool, 128 3x3, global mean
  pool, linear to 10. It always starts at random (`init` concerns the study's network).
`curve=(every, x, y)` also measures the returned network's accuracy on (x, y) every `every` steps
(held-out training images in benchmarks/semisup_levers.py; never the test set); a fourth element
`on_point(step, {index: accuracy})` is called with each point as it is measured (the index of each
network trained in the call), so a benchmark stopped at its time limit has printed the curve so far.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from ...science import batched, graphed, training
from ...science.fitting import augment, derived_seed
from ...science.stacked_adamw import adamw
from ..transfer.run import build_classifier
from .augmentations import strong_apply, strong_augment, strong_draws
from .params import RECIPE

DA_MOMENTUM = 0.99  # of the running mean of the predictions that distribution alignment divides by
NETWORKS = ("study", "conv-small")


class ConvSmall(nn.Module):
    """The larger network beside the study's: Conv-Small after Rasmus et al. 2015 (see the module)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()

        def block(c_in, c_out, k):
            return [nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.GroupNorm(8, c_out), nn.LeakyReLU(0.1)]

        self.encoder = nn.Sequential(
            *block(1, 32, 5),
            nn.MaxPool2d(2),
            *block(32, 64, 3),
            *block(64, 64, 3),
            nn.MaxPool2d(2),
            *block(64, 128, 3),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


def build(encoder, h1: int, rec: dict, seed: int) -> nn.Module:
    """The recipe's network for one classifier: experiment 4's (pre-trained or random encoder, by
    `init`) or the larger one, seeded by `seed`; never modifies `encoder`."""
    if rec.get("network", "study") == "conv-small":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derived_seed("conv-small", seed))
            return ConvSmall()
    return build_classifier(encoder, h1, "finetune" if rec["init"] == "pretrained" else "scratch", seed)


def _strong(x, gen, rec):
    return strong_augment(x, gen, rec.get("strong", "erase"), rec.get("elastic", 0.0))


def _schedule(opt, rec: dict):
    if rec.get("schedule", "constant") == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(
            opt, lambda k: math.cos(7 * math.pi * k / (16 * rec["steps"]))
        )
    return None


def _align(prob: torch.Tensor, running: torch.Tensor, target: torch.Tensor):
    """(aligned probabilities, the running mean updated): prob [..., N, C], running and target [..., C]."""
    running = DA_MOMENTUM * running + (1 - DA_MOMENTUM) * prob.mean(-2)
    q = prob * (target / running).unsqueeze(-2)
    return q / q.sum(-1, keepdim=True), running


def _frequencies(y: torch.Tensor, classes: int) -> torch.Tensor:
    return torch.bincount(y, minlength=classes).to(torch.float32) / len(y)


def _classes(model: nn.Module) -> int:
    return [m for m in model.head.modules() if isinstance(m, nn.Linear)][-1].out_features


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 2000) -> float:
    with torch.no_grad():
        pred = torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])
    return float((pred == y).float().mean())


def fit(
    clf: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    unlabelled: torch.Tensor,
    rec: dict,
    seed: int,
    on_step=None,
    curve=None,
) -> dict:
    """Train `clf` on the labelled (x, y) and the `unlabelled` images by recipe `rec` (left as the
    EMA teacher where `ema` > 0). Returns the last loss, the fraction of the last unlabelled batch
    whose pseudo-label was kept, and with `curve=(every, x, y)` the accuracy on (x, y) by step."""
    opt = training.adamw([{"params": list(clf.parameters()), "lr": rec["lr"]}], rec["weight_decay"])
    sched = _schedule(opt, rec)
    gen = torch.Generator().manual_seed(derived_seed("semisup", seed))
    ema = rec.get("ema", 0.0)
    teacher = copy.deepcopy(clf).requires_grad_(False) if ema > 0 else None
    running = target = None
    if rec.get("align", False):
        classes = _classes(clf)
        target = _frequencies(y, classes).to(x.device)
        running = torch.full_like(target, 1 / classes)
    loss, mask, points = torch.tensor(float("nan")), torch.zeros(1), []
    for step in range(rec["steps"]):
        clf.train()
        pick = torch.randint(0, len(unlabelled), (rec["unlabelled_batch"],), generator=gen).to(
            unlabelled.device
        )
        ub = unlabelled[pick]
        with torch.no_grad():
            prob = (clf if teacher is None else teacher)(augment(ub, gen)).softmax(1)
            if target is not None:
                prob, running = _align(prob.float(), running, target)
            prob, pseudo = prob.max(1)
        mask = (prob >= rec["threshold"]).to(ub.dtype)
        supervised = nn.functional.cross_entropy(clf(augment(x, gen)), y)
        consistency = (
            nn.functional.cross_entropy(clf(_strong(ub, gen, rec)), pseudo, reduction="none") * mask
        ).mean()
        loss = supervised + rec["unlabelled_weight"] * consistency
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        if teacher is not None:
            with torch.no_grad():
                torch._foreach_lerp_(list(teacher.parameters()), list(clf.parameters()), 1 - ema)
        if curve is not None and (step + 1) % curve[0] == 0:
            points.append(
                (step + 1, _accuracy((clf if teacher is None else teacher).eval(), curve[1], curve[2]))
            )
            if len(curve) > 3:
                curve[3](step + 1, {0: points[-1][1]})
        if on_step is not None:
            on_step(step + 1)
    if teacher is not None:
        with torch.no_grad():
            for p, q in zip(clf.parameters(), teacher.parameters()):
                p.copy_(q)
    clf.eval()  # read once, at the end: no host sync per step on a GPU
    info = {"final_loss": float(loss.detach()), "pseudo_label_rate": float(mask.mean())}
    return {**info, "curve": points} if curve is not None else info


SHARED = ("steps", "unlabelled_batch", "strong", "elastic", "align", "schedule", "network")
"""The recipe fields that shape the step: networks trained together (`fit_together`) share them;
the others (lr, weight_decay, threshold, unlabelled_weight, ema; init, at `build`) are each one's."""


def shared(rec: dict) -> tuple:
    """The values of `rec`'s SHARED fields: recipes with equal ones can be trained together."""
    return tuple({**RECIPE, **rec}[k] for k in SHARED)


def fit_together(
    clfs: list,
    xs: list[torch.Tensor],
    ys: list[torch.Tensor],
    unlabelled: torch.Tensor,
    rec: dict | list[dict],
    seeds: list[int],
    on_step=None,
    curve=None,
    graph: bool | None = None,
) -> list[dict]:
    """Train each `clfs[i]` as `fit(clfs[i], xs[i], ys[i], unlabelled, recs[i], seeds[i])` would, all
    as one vmapped network (`batched.Stack`, on a GPU): each keeps its own generator, so it draws
    the same unlabelled batches and augmentations in the same order as when trained alone, and its
    own recipe's numbers (`rec` may be one recipe for all or one per network; the SHARED fields must
    agree), so one call trains every candidate recipe of a search with every fold. Its numbers are
    drawn on the host and the step runs from them (`strong_apply`), replayed from a CUDA graph where
    `graph` (default `graphed.graph_fits`) and the rate is constant (`science.graphed`)."""
    recs = [{**RECIPE, **r} for r in batched.one_each(rec, len(clfs))]
    if len(recs) != len(clfs) or len({shared(r) for r in recs}) > 1:
        raise ValueError(f"networks trained together need one recipe each, equal in {SHARED}")
    rec = recs[0]  # its SHARED fields are everyone's
    device = unlabelled.device
    kind, elastic = rec["strong"], rec["elastic"]
    if graph is None:
        graph = graphed.graph_fits(device)
    # a changing rate is not captured; the CPU never captures
    graph = graph and rec["schedule"] == "constant" and device.type == "cuda"
    for clf in clfs:  # as `fit` trains; a pre-trained encoder's copy may come in eval mode, a new one not
        clf.train()
    net = batched.Stack(clfs)
    student = [*net.heads.values(), *net.encoders.values()]

    def each(field: str) -> torch.Tensor:
        """Every network's value of a recipe field, one per network, on the device."""
        return torch.tensor([r[field] for r in recs], dtype=torch.float32, device=device)

    opt = adamw(
        [{"params": student, "model_lr": [r["lr"] for r in recs]}], [r["weight_decay"] for r in recs], graph
    )
    sched = _schedule(opt, rec)
    gens = [torch.Generator().manual_seed(derived_seed("semisup", s)) for s in seeds]
    y, label_mask, sizes = batched.padded_labels(ys)
    x_all = batched.padded(xs)
    threshold, unlabelled_weight = each("threshold")[:, None], each("unlabelled_weight")
    teaching = any(r["ema"] > 0 for r in recs)  # an ema of 0 follows its student exactly (lerp by 1)
    t_heads = {k: v.detach().clone() for k, v in net.heads.items()} if teaching else None
    t_encs = {k: v.detach().clone() for k, v in net.encoders.items()} if teaching else None
    teacher_weights = [*t_heads.values(), *t_encs.values()] if teaching else None
    emas = {r["ema"] for r in recs}
    # one decay: one multi-tensor lerp; several: each network's, broadcast over its slice
    follow = (
        1 - next(iter(emas))
        if len(emas) == 1
        else torch.tensor([1 - r["ema"] for r in recs], dtype=torch.float32, device=device)
    )

    def teacher(x):
        return net(x) if t_heads is None else net._head(t_heads, net._enc(t_encs, x))

    running = target = None
    if rec["align"]:
        classes = _classes(clfs[0])
        target = torch.stack([_frequencies(yy, classes) for yy in ys]).to(y.device)
        running = torch.full_like(target, 1 / classes)
    m, b = len(clfs), rec["unlabelled_batch"]

    def draws() -> dict:
        """This step's numbers of every classifier, drawn from its own generator in `fit`'s order."""
        each = []
        for x, g in zip(xs, gens):
            pick = torch.randint(0, len(unlabelled), (b,), generator=g)
            weak, lab = graphed.affine_draws(b, g), graphed.affine_draws(len(x), g)
            each.append(
                {"pick": pick, "weak_a": weak[0], "weak_s": weak[1], "lab_a": lab[0], "lab_s": lab[1]}
            )
            each[-1].update(strong_draws(b, g, kind, elastic, unlabelled.shape[-1]))
        return {k: graphed.flat(batched.padded([e[k] for e in each])) for k in each[0]}

    def step_fn(d: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """One step of all the classifiers from this step's numbers `d` (on the device)."""
        ub = unlabelled[d["pick"]]  # [M * B, ...]
        weak = graphed.affine(ub, d["weak_a"], d["weak_s"]).view(m, b, *ub.shape[1:])
        with torch.no_grad():
            prob = teacher(weak).softmax(-1)
            if target is not None:
                prob, new_running = _align(prob.float(), running, target)
                running.copy_(new_running)
            prob, pseudo = prob.max(-1)
        mask = (prob >= threshold).to(weak.dtype)
        labelled = graphed.affine(graphed.flat(x_all), d["lab_a"], d["lab_s"]).view_as(x_all)
        strong = strong_apply(ub, d, kind, elastic).view_as(weak)
        supervised = batched.mean_cross_entropy(net(labelled), y, label_mask, sizes)
        out = net(strong)
        consistency = (
            nn.functional.cross_entropy(out.flatten(0, 1), pseudo.flatten(), reduction="none").view_as(mask)
            * mask
        ).mean(1)
        losses = supervised + unlabelled_weight * consistency
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()  # each classifier's gradient is its own loss's
        opt.step()
        if teacher_weights is not None:
            with torch.no_grad():
                if isinstance(follow, float):
                    torch._foreach_lerp_(teacher_weights, student, follow)
                else:
                    for t, s in zip(teacher_weights, student):
                        t.lerp_(s, follow.view(-1, *(1,) * (t.dim() - 1)))
        return losses.detach(), mask

    loop = graphed.GraphedLoop(step_fn, opt, device, graph=graph)
    losses, mask, points = torch.full((m,), float("nan")), torch.zeros(m, 1), [[] for _ in clfs]
    for step in range(rec["steps"]):
        losses, mask = loop(draws(), step)
        if sched is not None:
            sched.step()
        if curve is not None and (step + 1) % curve[0] == 0:
            with torch.no_grad():
                pred = torch.cat(
                    [
                        teacher(
                            curve[1][i : i + 2000].expand(len(clfs), *curve[1][i : i + 2000].shape)
                        ).argmax(-1)
                        for i in range(0, len(curve[1]), 2000)
                    ],
                    1,
                )
            accs = (pred == curve[2]).float().mean(1).tolist()
            for pts, acc in zip(points, accs):
                pts.append((step + 1, acc))
            if len(curve) > 3:
                curve[3](step + 1, dict(enumerate(accs)))
        if on_step is not None:
            for _ in clfs:
                on_step(step + 1)
    if t_heads is not None:
        with torch.no_grad():
            for p, q in zip(student, [*t_heads.values(), *t_encs.values()]):
                p.copy_(q)
    net.write_back(clfs)
    infos = [
        {"final_loss": float(loss), "pseudo_label_rate": float(m.mean())}
        for loss, m in zip(losses.detach().cpu(), mask.cpu())
    ]
    return [{**info, "curve": pts} for info, pts in zip(infos, points)] if curve is not None else infos
