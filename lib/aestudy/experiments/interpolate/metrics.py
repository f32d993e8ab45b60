"""The interpolate stage's `metrics.json`: the keys the tables and the report read (aestudy.metrics checks them)."""

from __future__ import annotations

from ...metrics import Metrics, Record


class InterpolateRecord(Record):
    """One digit pair and model: experiment 2's verdicts read these."""

    pair: str
    latent_dim: int
    seed: int
    end_sharpness_error: float  # mean |ln(Tenengrad(decode) / Tenengrad(real))| at a = 0, 1
    mid_pair_mass_rel: float  # endpoint classes' mass at a ≈ 0.5 over the same at the model's ends
    mid_entropy_excess: float  # entropy at a ≈ 0.5 minus at the model's ends (nats)


class InterpolateMetrics(Metrics):
    records: list[InterpolateRecord]
    curves: list[dict]
    alphas: list[float]
