"""The `report:` section of a parameter file: how the report decides, fixed before the data are seen.

The section is one flat mapping: the frame's fields (below) and each experiment's own thresholds,
declared in its package (`aestudy.experiments.<name>.thresholds.Thresholds`, found the way the
stages are: adding an experiment adds its thresholds without an edit here).

Kept apart from `aestudy.schema` on purpose: every run notebook imports the schema (to check its
parameters), so a module they import would make its edits re-execute every run; this one (and the
experiments' `thresholds` modules) only the runner's file validation and the report import.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from typing import Annotated

from pydantic import Field, PrivateAttr, StringConstraints

from . import experiments
from .schema import Params

PROFILE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"  # a folder under reports/, as a parameter file's `profile:`
THRESHOLDS = "thresholds"  # the module of an experiment package that declares its report thresholds


class FrameParams(Params):
    """What every verdict and the frame's own checks use."""

    confidence: float = Field(
        0.95,
        gt=0.5,
        lt=1,
        description=(
            "level of every interval and of every verdict (a claim is decided only when its whole "
            "interval, a t-interval over the seeds of their own statistics, lies on one side): the "
            "conventional 95 %"
        ),
    )
    outlier_excess: float = Field(
        0.25,
        gt=0,
        description=(
            "a model 'trains worse than its seed siblings' when its final test error exceeds the median of "
            "the other seeds of its (d, num_conv) by this fraction: 25 % is larger than any seed-to-seed "
            "spread of the well-behaved cells measured so far (under 15 % in the default and full profiles)"
        ),
    )
    time_budget_minutes: float | None = Field(
        None,
        gt=0,
        description=(
            "the wall time the profile's sweep is sized for, on the machine its parameter file's header names "
            "(the study asks the default for 15 minutes on a 2-core CPU): the report's Runs section says whether "
            "these runs kept to it. It decides nothing; null: no budget"
        ),
    )
    compare_with: list[Annotated[str, StringConstraints(pattern=PROFILE_NAME, max_length=100)]] = Field(
        default_factory=list,
        max_length=10,
        description=(
            "the profiles whose verdicts the report shows beside its own, in order of preference: the first "
            "that a sweep has finished (reports/<name>/runs.json and tables/) is shown, each of its verdicts decided by "
            "its own report: section; a profile of higher fidelity, so that a reader sees where this budget "
            "reaches the same verdicts (the study asks the default to agree with the full profile wherever "
            "neither is inconclusive). It decides nothing here"
        ),
    )

    # not a field (no parameter file sets it): whether the runs decided on are independent units, every
    # model seeded for its own cell, as the runs record it (`report.profile.ProfileData.rules` sets it);
    # False: the models of one seed form a block and every verdict is over the seeds
    _models_independent: bool = PrivateAttr(default=False)

    @property
    def models_independent(self) -> bool:
        return self._models_independent

    def for_runs(self, independent: bool):
        """These rules for runs whose models are (or are not) independent units."""
        copy = self.model_copy()
        copy._models_independent = bool(independent)
        return copy


def experiment_thresholds(package: str = experiments.__name__, path=experiments.__path__) -> tuple[type, ...]:
    """The `Thresholds` model of every experiment package that declares one, in package order."""
    found = []
    for m in pkgutil.iter_modules(path):
        if m.ispkg and importlib.util.find_spec(f"{package}.{m.name}.{THRESHOLDS}") is not None:
            found.append(importlib.import_module(f"{package}.{m.name}.{THRESHOLDS}").Thresholds)
    return tuple(found)


def _assemble(parts: tuple[type, ...]) -> type:
    clash = sorted(
        {
            f
            for i, a in enumerate(parts)
            for b in parts[i + 1 :]
            for f in a.model_fields
            if f in b.model_fields
        }
    )
    if clash:
        raise ValueError(f"report thresholds declared twice: {', '.join(clash)}")
    return type(
        "ReportParams",
        (*reversed(parts), FrameParams),
        {
            "__doc__": "How the report decides, fixed in the parameter file before the data are seen (the frame's "
            "fields and every experiment's thresholds). Changing it re-renders the report and "
            "re-executes no run.",
            "__module__": __name__,
        },
    )


ReportParams = _assemble(experiment_thresholds())
