"""The report's experiments, one module each, in the order the report shows them: the registry
the report's frame walks (the verdict table, the abstract, the page-1 figure). Adding an
experiment to the report: its module here (an `EXPERIMENT`), its line below, and its section in
notebooks/analyses.ipynb."""
from __future__ import annotations

from . import autoencode, correlate, interpolate, semisup, transfer

EXPERIMENTS = (autoencode.EXPERIMENT, interpolate.EXPERIMENT, correlate.EXPERIMENT, transfer.EXPERIMENT,
               semisup.EXPERIMENT)


def claims() -> dict:
    """Every claim of every experiment, in report order: claim id -> Claim."""
    out = {}
    for e in EXPERIMENTS:
        for cid, claim in e.claims.items():
            if cid in out:
                raise ValueError(f"claim {cid!r} is declared twice (report.experiments.{e.name})")
            out[cid] = claim
    return out
