"""A dataset's files on disk: where they are (`DATA_DIR` first), their checksum (part of every
data-reading run's key) and each file's sha256 (the report's provenance appendix). Torch-free, so
the report and the runner read them without importing torch; `aestudy.science.data` loads them."""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

from .config import PROJECT_ROOT
from .errors import BadInput
from .vocabulary import DATASETS

DEFAULT_DATA_DIR = "data"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The `DATA_DIR` environment variable wins over the parameter, which defaults to data/.
    A relative path is taken from the project root, so notebooks find it from any folder."""
    path = Path(os.environ.get("DATA_DIR") or data_dir or DEFAULT_DATA_DIR).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


def raw_folder(dataset: str, data_dir=None) -> Path:
    return resolve_data_dir(data_dir) / DATASETS[dataset] / "raw"


def checksum(dataset: str = "mnist", data_dir=None) -> str:
    """sha256 over the raw files (names and bytes): part of every run's cache key."""
    folder = raw_folder(dataset, data_dir)
    return _checksum_folder(str(folder.resolve()))


def _checksum_folder(folder: str) -> str:  # not cached: a changed file must change the key
    h = hashlib.sha256()
    files = sorted(p for p in Path(folder).glob("*") if p.is_file() and not p.name.endswith(".gz"))
    if not files:
        return "absent"
    for p in files:
        h.update(p.name.encode())
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def file_checksums(dataset: str = "mnist", data_dir=None) -> dict[str, str]:
    """sha256 of each raw file, for the report's provenance appendix."""
    out = {}
    for p in sorted(raw_folder(dataset, data_dir).glob("*")):
        if p.is_file() and not p.name.endswith(".gz"):
            out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# the files torchvision's MNIST and FashionMNIST check for in <data_dir>/<Dataset>/raw/
RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DataDamaged(BadInput, RuntimeError):
    """A dataset file is there but is not what its header says (truncated, or another file)."""


def idx_problem(path: Path) -> str:
    """What is wrong with an idx file of unsigned bytes, from its header and size alone ('' when
    nothing): two zero bytes, type 0x08, the number of dimensions, each a big-endian int32, then
    one byte per value. Cheap (a stat and 16 bytes), so the runner checks before any run."""
    with open(path, "rb") as f:
        head = f.read(4)
        if len(head) < 4 or head[:2] != b"\0\0" or head[2] != 0x08:
            return "not an idx file of unsigned bytes"
        dims = f.read(4 * head[3])
    if len(dims) < 4 * head[3]:
        return "not an idx file of unsigned bytes (its header is cut short)"
    shape = [int.from_bytes(dims[i : i + 4], "big") for i in range(0, len(dims), 4)]
    expected = 4 + len(dims) + math.prod(shape)
    size = path.stat().st_size
    if size != expected:
        return (
            f"{size:,} bytes where its header declares {' x '.join(f'{n:,}' for n in shape)} values "
            f"({expected:,} bytes): {'truncated' if size < expected else 'longer than declared'}"
        )
    return ""


def check_raw_files(dataset: str = "mnist", data_dir=None) -> None:
    """DataDamaged (one line naming the file) when a raw file present is not a whole idx file:
    every data-reading run would fail on it, each replacing a complete run by a failed one."""
    folder = raw_folder(dataset, data_dir)
    for name in RAW_FILES:
        path = folder / name
        problem = idx_problem(path) if path.is_file() else ""
        if problem:
            raise DataDamaged(
                f"{path}: {problem}; replace the file (or delete the four files of {folder}, which "
                "the next run downloads again)"
            )
