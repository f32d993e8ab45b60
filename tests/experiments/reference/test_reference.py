"""Experiment 2's reference classifier: temperature scaling, the expected calibration error by hand,
its seeded calibration split."""

from __future__ import annotations

import pytest
import torch

from aestudy.experiments.reference import run as reference


def _toy_digits(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat(n // 10)
    x = torch.rand(len(y), 1, 28, 28, generator=g) * 0.3
    for i, c in enumerate(y.tolist()):
        x[i, 0, 2 * c : 2 * c + 6, 4:20] += 0.7
    return x, y


def test_temperature_scaling_lowers_the_held_out_nll_and_keeps_the_classes():
    x, y = _toy_digits(400, 0)
    model, _ = reference.run(
        x[:300], y[:300], epochs=3, batch_size=32, lr=3e-3, seed=0, channels=4, hidden=16, device="cpu"
    )
    cal_x, cal_y = x[300:], y[300:]
    before = reference.probabilities(model, cal_x)
    t = reference.calibrate(model, cal_x, cal_y)
    after = reference.probabilities(model, cal_x)
    nll = lambda p: float(-torch.log(p[torch.arange(len(cal_y)), cal_y].clamp_min(1e-12)).mean())
    assert t > 0 and float(model.temperature) == pytest.approx(t)
    assert nll(after) <= nll(before) + 1e-9
    assert torch.equal(before.argmax(1), after.argmax(1))


def test_expected_calibration_error_by_hand():
    probs = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    labels = torch.tensor([0, 1, 0, 0])
    # bin of 0.9: accuracy 0.5, confidence 0.9 (weight 1/2); bin of 0.6: accuracy 1, confidence 0.6 (1/2)
    assert reference.expected_calibration_error(probs, labels) == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)
    assert reference.expected_calibration_error(torch.eye(3), torch.arange(3)) == 0.0


def test_calibration_split_is_disjoint_and_seeded():
    fit, cal = reference.calibration_split(100, 10, seed=3)
    assert len(cal) == 10 and len(fit) == 90 and not set(fit.tolist()) & set(cal.tolist())
    assert torch.equal(cal, reference.calibration_split(100, 10, seed=3)[1])
    with pytest.raises(ValueError, match="calibration_size"):
        reference.calibration_split(100, 100, seed=0)


def test_the_calibration_sentence_says_which_way_the_test_error_moved():
    from aestudy.experiments.reference.run import calibration_words

    down = calibration_words(0.0121, 0.0147, 1000)
    assert down == "expected calibration error on the test set 0.0121 (down from 0.0147 before calibration)"
    up = calibration_words(0.0044, 0.0024, 1000)
    assert up.startswith(
        "expected calibration error on the test set 0.0044 (up from 0.0024 before calibration: "
    )
    assert "fitted on the 1000 held-out training images did not lower it on the test set)" in up
