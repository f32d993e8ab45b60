"""Datasets in memory: a whole split loaded once as a float tensor in [0, 1].

Training slices batches out of these tensors (no per-image PIL transform), which is what
makes the training loop fast. The idx files are read here when they are on disk (`read_idx`: a
few lines of numpy): importing `torchvision.datasets` pulls in torchvision's models and
torch._dynamo, 4.6 s of every kernel's start on this project's CPU for files read in 0.1 s.
Where they are absent, `torchvision.datasets` downloads them on first use (and then reads them
the same way: tests/test_data.py pins the two readers to the same tensors); offline, point
`DATA_DIR` (or `data_dir`) at a copy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..datafiles import DEFAULT_DATA_DIR, RAW_FILES, checksum, file_checksums, raw_folder, resolve_data_dir  # noqa: F401 (the files, torch-free)
from ..errors import BadInput
from ..files import CorruptArtifact
from .names import DATASETS


class DataNotFoundError(BadInput, RuntimeError):
    """The dataset files are absent and could not be downloaded."""


@dataclass
class Split:
    images: torch.Tensor  # (N, 1, 28, 28) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: torch.Tensor) -> Split:
        return Split(self.images[index], self.labels[index])

    def to(self, device) -> Split:
        return Split(self.images.to(device), self.labels.to(device))


def _dataset_class(dataset: str):
    import torchvision.datasets as tvd

    return getattr(tvd, DATASETS[dataset])  # a known name: `_load` checked it


IDX_TYPES = {0x08: np.uint8}  # the idx type codes MNIST and Fashion-MNIST use (unsigned bytes)


def read_idx(path: Path) -> torch.Tensor:
    """One idx file: two zero bytes, a type code, the number of dimensions, each dimension's size
    as a big-endian int32, then the values (yann.lecun.com/exdb/mnist's format)."""
    raw = Path(path).read_bytes()
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in IDX_TYPES:
        raise CorruptArtifact(f"{path}: not an idx file of unsigned bytes")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    values = np.frombuffer(raw, dtype=IDX_TYPES[raw[2]], offset=4 + 4 * ndim)
    if values.size != math.prod(shape):
        raise CorruptArtifact(f"{path}: {values.size:,} values for a shape of {shape} (truncated?)")
    return torch.from_numpy(values.reshape(shape).copy())


def _read_split(folder: Path, train: bool) -> Split | None:
    """The split from the extracted idx files in `folder` (None if any is missing)."""
    images, labels = (folder / name for name in (RAW_FILES[:2] if train else RAW_FILES[2:]))
    if not (images.is_file() and labels.is_file()):
        return None
    return _as_split(read_idx(images), read_idx(labels))


def _as_split(images: torch.Tensor, labels: torch.Tensor) -> Split:
    return Split(
        images.unsqueeze(1).to(torch.float32).div_(255.0).contiguous(), labels.to(torch.int64).clone()
    )


@lru_cache(maxsize=8)
def _load(dataset: str, root: str, train: bool, download: bool) -> Split:
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    found = _read_split(Path(root) / DATASETS[dataset] / "raw", train)
    if found is not None:
        return found
    cls = _dataset_class(dataset)
    try:
        ds = cls(root, train=train, download=download)
    except Exception as exc:  # RuntimeError when absent, URLError/OSError when offline
        raise DataNotFoundError(
            f"{DATASETS[dataset]} not found in {Path(root, DATASETS[dataset], 'raw').resolve()} and "
            f"the download failed ({type(exc).__name__}); put the four idx files there (see "
            f"torchvision.datasets.{DATASETS[dataset]}) or set DATA_DIR to a folder that holds "
            f"{DATASETS[dataset]}/raw/"
        ) from None
    return _as_split(ds.data, ds.targets)


def load_split(
    dataset: str = "mnist",
    train: bool = True,
    data_dir=None,
    download: bool = True,
    limit: int | None = None,
    seed: int = 0,
) -> Split:
    """Load a split into memory; `limit` keeps a seeded random subset of that many images."""
    split = _load(dataset, str(resolve_data_dir(data_dir)), train, download)
    if limit is not None and limit < len(split):
        g = torch.Generator().manual_seed(seed)
        split = split.subset(torch.randperm(len(split), generator=g)[:limit].sort().values)
    return split


def split_of(params, train: bool = True) -> Split:
    """The split a run's `data` section names (`dataset`, `data_dir`, `train_size` or `test_size`,
    `data_seed`): every stage that reads a split whole loads it so, and so draws the same images."""
    return load_split(
        params["dataset"],
        train=train,
        data_dir=params["data_dir"],
        limit=params["train_size" if train else "test_size"],
        seed=params["data_seed"],
    )


def load_train_val(
    dataset: str = "mnist",
    data_dir=None,
    download: bool = True,
    limit: int | None = None,
    val_size: int = 0,
    seed: int = 0,
) -> tuple[Split, Split]:
    """The training subset `load_split(limit=limit, seed=seed)` draws, and `val_size` held-out
    training images outside it (the next ones of the same seeded permutation): a validation split
    for choices made during training, so the test set decides nothing. With `limit` None (or too
    large to leave `val_size` aside), training keeps every image but the validation ones; a split
    smaller than twice `val_size` gives at most half of its images to validation."""
    split = _load(dataset, str(resolve_data_dir(data_dir)), train=True, download=download)
    if val_size <= 0:
        return load_split(dataset, True, data_dir, download, limit, seed), Split(
            split.images[:0], split.labels[:0]
        )
    val_size = min(val_size, len(split) // 2)  # a small split (test data) keeps at least half for training
    n_train = min(limit or len(split), len(split) - val_size)
    perm = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))
    return (
        split.subset(perm[:n_train].sort().values),
        split.subset(perm[n_train : n_train + val_size].sort().values),
    )


