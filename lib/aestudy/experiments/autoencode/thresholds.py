"""Experiment 1's report threshold: how much worse 'clearly worse' is.

Part of the parameter file's `report:` section (`aestudy.report_params`): fixed before the data
are seen; changing one re-renders the report and re-executes no run."""

from __future__ import annotations

from pydantic import Field

from ...schema import Params


class Thresholds(Params):
    small_d_margin: float = Field(
        0.10,
        ge=0,
        description=(
            "'d < 10 is clearly worse' is a threshold at d = 10, tested against a saturating curve (floor + "
            "a/d^k) fitted on the d >= 10 at each num_conv: the error at the largest d below 10 exceeds that "
            "curve's extrapolation by at least this fraction (the claim needs at least 4 values of d >= 10 to "
            "be tested at all): 10 % is a gap a reader sees on the error curves, while a smaller one is within "
            "what a change of epoch budget moves"
        ),
    )
