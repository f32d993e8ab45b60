"""Experiment 2's and 3's measures (issue 21): the calibrated reference classifier, the endpoint
mass and entropy relative to a model's own ends, |log| sharpness, image pairs per seed, the
participation ratio; and the shared data seed that makes replicates exchangeable."""
from __future__ import annotations

import ast
import json
import math

import numpy as np
import pytest
import torch

from aestudy import config
from aestudy.experiments.correlate import run as correlation
from aestudy.science import data
from aestudy.experiments.interpolate import run as interpolation
from aestudy.experiments.reference import run as reference
from aestudy.science.models import AEConfig, AutoEncoder
from aestudy.study import STAGES


# ------------------------------------------------------------------ experiment 3

def test_participation_ratio_is_d_for_even_variance_and_one_for_a_single_direction():
    assert correlation.participation_ratio(np.eye(7)) == pytest.approx(7)
    v = np.arange(1.0, 6.0)
    assert correlation.participation_ratio(np.outer(v, v)) == pytest.approx(1)          # rank one
    assert correlation.participation_ratio(np.diag([1.0, 1.0, 0.0, 0.0])) == pytest.approx(2)
    assert math.isnan(correlation.participation_ratio(np.zeros((3, 3))))


def test_remixing_the_code_keeps_its_rank_but_raises_the_correlations():
    """The loss cannot see an invertible remixing z -> Az; the correlations between coordinates
    change with it, the number of directions the code really uses (its effective rank) does not
    grow: three independent directions spread over six coordinates."""
    g = np.random.default_rng(0)
    z = g.normal(size=(4000, 3)) * [3.0, 2.0, 1.0]
    spread = z @ g.normal(size=(3, 6))                        # six coordinates, three directions
    own, mixed = correlation.latent_correlation(z), correlation.latent_correlation(spread)
    assert own["offdiag"] < 0.05 < 0.3 < mixed["offdiag"]
    assert mixed["participation_ratio"] <= 3.0 + 1e-9 and own["participation_ratio"] == pytest.approx(
        (9 + 4 + 1) ** 2 / (81 + 16 + 1), rel=0.1)
    # the correlation matrix's ratio is d^2 / (d + sum of squared off-diagonal correlations)
    r = mixed["matrix"]
    assert mixed["participation_ratio_corr"] == pytest.approx(36 / (6 + (r ** 2).sum() - 6))


# ------------------------------------------------------------------ experiment 2

def test_sharpness_counts_artefacts_above_the_real_digit_like_blur_below():
    sharp = np.array([[2.0, 1.0, 0.5], [0.5, 1.0, 2.0]])      # ends: 2 and 0.5 in each pair
    m = interpolation.end_measures(sharp)
    assert m["end_sharpness_error"] == pytest.approx(math.log(2))
    assert m["end_sharpness_capped"] == pytest.approx(0.75)
    assert m["end_sharpness"] == pytest.approx(1.25)          # the raw ratio rewards the ringing
    assert interpolation.end_measures(np.ones((3, 4)))["end_sharpness_error"] == 0.0


def test_digit_measures_are_relative_to_the_models_own_ends():
    probs = np.full((2, 3, 10), 0.0)
    probs[:, 0, 1], probs[:, 0, 0] = 0.8, 0.2                  # a = 0: 0.8 on digit 1
    probs[:, 1, 1], probs[:, 1, 5], probs[:, 1, 7] = 0.2, 0.2, 0.6   # a = 0.5: 0.4 on the pair
    probs[:, 2, 5], probs[:, 2, 0] = 0.6, 0.4                  # a = 1: 0.6 on digit 5
    entropy = np.array([[0.5, 1.5, 0.7], [0.5, 1.5, 0.7]])
    m = interpolation.digit_measures(probs, entropy, 1, 5, mid=1)
    assert m["mid_pair_mass"] == pytest.approx(0.4) and m["end_pair_mass"] == pytest.approx(0.7)
    assert m["mid_pair_mass_rel"] == pytest.approx(0.4 / 0.7)
    assert m["mid_entropy_excess"] == pytest.approx(1.5 - 0.6)


def test_image_pairs_are_drawn_per_seed_and_shared_by_the_models_of_a_seed():
    assert interpolation.pair_seed(0, None) == 0
    seeds = {interpolation.pair_seed(0, s) for s in range(5)}
    assert len(seeds) == 5 and interpolation.pair_seed(0, 3) == interpolation.pair_seed(0, 3)
    torch.manual_seed(0)
    labels = torch.arange(10).repeat(30)
    test = data.Split(torch.rand(len(labels), 1, 28, 28), labels)
    models = []
    for seed in (0, 1):
        for d in (3, 4):
            torch.manual_seed(seed)
            models.append(({"latent_dim": d, "num_conv": 1, "seed": seed},
                           AutoEncoder(AEConfig(latent_dim=d, num_conv=1, c_factor=2, fc_hidden=8))))
    clf = reference.ReferenceCNN(4, 8)
    out = interpolation.run(models, test, test.images[:20].numpy(), [(1, 5)], 3, 0,
                                            classifier=clf, pairs_per_digit_pair=4)
    recs = out["metrics"]["records"]
    by_seed = {}
    for r in recs:
        by_seed.setdefault(r["seed"], set()).add((r["pair_seed"], r["index_a"], r["index_b"]))
    assert all(len(v) == 1 for v in by_seed.values()) and by_seed[0] != by_seed[1]
    assert all(0 < r["mid_pair_mass"] < 1 and r["mid_pair_mass_rel"] > 0 for r in recs)
    assert [row["label"] for row in out["pairs"][0]["rows"]] == ["d=3, num_conv=1, seed=0", "d=4, num_conv=1, seed=0"]


def _toy_digits(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat(n // 10)
    x = torch.rand(len(y), 1, 28, 28, generator=g) * 0.3
    for i, c in enumerate(y.tolist()):
        x[i, 0, 2 * c:2 * c + 6, 4:20] += 0.7
    return x, y


def test_temperature_scaling_lowers_the_held_out_nll_and_keeps_the_classes():
    x, y = _toy_digits(400, 0)
    model, _ = reference.run(x[:300], y[:300], epochs=3, batch_size=32, lr=3e-3, seed=0,
                                         channels=4, hidden=16, device="cpu")
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


# ------------------------------------------------------------------ exchangeable replicates

def _load_split_calls(stage: str):
    nb = json.loads((config.NOTEBOOKS / f"{stage}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or "parameters" in cell["metadata"].get("tags", []):
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("load_split", "sample_images"):
                yield node


@pytest.mark.parametrize("stage", [s for s, st in STAGES.items() if st.reads_data])
def test_every_stage_draws_its_images_with_the_shared_data_seed(stage):
    """A model's seed never chooses images: every subset of a split is drawn by `data_seed`, the
    same for every model seed and every stage (correlate then picks its images among them)."""
    calls = list(_load_split_calls(stage))
    assert calls, f"{stage} loads no split"
    for call in calls:
        seed = [k.value for k in call.keywords if k.arg == "seed"] or call.args[2:3]
        names = {n.id for n in ast.walk(seed[0]) if isinstance(n, ast.Name)} if seed else set()
        if call.func.attr == "sample_images":         # picks among the shared images, never by the model's seed
            assert names in ({"data_seed"}, {"image_seed"}), f"{stage}: {ast.unparse(call)}"
        else:
            assert names == {"data_seed"}, f"{stage}: {ast.unparse(call)}"
