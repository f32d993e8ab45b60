"""Shared fixtures: the real MNIST copy (skipped without it), small fake MNIST files in
torchvision's layout, and a temporary REPORTS_DIR."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

# The tests' models are tiny: one intra-op thread is faster than two on a shared 2-core machine
# (and leaves a core to the notebook kernels the slow tests start).
torch.set_num_threads(1)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def kernels_import_this_checkout():
    """A kernel a test starts itself (papermill on a notebook) imports this checkout's `aestudy`,
    as the runner's and the report's kernels do, not whichever copy the environment installed."""
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT / "lib"), saved) if p)
    yield
    if saved is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = saved


RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
FAKE_TRAIN, FAKE_TEST = 200, 50


@pytest.fixture
def mnist_dir() -> Path:
    """The folder that holds MNIST/raw/ (from DATA_DIR); skips with the reason otherwise."""
    value = os.environ.get("DATA_DIR")
    if not value:
        pytest.skip("DATA_DIR is not set (point it at a folder holding MNIST/raw/, e.g. ../shared/data)")
    root = Path(value).expanduser().resolve()
    raw = root / "MNIST" / "raw"
    missing = [f for f in RAW_FILES if not (raw / f).is_file()]
    if missing:
        pytest.skip(f"DATA_DIR={value} lacks {', '.join(missing)} in MNIST/raw/")
    return root


def write_idx_images(path: Path, images: np.ndarray) -> None:
    """idx3-ubyte: magic 0x00000803, count, rows, cols (big-endian int32), then uint8 pixels."""
    n, rows, cols = images.shape
    path.write_bytes(struct.pack(">iiii", 0x0803, n, rows, cols) + images.astype(np.uint8).tobytes())


def write_idx_labels(path: Path, labels: np.ndarray) -> None:
    """idx1-ubyte: magic 0x00000801, count (big-endian int32), then uint8 labels."""
    path.write_bytes(struct.pack(">ii", 0x0801, len(labels)) + labels.astype(np.uint8).tobytes())


def fake_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 uint8 images and labels covering all 10 digits (shuffled): a bright square whose
    position depends on the label, on faint noise, so there is something to learn."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    images = rng.integers(0, 40, size=(n, 28, 28), dtype=np.uint8)
    for i, y in enumerate(labels):
        r, c = 2 + 5 * (y // 5) * 2, 2 + 5 * (y % 5)
        images[i, r : r + 8, c : c + 6] = 255
    return images, labels


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch) -> Path:
    """A data folder with <root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte
    (uncompressed, correct idx headers): 200 train and 50 test images, all 10 labels in each.
    DATA_DIR points at it for the test (the variable wins over any data_dir parameter)."""
    root = tmp_path / "fake_data"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n, seed in (("train", FAKE_TRAIN, 1), ("t10k", FAKE_TEST, 2)):
        images, labels = fake_split(n, seed)
        write_idx_images(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx_labels(raw / f"{prefix}-labels-idx1-ubyte", labels)
    monkeypatch.setenv("DATA_DIR", str(root))
    return root


@pytest.fixture
def one_thread_kernels(monkeypatch):
    """Notebook kernels started by a test use one torch thread (train.setup reads LIB_THREADS;
    the runner exports cores // workers, which this turns into 1)."""
    from aestudy.runner import executors

    monkeypatch.setenv("LIB_THREADS", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setattr(executors, "threads_per_worker", lambda workers: 1)


@pytest.fixture
def tmp_reports(tmp_path, monkeypatch) -> Path:
    """REPORTS_DIR set to an empty temporary folder; runs write nowhere else."""
    path = tmp_path / "reports"
    path.mkdir()
    monkeypatch.setenv("REPORTS_DIR", str(path))
    # execute_run exports thread counts into os.environ: let monkeypatch restore them
    for var in ("LIB_THREADS", "OMP_NUM_THREADS"):
        if var in os.environ:
            monkeypatch.setenv(var, os.environ[var])
        else:
            monkeypatch.delenv(var, raising=False)
    return path


@pytest.fixture(scope="session")
def smoke_profile(tmp_path_factory):
    """`python -m lib run params/smoke.yaml` (every stage, then the report) once per session,
    into a temporary REPORTS_DIR. Shared by the experiment and report tests. Under xdist the
    workers share one sweep (the first to ask runs it, under a file lock, in the session's own
    temporary folder) and each gets its own copy of it, since some tests render or run in it."""
    value = os.environ.get("DATA_DIR")
    if not value or not (Path(value).expanduser() / "MNIST" / "raw" / "train-labels-idx1-ubyte").is_file():
        pytest.skip("real MNIST not found: set DATA_DIR to a folder holding MNIST/raw/ (e.g. ../shared/data)")
    data_dir = str(Path(value).expanduser().resolve())
    params = REPO_ROOT / "params" / "smoke.yaml"
    tmp = tmp_path_factory.mktemp("smoke")
    if "PYTEST_XDIST_WORKER" not in os.environ:  # not distributed: sweep right here
        stderr = _sweep_smoke(params, tmp / "reports", data_dir)
    else:  # the parent of a worker's base folder is this session's, shared by its workers only
        import shutil

        from filelock import FileLock

        shared = tmp_path_factory.getbasetemp().parent / "smoke-shared"
        with FileLock(f"{shared}.lock"):
            if not (shared / "stderr.txt").is_file():
                stderr = _sweep_smoke(params, shared / "reports", data_dir)
                (shared / "stderr.txt").write_text(stderr)
        stderr = (shared / "stderr.txt").read_text()
        shutil.copytree(shared / "reports", tmp / "reports")
    env = {**os.environ, "REPORTS_DIR": str(tmp / "reports"), "DATA_DIR": data_dir}
    pdir = tmp / "reports" / "smoke"
    return {
        "params": params,
        "dir": pdir,
        "env": env,
        "analyses": pdir / "analyses.ipynb",
        "tmp": tmp,
        "stderr": stderr,
    }


def _sweep_smoke(params: Path, reports: Path, data_dir: str) -> str:
    """The smoke sweep into `reports`; its stderr (the console a user sees)."""
    import subprocess
    import sys

    env = {**os.environ, "REPORTS_DIR": str(reports), "DATA_DIR": data_dir}
    proc = subprocess.run(
        [sys.executable, "-m", "lib", "run", str(params), "--workers", "2"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stderr


def stage_params(stage: str, **values) -> dict:
    """What the notebook's check cell returns for a run of `stage` on its defaults changed by
    `values` (validated, the data fields too): the `params` of the experiment's `main`."""
    from aestudy.study import STAGES, check_parameters

    return check_parameters(stage, {**STAGES[stage].notebook_fields(), **values})


def main_without_test_split(
    stage: str, pool, tmp_path, monkeypatch, message: str, **values
) -> tuple[dict, dict]:
    """The arguments of `aestudy.experiments.<stage>.main.main` for a run on the notebook's defaults
    changed by `values` (validated as the notebook's check cell does): its params, and its keywords
    (a tiny autoencoder checkpoint in `checkpoints`, `out_dir` under tmp_path), with a data loader
    that returns `pool` for the training split and raises AssertionError(`message`) on the test split."""
    from aestudy.science import artifacts, data
    from aestudy.science.models import AEConfig, AutoEncoder

    def load_split(dataset="mnist", train=True, **kw):
        if not train:
            raise AssertionError(message)
        return pool

    monkeypatch.setattr(data, "load_split", load_split)
    model = AutoEncoder(AEConfig(latent_dim=4, num_conv=1, c_factor=2, fc_hidden=16))
    ckpt = artifacts.save_checkpoint(tmp_path / "model.pt", model, model.encoder.cfg.__dict__, seed=0)
    return stage_params(stage, **values), {"checkpoints": [str(ckpt)], "out_dir": str(tmp_path / "out")}


def use_stand_in_notebooks(monkeypatch, nb_dir: Path) -> None:
    """Execute the stages from the stand-in notebooks in `nb_dir` (write them first). A stand-in
    writes what its test measures (timings, digests); a last cell added here makes it keep its
    stage's contract too (`contract_cell`), as the runner checks it for every run
    (tests/test_contract.py pins the contract itself)."""
    from aestudy import config

    for path in sorted(nb_dir.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(contract_cell(path.stem)))
        nbformat.write(nb, path)
    monkeypatch.setattr(config, "NOTEBOOKS", nb_dir)


def contract_cell(stage: str) -> str:
    """A notebook cell that writes what `stage` declares and its stand-in left out: each product
    (a placeholder file) and each key of its metrics model (the simplest value of its type), the
    stand-in's own metrics kept as written."""
    from aestudy.study import STAGES

    decl = STAGES.get(stage)
    fill = _simplest(decl.metrics.model_json_schema()) if decl is not None and decl.metrics else {}
    products = [p for p in (decl.products if decl is not None else ()) if p != "metrics.json"]
    return (
        f"import json as _json, pathlib as _pathlib\n"
        f"_out = _pathlib.Path(out_dir)\n"
        f"for _name in {products!r}:\n"
        f"    if not (_out / _name).exists():\n"
        f"        (_out / _name).write_bytes(b'stand-in')\n"
        f"_path = _out / 'metrics.json'\n"
        f"_metrics = _json.loads(_path.read_text()) if _path.exists() else {{}}\n"
        f"_path.write_text(_json.dumps({{**{fill!r}, **_metrics}}))"
    )


def _simplest(schema: dict, defs: dict | None = None):
    """The simplest value a JSON schema (pydantic's) accepts: required keys only, 0, "", [], None."""
    defs = schema.get("$defs", {}) if defs is None else defs
    if "$ref" in schema:
        return _simplest(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    if "anyOf" in schema:
        return None if {"type": "null"} in schema["anyOf"] else _simplest(schema["anyOf"][0], defs)
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        return {k: _simplest(schema["properties"][k], defs) for k in schema.get("required", [])}
    return {"object": {}, "array": [], "string": "", "integer": 0, "number": 0.0, "boolean": False}.get(kind)
