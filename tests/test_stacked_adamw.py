"""science.stacked_adamw: each slice of stacked weights follows its own torch AdamW, bit for bit on
the CPU."""

from __future__ import annotations

import pytest
import torch

from aestudy.science.stacked_adamw import StackedAdamW

LRS, DECAYS = [1e-3, 3e-3, 1e-2], [0.0, 1e-4, 1e-1]


def _problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(3, 5, 4, generator=g)  # 3 models' weights, stacked
    b = torch.randn(3, 4, generator=g)
    x, y = torch.randn(3, 16, 5, generator=g), torch.randn(3, 16, 4, generator=g)
    return w, b, x, y


def _loss(w, b, x, y):
    return ((x @ w + b[:, None] - y) ** 2).mean((1, 2))  # one loss per model


@pytest.mark.parametrize("schedule", [False, True])
def test_each_model_follows_torch_adamw_with_its_own_rate_and_decay(schedule):
    w, b, x, y = _problem()
    stacked = [w.clone().requires_grad_(), b.clone().requires_grad_()]
    opt = StackedAdamW(stacked, LRS, DECAYS)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.9**k) if schedule else None
    alone = [[w[i].clone().requires_grad_(), b[i].clone().requires_grad_()] for i in range(3)]
    opts = [torch.optim.AdamW(p, lr=lr, weight_decay=wd) for p, lr, wd in zip(alone, LRS, DECAYS)]
    scheds = [torch.optim.lr_scheduler.LambdaLR(o, lambda k: 0.9**k) for o in opts] if schedule else []
    for _ in range(25):
        opt.zero_grad()
        _loss(*stacked, x, y).sum().backward()  # each model's gradient is its own loss's
        opt.step()
        for i, (p, o) in enumerate(zip(alone, opts)):
            o.zero_grad()
            _loss(p[0][None], p[1][None], x[i : i + 1], y[i : i + 1]).sum().backward()
            o.step()
        for s in [sched, *scheds] if schedule else []:
            s.step()
    for i, p in enumerate(alone):
        assert torch.equal(stacked[0][i], p[0]) and torch.equal(stacked[1][i], p[1])  # bit for bit
    assert not torch.allclose(stacked[0][0], w[0])  # it did train
    assert not torch.allclose(stacked[0][0] - w[0], stacked[0][2] - w[2])  # at different rates


def test_weights_that_are_not_stacked_over_the_models_are_refused():
    w, b, _, _ = _problem()
    with pytest.raises(ValueError, match="not stacked over 2 models"):
        StackedAdamW([w.requires_grad_()], [1e-3, 1e-3], [0.0, 0.0])
    with pytest.raises(ValueError, match="3 learning rates but 2 weight decays"):
        StackedAdamW([w.requires_grad_()], LRS, [0.0, 0.0])


def test_models_with_one_rate_and_decay_keep_torchs_adamw_and_others_get_the_stacked_one():
    """The draws and folds of one recipe keep torch's AdamW (its multi-tensor kernels, as measured
    on the GPU); only a search's candidates, whose rates or decays differ, need StackedAdamW."""
    from aestudy.science.stacked_adamw import adamw

    w, b, _, _ = _problem()
    heads, encs = {"params": [w.requires_grad_()], "model_lr": [1e-3] * 3}, {"params": [b.requires_grad_()]}
    same = adamw([heads, {**encs, "model_lr": [3e-4] * 3}], [0.0] * 3, capturable=True)
    assert type(same) is torch.optim.AdamW and same.defaults["capturable"]
    assert [g["lr"] for g in same.param_groups] == [1e-3, 3e-4]
    assert isinstance(
        adamw([heads, {**encs, "model_lr": [3e-4, 1e-4, 3e-4]}], [0.0] * 3, False), StackedAdamW
    )
    assert isinstance(adamw([heads], [0.0, 1e-2, 0.0], False), StackedAdamW)
