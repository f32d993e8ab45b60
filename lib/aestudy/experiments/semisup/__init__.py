"""Beyond the original: how far 100 labels go with the unlabelled images too.

The package holds the whole experiment: `params` (its parameter model), `metrics` (the keys of
its metrics.json), `run` (what a run computes), `report` (its section of the report); its
notebook is notebooks/semisup.ipynb. This module stays light (no torch): the study imports it."""

from ...stage import Stage
from .metrics import SemisupMetrics
from .params import SemisupParams

STAGE = Stage(
    "semisup",
    SemisupParams,
    order=70,
    reads_data=True,
    receives={"autoencode": "checkpoints", "protocol": "protocols"},
    abbrev={"h1": "h", "n_labels": "n"},
    takes_one=("autoencode",),
    metrics=SemisupMetrics,
)
