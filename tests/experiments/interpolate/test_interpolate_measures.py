"""Experiment 2's measures: the interpolation helpers (latents, nearest distance, image picks), the
Tenengrad sharpness as |ln ratio|, the endpoint mass and entropy relative to a model's own ends, and
image pairs per seed; on hand-made inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from aestudy.experiments.interpolate import run as interpolation
from aestudy.experiments.reference import run as reference
from aestudy.science import data
from aestudy.science.models import AEConfig, AutoEncoder

# ------------------------------------------------------------------ interpolation helpers


def test_interpolate_latents_ends_are_exact_and_linear():
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(7, generator=g), torch.randn(7, generator=g)
    zs = interpolation.interpolate_latents(z1, z2, 11)
    assert zs.shape == (11, 7)
    assert torch.equal(zs[0], z1) and torch.equal(zs[-1], z2)
    torch.testing.assert_close(zs[5], (z1 + z2) / 2)
    with pytest.raises(ValueError):
        interpolation.interpolate_latents(z1, z2, 1)


def test_nearest_distance_matches_brute_force():
    rng = np.random.default_rng(1)
    x, ref = rng.random((5, 1, 4, 4)), rng.random((30, 1, 4, 4))
    brute = np.array([((ref.reshape(30, -1) - xi.reshape(-1)) ** 2).mean(1).min() for xi in x])
    np.testing.assert_allclose(interpolation.nearest_distance(x, ref, chunk=2), brute, rtol=1e-10, atol=1e-12)
    assert interpolation.nearest_distance(ref[:3], ref).max() == pytest.approx(0.0, abs=1e-12)


def test_pick_image_is_seeded_and_has_the_digit():
    labels = torch.tensor([3, 1, 3, 5, 3, 1])
    i = interpolation.pick_image(labels, 3, seed=4)
    assert labels[i] == 3 and i == interpolation.pick_image(labels, 3, seed=4)
    assert {interpolation.pick_image(labels, 3, s) for s in range(20)} == {0, 2, 4}
    with pytest.raises(ValueError):
        interpolation.pick_image(labels, 7, 0)


def test_pick_images_extend_the_figure_image_and_pair_up():
    labels = torch.tensor([3, 1, 3, 5, 3, 1, 5, 5, 3])
    first = interpolation.pick_image(labels, 3, seed=2)
    three = interpolation.pick_images(labels, 3, seed=2, n=3)
    assert three[0] == first and len(set(three)) == 3 and all(labels[i] == 3 for i in three)
    assert interpolation.pick_images(labels, 3, seed=2, n=10)[:3] == three  # more images: the same first ones
    pairs = interpolation.image_pairs(labels, 3, 5, seed=2, n=5)
    assert len(pairs) == 3  # only three 5s
    assert pairs[0] == (first, interpolation.pick_image(labels, 5, seed=2))  # the figure's pair comes first
    same = interpolation.image_pairs(labels, 3, 3, seed=2, n=2)
    assert len(same) == 2 and all(i != j for i, j in same)


def _blur(x: np.ndarray) -> np.ndarray:
    """3x3 box blur (edges replicated)."""
    p = np.pad(x, 1, mode="edge")
    return sum(p[i : i + x.shape[0], j : j + x.shape[1]] for i in range(3) for j in range(3)) / 9


def test_tenengrad_by_hand_constant_blur_and_scale():
    step = np.zeros((28, 28))
    step[:, 14:] = 1.0
    # Sobel x at the two columns beside the edge: (1 + 2 + 1) * 1 = 4, so 16 on 2 of the 26 interior
    # columns, every interior row; Sobel y is 0
    assert interpolation.tenengrad(step) == pytest.approx(16 * 2 / 26)
    assert interpolation.tenengrad(step.T) == pytest.approx(16 * 2 / 26)
    assert interpolation.tenengrad(np.full((28, 28), 0.7)) == pytest.approx(
        0.0, abs=1e-24
    )  # 0 up to rounding
    digit = np.zeros((28, 28))
    digit[6:22, 12:16] = 1.0
    digit[6:9, 8:16] = 1.0
    assert 0 < interpolation.tenengrad(_blur(digit)) < interpolation.tenengrad(digit)
    assert interpolation.tenengrad(_blur(_blur(digit))) < interpolation.tenengrad(_blur(digit))
    assert interpolation.tenengrad(2 * digit) == pytest.approx(4 * interpolation.tenengrad(digit))
    batch = np.stack([digit, _blur(digit)])[:, None]  # (2, 1, 28, 28): one value per image
    np.testing.assert_allclose(
        interpolation.tenengrad(batch),
        [[interpolation.tenengrad(digit)], [interpolation.tenengrad(_blur(digit))]],
    )


def test_sharpness_ratio_is_one_for_the_real_digits_and_below_for_blur():
    a, b = np.zeros((28, 28)), np.zeros((28, 28))
    a[6:22, 12:16], b[8:20, 6:22] = 1.0, 1.0
    steps = np.stack([a, _blur(a), _blur(b), b])[None]  # one pair, 4 values of a
    r = interpolation.sharpness_ratio(steps, a[None], b[None])
    assert r.shape == (1, 4)
    assert r[0, 0] == pytest.approx(1.0) and r[0, -1] == pytest.approx(1.0)
    assert r[0, 1] < 1 and r[0, 2] < 1
    # in between, the yardstick is interpolated: (1 - a) T(a) + a T(b)
    ta, tb = interpolation.tenengrad(a), interpolation.tenengrad(b)
    assert r[0, 1] == pytest.approx(interpolation.tenengrad(_blur(a)) / (ta * 2 / 3 + tb / 3))


# ------------------------------------------------------------------ measures relative to the model's own ends


def test_sharpness_counts_artefacts_above_the_real_digit_like_blur_below():
    sharp = np.array([[2.0, 1.0, 0.5], [0.5, 1.0, 2.0]])  # ends: 2 and 0.5 in each pair
    m = interpolation.end_measures(sharp)
    assert m["end_sharpness_error"] == pytest.approx(math.log(2))
    assert m["end_sharpness_capped"] == pytest.approx(0.75)
    assert m["end_sharpness"] == pytest.approx(1.25)  # the raw ratio rewards the ringing
    assert interpolation.end_measures(np.ones((3, 4)))["end_sharpness_error"] == 0.0


def test_digit_measures_are_relative_to_the_models_own_ends():
    probs = np.full((2, 3, 10), 0.0)
    probs[:, 0, 1], probs[:, 0, 0] = 0.8, 0.2  # a = 0: 0.8 on digit 1
    probs[:, 1, 1], probs[:, 1, 5], probs[:, 1, 7] = 0.2, 0.2, 0.6  # a = 0.5: 0.4 on the pair
    probs[:, 2, 5], probs[:, 2, 0] = 0.6, 0.4  # a = 1: 0.6 on digit 5
    entropy = np.array([[0.5, 1.5, 0.7], [0.5, 1.5, 0.7]])
    m = interpolation.digit_measures(probs, entropy, 1, 5, mid=1)
    assert m["mid_pair_mass"] == pytest.approx(0.4) and m["end_pair_mass"] == pytest.approx(0.7)
    assert m["mid_pair_mass_rel"] == pytest.approx(0.4 / 0.7)
    assert m["mid_entropy_excess"] == pytest.approx(1.5 - 0.6)


def _interpolated_by_eight_models(shared_images: bool) -> dict:
    """Two seeds x two num_conv x two d of tiny models interpolating (1, 5) on random images."""
    torch.manual_seed(0)
    labels = torch.arange(10).repeat(30)
    test = data.Split(torch.rand(len(labels), 1, 28, 28), labels)
    models = []
    for seed in (0, 1):
        for num_conv in (1, 2):
            for d in (3, 4):
                torch.manual_seed(seed)
                models.append(
                    (
                        {"latent_dim": d, "num_conv": num_conv, "seed": seed},
                        AutoEncoder(AEConfig(latent_dim=d, num_conv=num_conv, c_factor=2, fc_hidden=8)),
                    )
                )
    clf = reference.ReferenceCNN(4, 8)
    out = interpolation.run(
        models,
        test,
        test.images[:20].numpy(),
        [(1, 5)],
        3,
        0,
        classifier=clf,
        pairs_per_digit_pair=4,
        shared_images=shared_images,
    )
    return {**out, "test": test, "models": models}


def test_image_pairs_are_drawn_per_seed_and_num_conv_and_shared_by_the_model_pair_of_each():
    """With shared_images, d = 10 and d = 20 of one seed and num_conv meet on the same images; every
    other model pair (another seed, or another num_conv of the same seed) has images of its own:
    independent units."""
    assert interpolation.pair_seed(0, None) == 0
    seeds = {interpolation.pair_seed(0, s, nc) for s in range(5) for nc in (1, 2)}
    assert len(seeds) == 10 and interpolation.pair_seed(0, 3, 2) == interpolation.pair_seed(0, 3, 2)
    out = _interpolated_by_eight_models(shared_images=True)
    recs = out["metrics"]["records"]
    by_pair = {}
    for r in recs:
        by_pair.setdefault((r["seed"], r["num_conv"]), set()).add(
            (r["pair_seed"], r["index_a"], r["index_b"])
        )
    assert len(by_pair) == 4 and all(len(v) == 1 for v in by_pair.values())
    assert len({next(iter(v))[0] for v in by_pair.values()}) == 4  # each model pair its own draw
    assert all(0 < r["mid_pair_mass"] < 1 and r["mid_pair_mass_rel"] > 0 for r in recs)
    assert out["metrics"]["shared_images"] is True
    assert [row["label"] for row in out["pairs"][0]["rows"]] == [
        "d=3, num_conv=1, seed=0",
        "d=4, num_conv=1, seed=0",
    ]


def test_every_model_draws_its_own_image_pairs_and_the_figure_decodes_one_pair_with_each():
    """By default every model (seeded for its own cell) draws its own images, so each is an
    independent unit; the figure still shows the models of one seed and num_conv on one image pair:
    the first model's first, decoded by each."""
    out = _interpolated_by_eight_models(shared_images=False)
    recs, test, models = out["metrics"]["records"], out["test"], out["models"]
    assert len({r["pair_seed"] for r in recs}) == 8 and out["metrics"]["shared_images"] is False
    assert {r["pair_seed"] for r in recs} == {
        interpolation.pair_seed(0, s, nc, d) for s in (0, 1) for nc in (1, 2) for d in (3, 4)
    }
    figure, first = out["pairs"][0], recs[0]
    xa, xb = test.images[first["index_a"]], test.images[first["index_b"]]
    assert torch.equal(figure["inputs"][0], xa) and torch.equal(figure["inputs"][1], xb)
    assert [row["label"] for row in figure["rows"]] == ["d=3, num_conv=1, seed=0", "d=4, num_conv=1, seed=0"]
    second = interpolation.interpolate_pairs(models[1][1], xa[None], xb[None], 3)[0]
    assert torch.equal(figure["rows"][1]["decodes"], second)  # not its own first pair: the shown one
