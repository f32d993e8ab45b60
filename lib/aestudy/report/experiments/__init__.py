"""The report's experiments: the registry the report's frame walks (the verdict table, the
abstract, the page-1 figure, the choices). Every experiment package (`aestudy.experiments.<name>`)
whose `report` module holds an `EXPERIMENT` is one, shown in the order of its `EXPERIMENT.order`
(then its name): adding an experiment to the report is adding its package's `report` module,
nothing else (ARCHITECTURE.md, "How to add an experiment")."""

from __future__ import annotations

import importlib
import pkgutil

from ... import experiments as _packages

SECTION = "report"  # the module of an experiment package that declares its report section


def discover(package: str = _packages.__name__, path=_packages.__path__) -> tuple:
    """Every `EXPERIMENT` of the packages in `path` (a folder of experiment packages): each
    package's `report` module, in report order."""
    found = [
        getattr(importlib.import_module(f"{package}.{m.name}.{SECTION}"), "EXPERIMENT", None)
        for m in pkgutil.iter_modules(path)
        if m.ispkg and _has_section(path, m.name)
    ]
    return tuple(sorted((e for e in found if e is not None), key=lambda e: (e.order, e.name)))


def _has_section(path, name: str) -> bool:
    from pathlib import Path

    return any((Path(p) / name / f"{SECTION}.py").is_file() for p in path)


EXPERIMENTS = discover()


def claims() -> dict:
    """Every claim of every experiment, in report order: claim id -> Claim."""
    out = {}
    for e in EXPERIMENTS:
        for cid, claim in e.claims.items():
            if cid in out:
                raise ValueError(f"claim {cid!r} is declared twice (aestudy.experiments.{e.name}.report)")
            out[cid] = claim
    return out


def ranges() -> dict:
    """Every experiment's `ranges`: measure column -> the values it can take (`Experiment.ranges`)."""
    out = {}
    for e in EXPERIMENTS:
        for column, bound in e.ranges.items():
            if column in out and out[column] != bound:
                raise ValueError(
                    f"measure {column!r} is given two ranges (aestudy.experiments.{e.name}.report and another)"
                )
            out[column] = bound
    return out
