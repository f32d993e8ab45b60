"""What a run notebook writes besides figures: JSON, checkpoints, its output folder, its memory.

Checkpoints hold a state dict and the configuration that rebuilds the model; they load with
`weights_only=True`, so no pickled code runs.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch

from ..files import CorruptArtifact, atomic_write_bytes, read_json, write_json  # noqa: F401 (notebooks write through here)
from ..ondisk import run_name


def save_checkpoint(path, model: torch.nn.Module, config: dict, **extra) -> Path:
    """State dict + the configuration that rebuilds the model (plain types only). A checkpoint
    written into a run's folder records that run as the model's name downstream (`run`:
    'autoencode/d10-nc2-s0', `ondisk.run_name`) unless `run` is given; elsewhere (JupyterLab) none."""
    if "run" not in extra and (name := run_name(Path(path).parent)) is not None:
        extra["run"] = name
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
        raise CorruptArtifact(
            f"{path}: cannot load checkpoint ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})"
        ) from None
    if not isinstance(ckpt, dict) or "config" not in ckpt or "state_dict" not in ckpt:
        raise CorruptArtifact(f"{path}: not a checkpoint of this project (needs config and state_dict)")
    return ckpt


def load_autoencoder(path):
    """Rebuild an AutoEncoder from its checkpoint."""
    from .models import AEConfig, AutoEncoder

    ckpt = load_checkpoint(path)
    model = AutoEncoder(AEConfig.from_params(ckpt["config"]))
    model.load_state_dict(ckpt["state_dict"])
    return model


def output_dir(out_dir, stage: str) -> Path:
    """Where a notebook writes: the runner's `out_dir`, or reports/lab/<stage> when a notebook
    runs on its defaults in JupyterLab."""
    from ..config import PROJECT_ROOT

    path = Path(out_dir) if out_dir else PROJECT_ROOT / "reports" / "lab" / stage
    path.mkdir(parents=True, exist_ok=True)
    return path


def peak_rss_mb() -> float:
    """Peak resident memory of this process (the notebook's kernel), in MiB: on Linux VmHWM,
    which a warm kernel resets before each run (runner.kernels), else the process's maximum."""
    import resource
    import sys

    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def model_key(cfg: dict) -> str:
    """A model's name in metrics: the run that trained it ('autoencode/d10-nc2-s0', `ondisk.run_name`)
    when its checkpoint recorded one, else 'd10-nc2-s0' (the seed part only when it has one)."""
    if cfg.get("run"):
        return cfg["run"]
    key = f"d{cfg['latent_dim']}-nc{cfg['num_conv']}"
    return key + (f"-s{cfg['seed']}" if cfg.get("seed") is not None else "")


def model_label(cfg: dict) -> str:
    label = f"d={cfg['latent_dim']}, num_conv={cfg['num_conv']}"
    return label + (f", seed={cfg['seed']}" if cfg.get("seed") is not None else "")


def load_models(checkpoints) -> list:
    """(config dict, AutoEncoder) for each checkpoint path, sorted by (num_conv, latent_dim, seed);
    the config carries the training seed, run name and held-out validation images (`val_size`)
    when the checkpoint recorded them."""
    out = []
    for p in checkpoints:
        ckpt = load_checkpoint(p)
        cfg = {
            **ckpt["config"],
            "seed": ckpt.get("seed"),
            "run": ckpt.get("run"),
            "val_size": ckpt.get("val_size"),
        }
        out.append((cfg, load_autoencoder(p)))
    return sorted(out, key=lambda m: (m[0]["num_conv"], m[0]["latent_dim"], m[0]["seed"] or 0))
