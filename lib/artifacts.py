"""Artifacts a run writes: atomic writes, checkpoints, and the completion record.

Every file is written under a temporary name and renamed, so a reader never sees half a
file. A run counts as complete only when `complete.json`, written last, exists and lists
every artifact with a sha256 that still matches the bytes on disk.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch

COMPLETE = "complete.json"
_UMASK = os.umask(0)
os.umask(_UMASK)
FAILED = "failed.json"


class CorruptArtifact(RuntimeError):
    """A file exists but cannot be read, or no longer matches its recorded checksum."""


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file normal permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path, obj) -> Path:
    return atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n").encode())


def _jsonable(o):
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def read_json(path) -> dict:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CorruptArtifact(f"{path}: cannot read JSON ({exc})") from None


def save_figure(fig, path, dpi: int = 110) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format=Path(path).suffix.lstrip(".") or "png", dpi=dpi, bbox_inches="tight")
    return atomic_write_bytes(path, buf.getvalue())


def save_checkpoint(path, model: torch.nn.Module, config: dict, **extra) -> Path:
    """State dict + the configuration that rebuilds the model (plain types only)."""
    import io

    buf = io.BytesIO()
    torch.save({"config": dict(config), "state_dict": model.state_dict(), **extra}, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path) -> dict:
    """Load with `weights_only=True` (no pickled code runs); corrupt files raise CorruptArtifact."""
    path = Path(path)
    if not path.exists():
        raise CorruptArtifact(f"{path}: checkpoint missing")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CorruptArtifact(f"{path}: cannot load checkpoint ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(ckpt, dict) or "config" not in ckpt or "state_dict" not in ckpt:
        raise CorruptArtifact(f"{path}: not a checkpoint of this project (needs config and state_dict)")
    return ckpt


def load_autoencoder(path):
    """Rebuild an AutoEncoder from its checkpoint."""
    from .models import AEConfig, AutoEncoder

    ckpt = load_checkpoint(path)
    fields = AEConfig.__dataclass_fields__
    model = AutoEncoder(AEConfig(**{k: v for k, v in ckpt["config"].items() if k in fields}))
    model.load_state_dict(ckpt["state_dict"])
    return model


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_completion(run_dir, record: dict) -> Path:
    """List every file in `run_dir` with its sha256, then write the record last."""
    run_dir = Path(run_dir)
    files = {p.relative_to(run_dir).as_posix(): sha256_file(p)
             for p in sorted(run_dir.rglob("*"))
             if p.is_file() and p.name not in (COMPLETE, FAILED) and not p.name.endswith(".tmp")}
    return write_json(run_dir / COMPLETE, {**record, "artifacts": files})


def verify_completion(run_dir) -> tuple[dict | None, str]:
    """(record, "") when the run is complete and intact, else (None, reason)."""
    run_dir = Path(run_dir)
    path = run_dir / COMPLETE
    if not path.exists():
        return None, "no completion record"
    try:
        record = read_json(path)
    except CorruptArtifact as exc:
        return None, str(exc)
    for name, digest in record.get("artifacts", {}).items():
        f = run_dir / name
        if not f.exists():
            return None, f"{f}: missing"
        if sha256_file(f) != digest:
            return None, f"{f}: checksum mismatch (truncated or modified)"
    return record, ""


def output_dir(out_dir, stage: str) -> Path:
    """Where a notebook writes: the runner's `out_dir`, or reports/lab/<stage> when a notebook
    runs on its defaults in JupyterLab."""
    from .pipeline import REPO_ROOT

    path = Path(out_dir) if out_dir else REPO_ROOT / "reports" / "lab" / stage
    path.mkdir(parents=True, exist_ok=True)
    return path


def peak_rss_mb() -> float:
    """Peak resident memory of this process (the notebook's kernel), in MiB."""
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
