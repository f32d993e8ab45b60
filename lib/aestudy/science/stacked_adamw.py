"""AdamW over stacked weights, each model with its own learning rate and weight decay.

`torch.func.stack_module_state` stacks several networks' weights along a first dimension, one
slice per model, so that one vmapped step trains them all (`batched.Stack`). `torch.optim.AdamW`
then applies one learning rate and one weight decay to every slice: enough for models trained by
one recipe (label draws, folds), not for a search whose candidates differ in those numbers. AdamW
works element by element, so giving each slice its own rate and decay is all it takes for each
model to follow its own AdamW, as if it were trained alone: on the CPU bit for bit where the
kernels agree (each per-model factor is computed in float64, as torch computes its Python floats,
and rounded once to the weights' dtype).

Every quantity lives on the weights' device and every update is in place, with no host sync, so
a step can be captured in a CUDA graph (`science.capture`), as torch's `capturable=True` allows.
The group's `lr` (1.0 unless a scheduler changes it) multiplies every model's rate, so
`torch.optim.lr_scheduler` works on it as on any optimiser.

`adamw` picks the optimiser of a stacked step: torch's AdamW (its multi-tensor kernels, which
the GPU figures of 2026-12-04 were measured with) where the models share their rates and decay,
StackedAdamW where they do not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch


class StackedAdamW(torch.optim.Optimizer):
    """AdamW (torch's arithmetic: decoupled decay, bias-corrected moments) over weights whose first
    dimension indexes the models; `lr[i]` and `weight_decay[i]` are model i's."""

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict],
        lr: Sequence[float] | torch.Tensor,
        weight_decay: Sequence[float] | torch.Tensor,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        """`params`: stacked weights, or groups of them (dicts with "params" and, where the group's
        models have other rates than `lr`, "model_lr": one per model, as torch's groups take "lr")."""
        groups = list(params)
        if not groups or not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        device = groups[0]["params"][0].device

        def per_model(values) -> torch.Tensor:
            # in float64, as torch's AdamW computes its Python floats
            return torch.as_tensor(values, dtype=torch.float64, device=device).flatten()

        self.model_decay = per_model(weight_decay)
        models = len(self.model_decay)
        for group in groups:
            group["model_lr"] = per_model(group.get("model_lr", lr))
            if len(group["model_lr"]) != models:
                raise ValueError(f"{len(group['model_lr'])} learning rates but {models} weight decays")
            for p in group["params"]:
                if p.dim() == 0 or p.shape[0] != models:
                    raise ValueError(
                        f"a weight of shape {tuple(p.shape)} is not stacked over {models} models"
                    )
        super().__init__(groups, {"lr": 1.0, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        if closure is not None:
            raise ValueError("StackedAdamW takes no closure")
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:  # (a fine-tuned encoder during the warm-up: its moments do not move)
                continue
            if "step" not in group:  # a group's weights step together: one count, one set of factors
                group["step"] = torch.zeros((), dtype=torch.float64, device=params[0].device)
            for p in params:
                if not self.state[p]:
                    self.state[p]["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    self.state[p]["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            beta1, beta2 = group["betas"]
            step = group["step"].add_(1)
            lr = group["model_lr"] * group["lr"]
            dtype = params[0].dtype
            # torch's arithmetic; each factor computed in float64, rounded once to the weights' dtype
            decay = (1 - lr * self.model_decay).to(dtype)
            step_size = (-lr / (1 - beta1**step)).to(dtype)
            bias_correction2_sqrt = (1 - beta2**step).sqrt().to(dtype)
            grads = [p.grad for p in params]
            exp_avgs = [self.state[p]["exp_avg"] for p in params]
            exp_avg_sqs = [self.state[p]["exp_avg_sq"] for p in params]
            torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
            torch._foreach_mul_(exp_avg_sqs, beta2)
            torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
            denoms = torch._foreach_sqrt(exp_avg_sqs)
            torch._foreach_div_(denoms, bias_correction2_sqrt)
            torch._foreach_add_(denoms, group["eps"])
            for p, exp_avg, denom in zip(params, exp_avgs, denoms):
                each = (-1,) + (1,) * (p.dim() - 1)  # one number per model, broadcast over its slice
                p.mul_(decay.view(each))
                p.addcdiv_(exp_avg * step_size.view(each), denom)
        return None


def adamw(groups: list[dict], weight_decay: list[float], capturable: bool) -> torch.optim.Optimizer:
    """The optimiser of stacked models: torch's AdamW where every model of each group has one rate
    and all one decay (its multi-tensor kernels; `capturable` for a CUDA graph), else StackedAdamW.
    groups: [{"params": stacked weights, "model_lr": one rate per model}]."""
    if all(len(set(g["model_lr"])) == 1 for g in groups) and len(set(weight_decay)) == 1:
        return torch.optim.AdamW(
            [{"params": g["params"], "lr": g["model_lr"][0]} for g in groups],
            weight_decay=weight_decay[0],
            **({"capturable": True} if capturable else {}),
        )
    return StackedAdamW(groups, groups[0]["model_lr"], weight_decay)
