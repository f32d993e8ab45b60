"""lib.data: loading through torchvision, seeded subsets, labelled subsets, checksums."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torchvision.datasets as tvd

from aestudy.science import data
from conftest import FAKE_TEST, FAKE_TRAIN, fake_split

REPO_ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- loading


def test_load_fake_files(fake_mnist):
    train = data.load_split("mnist", train=True, data_dir=fake_mnist)
    test = data.load_split("mnist", train=False, data_dir=fake_mnist)
    for split, n, seed in ((train, FAKE_TRAIN, 1), (test, FAKE_TEST, 2)):
        assert len(split) == n
        assert split.images.shape == (n, 1, 28, 28)
        assert split.images.dtype == torch.float32
        assert split.labels.dtype == torch.int64
        assert split.images.min() >= 0 and split.images.max() <= 1
        images, labels = fake_split(n, seed)
        assert torch.equal(split.labels, torch.from_numpy(labels.astype(np.int64)))
        assert torch.equal(split.images[:, 0], torch.from_numpy(images).float() / 255)
        assert set(split.labels.tolist()) == set(range(10))


def test_a_runs_split_is_the_one_its_data_section_names_drawn_by_its_data_seed(fake_mnist):
    p = {"dataset": "mnist", "data_dir": fake_mnist, "train_size": 7, "test_size": 5, "data_seed": 3}
    for train, limit in ((True, 7), (False, 5)):
        got = data.split_of(p, train=train)
        want = data.load_split("mnist", train=train, data_dir=fake_mnist, limit=limit, seed=3)
        assert torch.equal(got.images, want.images) and torch.equal(got.labels, want.labels)
    other = data.split_of({**p, "data_seed": 4})
    assert not torch.equal(other.labels, data.split_of(p).labels) or not torch.equal(
        other.images, data.split_of(p).images
    )


def test_limit_gives_seeded_subset(fake_mnist):
    full = data.load_split("mnist", train=True, data_dir=fake_mnist)
    a = data.load_split("mnist", train=True, data_dir=fake_mnist, limit=30, seed=0)
    b = data.load_split("mnist", train=True, data_dir=fake_mnist, limit=30, seed=0)
    c = data.load_split("mnist", train=True, data_dir=fake_mnist, limit=30, seed=1)
    assert len(a) == 30 and a.images.shape == (30, 1, 28, 28)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)
    # the subset is made of images of the split, with their own labels
    flat = full.images.flatten(1)
    for img, label in zip(a.images, a.labels):
        i = int((flat == img.flatten()).all(1).nonzero()[0])
        assert full.labels[i] == label
    # a limit at or above the split size keeps everything
    assert len(data.load_split("mnist", train=True, data_dir=fake_mnist, limit=10_000)) == FAKE_TRAIN


def test_data_dir_env_var_wins_over_parameter(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert data.resolve_data_dir("somewhere/else") == tmp_path
    monkeypatch.delenv("DATA_DIR")
    assert data.resolve_data_dir(tmp_path) == tmp_path
    assert data.resolve_data_dir(None) == REPO_ROOT / "data"


def test_relative_paths_resolve_from_project_root(monkeypatch, tmp_path):
    monkeypatch.delenv("DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # not the project root: must not matter
    assert data.resolve_data_dir("my_data") == REPO_ROOT / "my_data"
    assert data.resolve_data_dir("../shared/data") == (REPO_ROOT / "../shared/data").resolve()
    monkeypatch.setenv("DATA_DIR", "rel/from/env")
    assert data.resolve_data_dir("ignored") == REPO_ROOT / "rel" / "from" / "env"


@pytest.fixture
def offline(monkeypatch):
    """Downloads fail at once, without touching the network."""
    calls = []

    def no_download(self):
        calls.append(self)
        raise URLError("network disabled in tests")

    monkeypatch.setattr(tvd.MNIST, "download", no_download)
    monkeypatch.setattr(tvd.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    return calls


@pytest.mark.parametrize("download", [True, False])
def test_missing_dataset_raises_data_not_found(offline, monkeypatch, tmp_path, download):
    empty = tmp_path / "no_data_here"
    monkeypatch.setenv("DATA_DIR", str(empty))
    with pytest.raises(data.DataNotFoundError) as info:
        data.load_split("mnist", train=True, download=download)
    msg = str(info.value)
    assert str(empty / "MNIST" / "raw") in msg  # names the directory
    assert "DATA_DIR" in msg and "idx files" in msg  # and how to provide the files
    assert bool(offline) == download  # the download was attempted only when allowed


def test_ensure_dataset_raises_data_not_found(offline, monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "nothing"))
    with pytest.raises(data.DataNotFoundError, match=re.escape(str(tmp_path / "nothing"))):
        data.ensure_dataset("mnist")


def test_unknown_dataset_is_rejected(fake_mnist):
    with pytest.raises(ValueError, match="dataset must be one of"):
        data.load_split("cifar", data_dir=fake_mnist)


# ---------------------------------------------------------------- labelled subsets

LABELS = torch.arange(1000) % 10  # 100 per class


def test_labelled_subset_balanced_by_default():
    idx = data.labelled_subset(LABELS, 100, seed=0)
    assert len(idx) == 100 and len(set(idx.tolist())) == 100
    counts = torch.bincount(LABELS[idx], minlength=10)
    assert counts.tolist() == [10] * 10


def test_labelled_subset_uneven_n_still_holds_every_label():
    idx = data.labelled_subset(LABELS, 23, seed=0)
    counts = torch.bincount(LABELS[idx], minlength=10)
    assert len(idx) == 23 and counts.min() >= 2 and counts.max() <= 3


def test_labelled_subset_seeded():
    a = data.labelled_subset(LABELS, 100, seed=0)
    assert torch.equal(a, data.labelled_subset(LABELS, 100, seed=0))
    assert not torch.equal(a, data.labelled_subset(LABELS, 100, seed=1))


def test_labelled_subset_unbalanced_has_all_labels():
    # a skewed label set: rare classes make a plain random draw miss some labels
    labels = torch.cat([torch.zeros(900, dtype=torch.long), torch.arange(1, 10).repeat_interleave(3)])
    for seed in range(5):
        idx = data.labelled_subset(labels, 40, seed=seed, balanced=False)
        assert len(idx) == 40 and len(set(idx.tolist())) == 40
        assert set(labels[idx].tolist()) == set(range(10))
    a = data.labelled_subset(LABELS, 100, seed=0, balanced=False)
    assert torch.equal(a, data.labelled_subset(LABELS, 100, seed=0, balanced=False))
    assert not torch.equal(a, data.labelled_subset(LABELS, 100, seed=1, balanced=False))
    assert torch.bincount(LABELS[a], minlength=10).min() >= 1


@pytest.mark.parametrize("seed", range(4))
def test_labelled_subset_unbalanced_n_equal_num_classes(seed):
    # n = 10 is allowed (n_labels >= 10): a uniform draw covers all classes only 0.04 % of
    # the time, so a pure rejection sampler fails; one of each class is still required
    idx = data.labelled_subset(LABELS, 10, seed=seed, balanced=False)
    assert sorted(LABELS[idx].tolist()) == list(range(10))
    assert torch.equal(idx, data.labelled_subset(LABELS, 10, seed=seed, balanced=False))


def test_labelled_subset_unbalanced_missing_class_raises():
    with pytest.raises(ValueError, match="all 10 classes"):
        data.labelled_subset(LABELS[LABELS != 3], 50, seed=0, balanced=False)


@pytest.mark.parametrize("n", [0, 5, 9])
def test_labelled_subset_needs_one_per_class(n):
    with pytest.raises(ValueError, match="n_labels"):
        data.labelled_subset(LABELS, n, seed=0)


def test_labelled_subset_class_too_small():
    labels = torch.cat([torch.zeros(5, dtype=torch.long), torch.arange(1, 10).repeat(20)])
    with pytest.raises(ValueError, match="class 0"):
        data.labelled_subset(labels, 100, seed=0)


# ---------------------------------------------------------------- checksums


def test_checksum_changes_when_a_raw_file_changes(fake_mnist):
    before = data.checksum("mnist", fake_mnist)
    assert re.fullmatch(r"[0-9a-f]{64}", before)
    assert data.checksum("mnist", fake_mnist) == before
    f = fake_mnist / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    blob = bytearray(f.read_bytes())
    blob[-1] = (blob[-1] + 1) % 10
    f.write_bytes(bytes(blob))
    after = data.checksum("mnist", fake_mnist)
    assert after != before
    per_file = data.file_checksums("mnist", fake_mnist)
    assert per_file[f.name] == hashlib.sha256(bytes(blob)).hexdigest()
    assert sorted(per_file) == sorted(p.name for p in f.parent.iterdir())


def test_checksum_of_absent_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert data.checksum("mnist") == "absent"


def test_the_idx_reader_gives_torchvisions_tensors_without_importing_it(fake_mnist):
    """Read here where the files are extracted (importing torchvision.datasets took 4.6 s of every
    kernel's start); byte for byte what torchvision's own reader gives."""
    import subprocess
    import sys

    folder = fake_mnist / "MNIST" / "raw"
    for train in (True, False):
        ds = tvd.MNIST(str(fake_mnist), train=train, download=False)
        ours = data._read_split(folder, train)
        assert torch.equal(ours.images, ds.data.unsqueeze(1).float() / 255)
        assert torch.equal(ours.labels, ds.targets) and ours.labels.dtype == torch.int64
    code = (
        "import sys; from aestudy.science import data; "
        f"data.load_split('mnist', True, {str(fake_mnist)!r}, False); print('torchvision' in sys.modules)"
    )
    lib = str(Path(data.__file__).parents[2])
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": lib}
    )
    assert out.stdout.strip() == "False", out.stderr


def test_a_truncated_idx_file_is_named(fake_mnist):
    path = fake_mnist / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(
        data.CorruptArtifact, match=r"t10k-images-idx3-ubyte: .* values for a shape of \(50, 28, 28\)"
    ):
        data.read_idx(path)


# ---------------------------------------------------------------- the real MNIST copy


def test_real_mnist_shapes(mnist_dir):
    train = data.load_split("mnist", train=True, data_dir=mnist_dir, download=False)
    test = data.load_split("mnist", train=False, data_dir=mnist_dir, download=False)
    assert train.images.shape == (60000, 1, 28, 28) and train.labels.shape == (60000,)
    assert test.images.shape == (10000, 1, 28, 28) and test.labels.shape == (10000,)
    assert test.images.dtype == torch.float32
    assert 0 <= float(test.images.min()) and float(test.images.max()) <= 1
    assert torch.bincount(test.labels, minlength=10).min() > 800


def test_real_mnist_test_labels_checksum(mnist_dir):
    readme = Path(os.environ["DATA_DIR"]) / "README.md"
    expected = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
    if readme.is_file():
        row = next(l for l in readme.read_text().splitlines() if l.startswith("| t10k-labels-idx1-ubyte"))
        assert expected in row  # the README's value is the one this test checks
    digest = data.file_checksums("mnist", mnist_dir)["t10k-labels-idx1-ubyte"]
    assert digest == expected
