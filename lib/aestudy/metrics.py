"""What every stage's run hands to the report: its declared products and the keys of its
`metrics.json`, as pydantic models (the contract between a run and the report).

A run notebook builds its metrics; the runner checks, before it writes `complete.json`, that
every declared product exists and that `metrics.json` has every key these models name, with the
right type (`check_run`). A renamed key therefore fails the run with one line naming the file
and the key, not the report weeks later. The models list the keys the tables and the report read;
a stage may write more (extra keys are kept), so a new measure needs no change here until the
report reads it.
"""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import StudyError
from .ondisk import METRICS  # noqa: F401 (the file's name, spelled in aestudy.ondisk)


class Metrics(BaseModel):
    """Keys the report reads must be present and typed; other keys are kept as written."""
    model_config = ConfigDict(extra="allow")


class Record(Metrics):
    """One row of a run's `records` list (a row of `tables/<stage>.csv`)."""


class History(BaseModel):
    epoch: list[int]
    train_error: list[float]
    test_error: list[float]
    val_error: list[float] = []  # held-out training images, per epoch (absent with val_size 0)


class AutoencodeMetrics(Metrics):
    final_test_error: float
    final_train_error: float
    final_val_error: float | None       # held-out training images (None with val_size 0)
    val_change: float | None            # the last epoch's relative change of it (None with one epoch)
    pca_test_error: float               # PCA with the same d, fitted on the same training images
    mean_image_test_error: float        # the training mean image: a code of size 0
    n_parameters: int
    dead_encoder_hidden: float
    dead_units: dict
    history: History


class ReferenceMetrics(Metrics):
    test_accuracy: float
    n_train: int
    n_calibration: int
    n_test: int
    temperature: float      # softmax temperature fitted on the held-out training images
    test_ece: float         # expected calibration error on the test set, calibrated
    test_ece_raw: float     # the same before calibration
    records: list[Record]


class InterpolateRecord(Record):
    """One digit pair and model: experiment 2's verdicts read these."""
    pair: str
    latent_dim: int
    seed: int
    end_sharpness_error: float   # mean |ln(Tenengrad(decode) / Tenengrad(real))| at a = 0, 1
    mid_pair_mass_rel: float     # endpoint classes' mass at a ≈ 0.5 over the same at the model's ends
    mid_entropy_excess: float    # entropy at a ≈ 0.5 minus at the model's ends (nats)


class InterpolateMetrics(Metrics):
    records: list[InterpolateRecord]
    curves: list[dict]
    alphas: list[float]


class CorrelateRecord(Record):
    """One model: experiment 3's verdict and its participation ratio read these."""
    latent_dim: int
    seed: int
    offdiag: float
    with_diag: float
    participation_ratio: float


class CorrelateMetrics(Metrics):
    records: list[CorrelateRecord]
    matrices: dict[str, list[list[float]]]


class ProtocolMetrics(Metrics):
    folds: int
    candidates: int
    records: list[Record]


class TransferRecord(Record):
    mode: str
    accuracy: float


class TransferMetrics(Metrics):
    n_test: int
    records: list[TransferRecord]


class SemisupMetrics(Metrics):
    latent_dim: int
    num_conv: int
    n_test: int
    n_pool: int
    recipe: dict
    selection: dict         # how the recipe was selected; its "label" is printed beside selected numbers
    candidates: list[dict]
    records: list[Record]
    compute: dict | None = None  # device, precision, seconds and steps of the search and the draws (issue 25)


class ContractBroken(StudyError):
    """A run finished its notebook but not its contract: a declared product is missing or its
    metrics lack a key the report reads. One line, naming the file and the key."""


def read(path, model: type[BaseModel] | None) -> dict | None:
    """A run's metrics.json as the report reads it: validated against the stage's model (every key
    the report reads is there, with its type), as a dict; None when missing, unreadable or not
    matching (the report treats that run's per-run figures as absent)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if model is None:
        return data
    try:
        return model.model_validate(data).model_dump()
    except ValidationError:
        return None


def _where(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def check_run(run_dir, products: tuple[str, ...], model: type[BaseModel] | None, shown: str = "") -> None:
    """Raise ContractBroken unless every product in `products` exists in `run_dir` and its
    metrics.json validates against `model`. `shown` is how messages name the folder."""
    run_dir = Path(run_dir)
    shown = shown or str(run_dir)
    for name in products:
        if not (run_dir / name).is_file():
            raise ContractBroken(f"{shown}/{name}: declared product missing")
    if model is None:
        return
    try:
        data = json.loads((run_dir / METRICS).read_text())
    except (OSError, ValueError) as exc:
        raise ContractBroken(f"{shown}/{METRICS}: unreadable ({exc})") from None
    try:
        model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ContractBroken(f"{shown}/{METRICS}: {_where(first['loc'])}: {first['msg'].lower()}") from None