def labelled_subset(
    labels: torch.Tensor, n: int, seed: int, balanced: bool = True, num_classes: int = 10
) -> torch.Tensor:
    """Indices of `n` labelled examples that contain every class, the same for the same seed.

    balanced: n // num_classes per class (the rest spread over the first classes);
    otherwise n random examples, redrawn (deterministically) until every class appears.
    """
    if n < num_classes:
        raise ValueError(f"n_labels must be >= {num_classes} (one per class), got {n}")
    g = torch.Generator().manual_seed(seed)
    if balanced:
        per_class = [n // num_classes + (1 if c < n % num_classes else 0) for c in range(num_classes)]
        picks = []
        for c, k in enumerate(per_class):
            idx = (labels == c).nonzero().flatten()
            if len(idx) < k:
                raise ValueError(f"class {c} has only {len(idx)} examples, {k} requested")
            picks.append(idx[torch.randperm(len(idx), generator=g)[:k]])
        return torch.cat(picks).sort().values
    for _ in range(1000):
        idx = torch.randperm(len(labels), generator=g)[:n]
        if len(labels[idx].unique()) == num_classes:
            return idx.sort().values
    # n close to num_classes (or rare classes) makes a covering draw unlikely: one random
    # example of each class, the rest drawn at random from the others
    perm = torch.randperm(len(labels), generator=g)
    firsts = [perm[labels[perm] == c][:1] for c in range(num_classes)]
    if len(labels) < n or any(len(f) == 0 for f in firsts):
        raise ValueError(f"could not draw {n} examples containing all {num_classes} classes")
    one_each = torch.cat(firsts)
    rest = perm[~torch.isin(perm, one_each)][: n - num_classes]
    return torch.cat([one_each, rest]).sort().values


def ensure_dataset(dataset: str = "mnist", data_dir=None) -> Path:
    """Make sure both splits are on disk (downloading when possible) before any run starts."""
    for train in (True, False):
        _load(dataset, str(resolve_data_dir(data_dir)), train, True)
    return raw_folder(dataset, data_dir)


def fingerprint(dataset: str = "mnist", data_dir=None) -> str:
    """The dataset's checksum, downloading it first when its raw files are missing (a cheap
    file check first: loading both splits to make sure takes about 2 s)."""
    raw = raw_folder(dataset, data_dir)
    if not all((raw / f).is_file() for f in RAW_FILES):
        ensure_dataset(dataset, data_dir)
    return checksum(dataset, data_dir)


def sample_images(images, n: int, seed: int):
    """`n` images drawn without replacement by `seed` (all of them, in order, when n >= len)."""
    if n >= len(images):
        return images
    g = torch.Generator().manual_seed(seed)
    return images[torch.randperm(len(images), generator=g)[:n].sort().values]
