"""Experiment 1's linear yardsticks (experiments.autoencode.baselines) and the validation split they are judged beside."""

from __future__ import annotations

import pytest
import torch

from aestudy.experiments.autoencode import baselines
from aestudy.science import data


def test_pca_with_every_component_reconstructs_exactly_and_d_zero_is_the_mean_image():
    g = torch.Generator().manual_seed(0)
    train = torch.rand(200, 1, 4, 4, generator=g)
    test = torch.rand(50, 1, 4, 4, generator=g)
    assert baselines.pca_error(train, test, 16) == pytest.approx(0.0, abs=1e-12)
    assert baselines.pca_error(train, test, 0) == pytest.approx(baselines.mean_image_error(train, test))


def test_pca_error_falls_with_d_and_matches_the_discarded_variance_on_its_training_images():
    g = torch.Generator().manual_seed(1)
    train = torch.randn(500, 1, 3, 3, generator=g) * torch.linspace(0.1, 2.0, 9).reshape(1, 1, 3, 3)
    errors = [baselines.pca_error(train, train, d) for d in range(10)]
    assert all(a >= b for a, b in zip(errors, errors[1:]))
    x = train.reshape(500, -1).double()
    eig = torch.linalg.eigvalsh(torch.cov(x.T, correction=0))  # ascending
    for d in (2, 5):
        assert errors[d] == pytest.approx(float(eig[: 9 - d].sum()) / 9, rel=1e-9)


def test_validation_images_are_training_images_outside_the_training_subset(mnist_dir):
    train, val = data.load_train_val("mnist", data_dir=mnist_dir, limit=1000, val_size=300, seed=0)
    same = data.load_split("mnist", True, data_dir=mnist_dir, limit=1000, seed=0)
    assert torch.equal(train.images, same.images) and len(val) == 300
    flat_train, flat_val = train.images.reshape(1000, -1), val.images.reshape(300, -1)
    assert not (torch.cdist(flat_val, flat_train).min(dim=1).values == 0).any()


def test_a_small_training_split_gives_at_most_half_to_validation(fake_mnist):
    train, val = data.load_train_val("mnist", data_dir=fake_mnist, limit=None, val_size=1000, seed=0)
    assert len(val) == len(train) == 100
    train, val = data.load_train_val("mnist", data_dir=fake_mnist, limit=150, val_size=30, seed=0)
    assert (len(train), len(val)) == (150, 30)
