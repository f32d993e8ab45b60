"""The seeds of one (d, num_conv) cell trained together: one optimiser step for all K of them.

A cell of the autoencoder sweep is K models of one architecture that differ only by their seed
(initialisation and batch order). On a GPU each model's step at batch 64 is launch-bound
(../shared/notes/gpu.md), so K of them trained side by side mostly wait for kernel launches.
`run_together` stacks their weights (`torch.func.stack_module_state`), runs the forward pass of
all K as one `vmap` over `functional_call` (a convolution becomes one grouped convolution), sums
the K batch losses and takes one optimiser step over the stacked weights. The sum gives each
model exactly its own gradient, and Adam and SGD with momentum work element by element, so each
model follows the arithmetic of `train.run` alone: its own initialisation (built by the caller
after `train.setup(seed)`, `build`), its own batch order (the permutation `train.run` draws from
`Generator().manual_seed(seed)` each epoch), the same warm-up and schedule and the same fused
optimiser (`train.make_optimizer`). Only the kernels differ (grouped against single convolutions,
a reduction in another order), so the numbers agree with separate training to float rounding,
not bit for bit: tests/experiments/autoencode/test_together.py pins the per-step losses and the final weights on
the CPU.

On CUDA with Adam and a constant rate after the warm-up the whole batched step (index, forward,
loss, backward, fused capturable Adam) is captured once as a CUDA graph and replayed, as
`steps.GraphedStep` does for one model. The path is opt-in: the autoencode notebook trains one
model per run with `train.run` (`fit` with one model), so the CPU numbers of every profile are
unchanged; under `aestudy run --seeds-together` the runner executes a cell's runs as one notebook
execution (`cell_runs`, runner.plan.Job) and `fit` trains them here, each into its own run folder.
`unstack` gives back K ordinary state_dicts, one per model.
"""

from __future__ import annotations

import copy
import time

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from ...science.capture import StepGraph
from ...science.models import AEConfig, AutoEncoder
from ...science.steps import autocast_for, use_graph
from ...science.training import resolved_precision
from . import run as train


def build(config: AEConfig, seeds: list[int]) -> list[AutoEncoder]:
    """The K models as the autoencode notebook builds each: `train.setup(seed)`, then the model
    (the data loading between them draws from its own generators, not the global one)."""
    models = []
    for seed in seeds:
        train.setup(seed)
        models.append(AutoEncoder(config))
    return models


def stack(models: list[nn.Module], device: torch.device) -> tuple[dict[str, torch.Tensor], nn.Module]:
    """The models' parameters stacked along a new first dimension, as leaf tensors on `device`
    that require gradients, and a weightless copy of the first model to call them with."""
    shapes = {tuple((k, tuple(v.shape)) for k, v in m.state_dict().items()) for m in models}
    if len({type(m) for m in models}) != 1 or len(shapes) != 1:
        raise ValueError("the models trained together must have one architecture")
    if any(True for m in models for _ in m.buffers()):
        raise ValueError("models with buffers cannot be stacked here (the study's autoencoders have none)")
    params, _ = stack_module_state(models)
    params = {k: v.detach().to(device).requires_grad_(True) for k, v in params.items()}
    return params, copy.deepcopy(models[0]).to("meta")


