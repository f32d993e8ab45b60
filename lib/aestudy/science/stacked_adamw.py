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
            beta1, beta2 = group["betas"]
            lr = group["model_lr"] * group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros((), dtype=torch.float64, device=p.device)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                step, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
                step.add_(1)
                each = (-1,) + (1,) * (p.dim() - 1)  # one number per model, broadcast over its slice
                # torch's order of operations; each factor rounded once to the weights' dtype
                p.mul_((1 - lr * self.model_decay).to(p.dtype).view(each))
                exp_avg.lerp_(p.grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                step_size = (lr / (1 - beta1**step)).to(p.dtype).view(each)
                bias_correction2_sqrt = (1 - beta2**step).sqrt().to(p.dtype)
                denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(group["eps"])
                p.addcdiv_(exp_avg * -step_size, denom)
        return None
