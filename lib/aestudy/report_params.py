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
        "interval, from the linear model over every model of the design, lies on one side): the "
        "conventional 95 %"))
    small_d_margin: float = Field(0.10, ge=0, description=(
        "'d < 10 is clearly worse' is a threshold at d = 10, tested against a saturating curve (floor + "
        "a/d^k) fitted on the d >= 10 at each num_conv: the error at the largest d below 10 exceeds that "
        "curve's extrapolation by at least this fraction (the claim needs at least 4 values of d >= 10 to "
        "be tested at all): 10 % is a gap a reader sees on the error curves, while a smaller one is within "
        "what a change of epoch budget moves"))
    h1_margin: float = Field(0.02, gt=0, lt=1, description=(
        "equivalence margin of 'h1 matters little' (TOST at 1 - confidence), in accuracy (0.02 = 2 "
        "percentage points), fixed by practical relevance: the smallest difference in test accuracy that "
        "would change which MLP width (h1) a practitioner picks. The widths differ in cost (a wider "
        "first layer trains and runs slower), so a difference smaller than 2 points would leave the "
        "choice to cost; differences of that size are small against the effects the study reports "
        "(fine-tuning, pre-training: several points) and measurable on 10,000 test images (the binomial "
        "standard error of one accuracy is about 0.4 points)"))
    min_accuracy: float = Field(0.20, ge=0, lt=1, description=(
        "'h1 matters little' is judged only when the pre-trained classifiers reach this mean "
        "accuracy (twice chance for ten classes): classifiers at chance are 'equivalent' trivially"))
    outlier_excess: float = Field(0.25, gt=0, description=(
        "a model 'trains worse than its seed siblings' when its final test error exceeds the median of "
        "the other seeds of its (d, num_conv) by this fraction: 25 % is larger than any seed-to-seed "
        "spread of the well-behaved cells measured so far (under 15 % in the default and full profiles)"))