def unstack(params: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
    """K ordinary state_dicts (on the CPU) from stacked parameters."""
    k = len(next(iter(params.values())))
    return [{name: p[i].detach().to("cpu").clone() for name, p in params.items()} for i in range(k)]


def write_back(models: list[nn.Module], params: dict[str, torch.Tensor]) -> None:
    for model, state in zip(models, unstack(params)):
        model.load_state_dict(state)


class Stacked:
    """Forward pass and per-model losses of K stacked models: `losses(data, idx)` with `idx`
    [K, B] the batch of each model, returns the K mean squared errors (each model's own)."""

    def __init__(self, params: dict[str, torch.Tensor], base: nn.Module, autocast=None):
        self.params, self.autocast = params, autocast
        self._forward = vmap(lambda w, x: functional_call(base, w, (x,)))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(self.params, x)

    def losses(self, data: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        x = data.index_select(0, idx.reshape(-1)).view(*idx.shape, *data.shape[1:])
        if self.autocast is not None:
            with self.autocast():
                out = self(x)
        else:
            out = self(x)
        return (out.float() - x).pow(2).flatten(1).mean(1)  # each model's mse_loss(out_k, x_k)


def batched_step(
    net: Stacked, opt: torch.optim.Optimizer, data: torch.Tensor, idx: torch.Tensor, set_to_none: bool = True
) -> torch.Tensor:
    """One eager step of all K models; returns their K detached batch losses."""
    losses = net.losses(data, idx)
    opt.zero_grad(set_to_none=set_to_none)
    losses.sum().backward()  # each model's gradient is its own loss's
    opt.step()
    return losses.detach()


class EagerSeedsStep:
    def __init__(self, net: Stacked, opt: torch.optim.Optimizer, data: torch.Tensor):
        self.net, self.opt, self.data = net, opt, data

    replays = 0  # an eager step never replays

    def __call__(self, idx: torch.Tensor, step: int) -> torch.Tensor:
        return batched_step(self.net, self.opt, self.data, idx)


class GraphedSeedsStep(EagerSeedsStep):
    """`steps.GraphedStep` for K stacked models (`capture.StepGraph`): eager (on a side stream)
    for the first `eager_steps`, then one captured step replayed for every full batch; an epoch's
    shorter last batch runs eagerly. A capture that fails warns and leaves the eager step."""

    def __init__(
        self,
        net: Stacked,
        opt: torch.optim.Optimizer,
        data: torch.Tensor,
        k: int,
        batch_size: int,
        eager_steps: int = 0,
    ):
        super().__init__(net, opt, data)
        self.batch_size = batch_size
        self.cuda = StepGraph(data.device, "the batched seeds' step", eager_steps)
        self.static_idx = torch.zeros(k, batch_size, dtype=torch.long, device=data.device)
        self.static_loss = None

    @property
    def replays(self) -> int:
        return self.cuda.replays

    def _record(self) -> None:
        losses = self.net.losses(self.data, self.static_idx)
        losses.sum().backward()
        self.opt.step()
        self.static_loss = losses.detach()

    def __call__(self, idx: torch.Tensor, step: int) -> torch.Tensor:
        if idx.shape[1] != self.batch_size:
            return batched_step(self.net, self.opt, self.data, idx, set_to_none=not self.cuda.captured)
        if self.cuda.due(step):
            self.cuda.capture(self._record, self.opt)
        if not self.cuda.captured:
            return self.cuda.eager(batched_step, self.net, self.opt, self.data, idx)
        self.static_idx.copy_(idx)
        self.cuda.replay()
        return self.static_loss


def fit(models: list[nn.Module], seeds: list[int], train_images, test_images, **kw) -> list[dict]:
    """One history per model: `train.run` for one model (what every CPU profile does), and for the
    seeds of one cell under --seeds-together `run_together`, one step for all (each model's
    numbers as `train.run` gives them, to float rounding). `kw`: `train.run`'s options."""
    if len(models) == 1:
        return [train.run(models[0], train_images, test_images, seed=seeds[0], **kw)]
    return run_together(models, seeds, train_images, test_images, **kw)


def run_together(
    models: list[nn.Module],
    seeds: list[int],
    train_images: torch.Tensor,
    test_images: torch.Tensor,
    epochs: int,
    batch_size: int = 64,
    optimizer: str = "adam",
    lr: float = 1e-3,
    device: str = "auto",
    monitor_images: torch.Tensor | None = None,
    warmup_steps: int = 0,
    precision: str = "float32",
    val_images: torch.Tensor | None = None,
    schedule: str = "constant",
    record_steps: bool = False,
    graph: bool | None = None,
) -> list[dict]:
    """Train `models[i]` as `train.run(models[i], ..., seed=seeds[i])` would, all K in one step;
    returns one history per model with `train.run`'s keys (`train_seconds` is the wall time of
    all K together; `graph_replays` the batched graph's). The trained weights are written back
    into the models (on the CPU). `record_steps`: each history gets `step_loss`, its loss at every
    step. `graph`: None captures where `train.run` would (CUDA, Adam, float32, constant rate,
    not AESTUDY_EAGER=1); False never does."""
    if len(models) != len(seeds) or not models:
        raise ValueError(f"one seed per model: {len(models)} models, {len(seeds)} seeds")
    dev = train.pick_device(device)
    params, base = stack(models, dev)
    precision = resolved_precision(precision, dev)  # auto: what this device computes natively
    autocast = autocast_for(dev, precision)
    graphed = use_graph(dev, optimizer) and precision == "float32" and schedule == "constant"
    if graph is False:
        graphed = False
    net = Stacked(params, base, autocast=None if precision == "float32" else autocast)
    opt = train.make_optimizer(optimizer, params.values(), lr, capturable=graphed)
    k = len(models)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    train_x = train_images.to(dev)
    train_step = (
        GraphedSeedsStep(net, opt, train_x, k, batch_size, eager_steps=warmup_steps)
        if graphed
        else EagerSeedsStep(net, opt, train_x)
    )
    histories = [
        {"epoch": [], "train_error": [], "test_error": []}
        | ({"val_error": []} if val_images is not None else {})
        for _ in models
    ]
    step_losses: list[torch.Tensor] = []
    n_batches = -(-len(train_x) // batch_size)
    total_steps = epochs * n_batches
    step = 0
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        running, seen = torch.zeros(k, dtype=torch.float64, device=dev), 0
        orders = [train.batches(len(train_x), batch_size, g, device=dev) for g in gens]
        for idx in zip(*orders):
            if step < warmup_steps or schedule != "constant":
                for group in opt.param_groups:
                    group["lr"] = train.learning_rate(step, lr, warmup_steps, total_steps, schedule)
            losses = train_step(torch.stack(idx), step)
            step += 1
            running.add_(losses, alpha=len(idx[0]))
            seen += len(idx[0])
            if record_steps:
                step_losses.append(losses.clone())
        write_back(models, params)  # measured by train.reconstruction_error, as train.run measures
        last = epoch == epochs or monitor_images is None
        for model, hist, run_loss in zip(models, histories, running.tolist()):
            hist["epoch"].append(epoch)
            hist["train_error"].append(run_loss / seen)
            model.to(dev)
            hist["test_error"].append(
                train.reconstruction_error(model, test_images if last else monitor_images, device=dev)
            )
            if val_images is not None:
                hist["val_error"].append(train.reconstruction_error(model, val_images, device=dev))
            model.to("cpu")
    seconds = time.perf_counter() - start
    per_step = torch.stack(step_losses).cpu() if record_steps and step_losses else None
    for i, hist in enumerate(histories):
        hist["train_seconds"] = seconds
        hist["graph_replays"] = train_step.replays
        if per_step is not None:
            hist["step_loss"] = per_step[:, i].tolist()
    del train_step
    return histories
