"""Experiment 2's figures: the runs' saved interpolation figures with their captions, and the
measures against a (its claims, sentences and tables are in `interpolate`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ...report import profile
from ...report.figures import WIDTH, style, tick
from ...report.stats import summarise
from ...report.text import count, fmt, interval_words, listing
from . import STAGE as _DECLARED

STAGE = _DECLARED.name

CURVES = ("sharpness", "confidence", "pair_mass", "entropy")  # experiment 2's measures at every a


def interpolation_curves(data) -> pd.DataFrame:
    """Experiment 2's measures at every a (long format: pair, latent_dim, num_conv, seed, alpha and
    CURVES, missing where a run did not measure one), each a mean over the image pairs of a digit
    pair, read from the usable interpolate runs' metrics.json (the tables hold one row per digit
    pair and model)."""
    keys = ["pair", "latent_dim", "num_conv", "seed"]
    rows = []
    for run_id in data.usable(STAGE).get("run_id", pd.Series(dtype=str)).drop_duplicates():
        m = data.run_metrics(STAGE, run_id) or {}
        for c in m.get("curves") or []:
            n = len(m["alphas"])
            series = {k: c.get(k) or [float("nan")] * n for k in CURVES}
            rows += [
                {**{k: c.get(k) for k in keys}, "alpha": a, **{k: series[k][i] for k in CURVES}}
                for i, a in enumerate(m["alphas"])
            ]
    return pd.DataFrame(rows, columns=keys + ["alpha", *CURVES])


def _group(record: dict) -> tuple:
    """The models of one seed and num_conv: a figure's rows (and, with shared_images, one image draw:
    experiments.interpolate.run.pair_seed)."""
    return record.get("seed"), record.get("num_conv")


def figure_rows(records: list[dict], pair: str) -> list[dict]:
    """The models a run's saved figure of `pair` shows, one row each, as the run draws it
    (experiments.interpolate.run.run): the models of the first seed and num_conv among the pair's
    records, in record order, on one image pair (the first drawn for the first of them)."""
    rows = [r for r in records if str(r.get("pair")) == pair]
    return [r for r in rows if _group(r) == _group(rows[0])] if rows else []


def figure_caption(data, path) -> str:
    """The caption of one saved interpolation figure (interpolation_<a>-<b>.png of a run), its rows
    counted from the figure (the run's records of the first seed and num_conv), not from the table."""
    pair = path.stem.replace("interpolation_", "")
    a, _, b = pair.partition("-")
    m = data.run_metrics(STAGE, path.parent.name) or {}
    alphas, shown = m.get("alphas") or [], figure_rows(m.get("records") or [], pair)
    grid, which = "", ""
    if shown:
        ds = sorted({int(r["latent_dim"]) for r in shown})
        seed, num_conv, n = (
            shown[0].get("seed"),
            shown[0].get("num_conv"),
            int(shown[0].get("n_image_pairs") or 1),
        )
        of = f"seed {seed}" + (f" and num_conv {num_conv}" if num_conv is not None else "")
        grid = (
            f"; one row per model of {of} ({count(len(shown), 'row')}: d = {listing(map(str, ds))}; "
            "labelled at the left)"
        )
        groups = {_group(r) for r in m.get("records") or [] if str(r.get("pair")) == pair}
        if m.get("shared_images", True):  # runs from before the field shared them
            head = f" (the first of the {n} image pairs drawn for {of}" if n > 1 else f" ({of}'s image pair"
            others = len(groups) - 1
            rest = ([f"its other {n - 1}"] if n > 1 else []) + (
                [f"the image pairs of the other {others} model pair{'s' if others > 1 else ''}"]
                if others
                else []
            )
        else:  # every model drew its own: the figure decodes the first model's with every model of its group
            first = f"the d={int(shown[0]['latent_dim'])} model of {of}"
            head = (
                f" (the first of the {n} image pairs drawn for {first}"
                if n > 1
                else f" ({first}'s image pair"
            ) + f", decoded by every model of {of}"
            head += ", though it is not among the others' own" if len(shown) > 1 else ""
            rest = []
            head += f"; the tables below measure every model on its own {n} image pair{'s' if n > 1 else ''}"
        which = head + (
            f"; {' and '.join(rest)} are measured in the tables below, not shown)" if rest else ")"
        )
    steps = f" at {len(alphas)} values of a from {fmt(alphas[0])} to {fmt(alphas[-1])}" if alphas else ""
    return (
        f"Interpolation from a test {a} to a test {b}{which}: the outer columns are the two inputs, the columns "
        f"between decode (1 − a) z1 + a z2{steps}{grid}."
    )


def run_figures(data):
    """[(saved interpolation figure, caption)] of the usable runs."""
    return [(p, figure_caption(data, p)) for p in profile.run_figures(data, STAGE, "interpolation_*.png")]


def pairs_drawn(interp: pd.DataFrame) -> str:
    """'30 image pairs', or '892-980 image pairs' where the digit pairs drew different numbers (a digit
    with fewer test images than asked for, a pair of one digit): what the runs drew, not what was asked."""
    n = interp["n_image_pairs"].dropna() if "n_image_pairs" in interp else pd.Series(dtype=float)
    lo, hi = (int(n.min()), int(n.max())) if not n.empty else (1, 1)
    return f"{lo:,}-{hi:,} image pairs" if lo != hi else f"{lo:,} image pair{'s' if lo != 1 else ''}"


def measures(data):
    """(figure of the measures against a, caption), or (None, '') without curves."""
    curves, interp, c = interpolation_curves(data), data.usable(STAGE), data.rules.confidence
    if curves.empty:
        return None, ""
    sharp = summarise(curves, ["latent_dim", "alpha"], "sharpness", confidence=c)
    mass = curves["pair_mass"].notna().any()
    second = "pair_mass" if mass else "confidence"
    measured = curves.dropna(subset=[second])
    other = summarise(measured, ["latent_dim", "alpha"], second, confidence=c) if not measured.empty else None
    real = None if mass else (interp["input_confidence"].mean() if "input_confidence" in interp else None)
    what = (
        "the calibrated reference classifier's probability on the two endpoint digits, P(first) + P(second)"
        if mass
        else "the reference classifier's top-class probability on the decode (dashed: on the real inputs)"
    )
    return along_a(
        sharp, other, real, "P(first digit) + P(second digit)" if mass else "classifier confidence"
    ), (
        "Experiment 2's measures against a, by latent size d: (a) Tenengrad sharpness of the decode over that of "
        "the real digits, (1 − a)·T(first input) + a·T(second input) (dashed: as sharp as the real digits); "
        f"(b) {what}. Lines: "
        f"mean over autoencoder seeds of each seed's mean over {count(curves['pair'].nunique(), 'digit pair')} × "
        f"{pairs_drawn(interp)} (and num_conv); bands: {interval_words(c, list(sharp['n']))}."
    )


def along_a(
    sharpness: pd.DataFrame,
    confidence: pd.DataFrame | None = None,
    real_confidence: float | None = None,
    ylabel: str = "classifier confidence",
):
    """Experiment 2's two measures against a, one colour per d (summaries by [latent_dim, alpha]:
    each seed's mean over digit pairs and image pairs, then the mean and interval over seeds):
    (a) Tenengrad sharpness of the decode over the real digits' (dashed: as sharp as they are),
    (b) the reference classifier's confidence (dashed: on the real inputs). None without data."""
    panels = [
        (k, v)
        for k, v in (("sharpness", sharpness), ("confidence", confidence))
        if v is not None and not v.empty
    ]
    if not panels:
        return None
    with style():
        fig, axes = plt.subplots(1, len(panels), figsize=(WIDTH, 2.8), squeeze=False)
        ds = sorted({d for _, s in panels for d in s["latent_dim"].unique()})
        colors = dict(zip(ds, sns.color_palette(n_colors=len(ds))))  # two d values: two distinct hues
        for j, (ax, (kind, s)) in enumerate(zip(axes[0], panels)):
            for d in ds:
                g = s[s["latent_dim"] == d].sort_values("alpha")
                ax.plot(g["alpha"], g["mean"], marker="o", color=colors[d], label=f"d={tick(d)}")
                ax.fill_between(g["alpha"], g["ci_lo"], g["ci_hi"], color=colors[d], alpha=0.2, lw=0)
            ref = 1.0 if kind == "sharpness" else real_confidence
            if ref is not None and np.isfinite(ref):
                ax.axhline(ref, color="0.4", lw=1, ls="--", label="real digits")
            ax.set_xlabel("a")
            ax.set_ylabel("Tenengrad: decode / real" if kind == "sharpness" else ylabel)
            ax.set_title(f"({'ab'[j]}) " + ("sharpness" if kind == "sharpness" else "digit-likeness"))
            ax.legend(frameon=False)
        fig.tight_layout()
    return fig
