"""Experiment 4's report thresholds: the equivalence margin of 'h1 matters little' and
when it is judged at all.

Part of the parameter file's `report:` section (`aestudy.report_params`): fixed before the data
are seen; changing one re-renders the report and re-executes no run."""

from __future__ import annotations

from pydantic import Field

from ...schema import Params


class Thresholds(Params):
    h1_margin: float = Field(
        0.02,
        gt=0,
        lt=1,
        description=(
            "equivalence margin of 'h1 matters little' (TOST at 1 - confidence), in accuracy (0.02 = 2 "
            "percentage points), fixed by practical relevance: the smallest difference in test accuracy that "
            "would change which MLP width (h1) a practitioner picks. The widths differ in cost (a wider "
            "first layer trains and runs slower), so a difference smaller than 2 points would leave the "
            "choice to cost; differences of that size are small against the effects the study reports "
            "(fine-tuning, pre-training: several points) and measurable on 10,000 test images (the binomial "
            "standard error of one accuracy is about 0.4 points)"
        ),
    )
    min_accuracy: float = Field(
        0.20,
        ge=0,
        lt=1,
        description=(
            "'h1 matters little' is judged only when the pre-trained classifiers reach this mean "
            "accuracy (twice chance for ten classes): classifiers at chance are 'equivalent' trivially"
        ),
    )
