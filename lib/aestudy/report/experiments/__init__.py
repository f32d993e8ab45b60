"""The report's experiments, one module each: the registry the report's frame walks (the verdict
table, the abstract, the page-1 figure, the choices). Every module of this package that holds an
`EXPERIMENT` is one, shown in the order of its `EXPERIMENT.order` (then its name): adding an
experiment to the report is adding its module here, nothing else (ARCHITECTURE.md, "How to add
an experiment")."""
from __future__ import annotations

import importlib
import pkgutil


def discover(package: str = __name__, path=__path__) -> tuple:
    """Every `EXPERIMENT` of the modules in `path` (a package's folder), in report order."""
    found = [getattr(importlib.import_module(f"{package}.{m.name}"), "EXPERIMENT", None)
             for m in pkgutil.iter_modules(path)]
    return tuple(sorted((e for e in found if e is not None), key=lambda e: (e.order, e.name)))


EXPERIMENTS = discover()


def claims() -> dict:
    """Every claim of every experiment, in report order: claim id -> Claim."""
    out = {}
    for e in EXPERIMENTS:
        for cid, claim in e.claims.items():
            if cid in out:
                raise ValueError(f"claim {cid!r} is declared twice (report.experiments.{e.name})")
            out[cid] = claim
    return out


def declared_sections() -> tuple:
    """The experiments that declare their own section (`title`, `sections`) rather than having one
    written in notebooks/analyses.ipynb: the notebook's generic cell shows them."""
    return tuple(e for e in EXPERIMENTS if e.title)
