"""The `report:` section of a parameter file: how the report decides, fixed before the data are seen.

Kept apart from `aestudy.schema` on purpose: every run notebook imports the schema (to check its
parameters), so a module they import would make its edits re-execute every run; this one only the
runner's file validation and the report import.
"""
from __future__ import annotations

from pydantic import Field

from .schema import Params


class ReportParams(Params):
    """How the report decides, fixed in the parameter file before the data are seen. Changing it
    re-renders the report and re-executes no run."""
    confidence: float = Field(0.95, gt=0.5, lt=1, description=(
        "level of every interval and of every verdict (a claim is decided only when its whole "
        "interval over autoencoder seeds lies on one side): the conventional 95 %"))
    small_d_margin: float = Field(0.10, ge=0, description=(
        "'d < 10 is clearly worse' is a threshold at d = 10, tested as a kink: the error at the largest "
        "d below 10 exceeds the power law through the two smallest d >= 10 (at the same num_conv) by at "
        "least this fraction: 10 % is a gap a reader sees on the error curves, while a smaller one is "
        "within what a change of epoch budget moves"))
    h1_margin: float = Field(0.02, gt=0, lt=1, description=(
        "equivalence margin of 'h1 matters little' (TOST at 1 - confidence), in accuracy (0.02 = 2 "
        "percentage points), set from the seed-to-seed spread: an h1 effect smaller than what changing "
        "the autoencoder seed alone does to one classifier's accuracy (its standard deviation over seeds; "
        "the report prints this run's beside the margin, and the margin should exceed it) is one a "
        "single run could not see; small against the effects the study reports (fine-tuning, pre-training: "
        "several points) and large against test-set noise (about 0.4 points at 10,000 test images)"))
    min_accuracy: float = Field(0.20, ge=0, lt=1, description=(
        "'h1 matters little' is judged only when the pre-trained classifiers reach this mean "
        "accuracy (twice chance for ten classes): classifiers at chance are 'equivalent' trivially"))
    outlier_excess: float = Field(0.25, gt=0, description=(
        "a model 'trains worse than its seed siblings' when its final test error exceeds the median of "
        "the other seeds of its (d, num_conv) by this fraction: 25 % is larger than any seed-to-seed "
        "spread of the well-behaved cells measured so far (under 15 % in the default and full profiles)"))
