"""Experiment 2, latent interpolation: its claims (the larger d sharper at the ends, the smaller
d more digit-like near a = 0.5), what the section says, its table, its figure of the measures
against a, and the captions of the runs' interpolation figures."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ...report_params import ReportParams
from .. import profile
from ..claims import NO_RUNS, Claim, Experiment, row
from ..decide import direction, per_seed
from ..figures import WIDTH, style, tick
from ..sentences import means_with_intervals
from ..stats import CONFIDENCE, summarise
from ..tables import ci_columns
from ..text import SEEDS, fmt, fmt_ci, fmt_pct, interval_words

STAGE = "interpolate"
DEFAULT = ReportParams()


# ------------------------------------------------------------------ claims

def two_latent_sizes(interp: pd.DataFrame):
    """(smallest d, largest d) of the interpolated models, or (None, None) with only one d."""
    ds = sorted(interp["latent_dim"].astype(int).unique())
    return (ds[0], ds[-1]) if len(ds) >= 2 else (None, None)


def _paired(interp: pd.DataFrame, col: str, minus: int, plus: int) -> pd.Series:
    """Per seed: mean over pairs (and num_conv) of col(d=plus) - col(d=minus), same images."""
    def diff(rows):
        p = rows.pivot_table(index=["pair", "num_conv"], columns="latent_dim", values=col, aggfunc="mean")
        return float((p[plus] - p[minus]).mean()) if {plus, minus} <= set(p.columns) else float("nan")

    return per_seed(interp, diff)


def _image_pairs_words(interp: pd.DataFrame) -> str:
    """'3 digit pairs × 30 image pairs' (what each seed's number averages)."""
    k = interp["pair"].nunique() if "pair" in interp else 0
    n = int(interp["n_image_pairs"].min()) if "n_image_pairs" in interp and interp["n_image_pairs"].notna().any() else 1
    return f"{k} digit pair{'s' if k != 1 else ''} × {n} image pair{'s' if n != 1 else ''}"


def _interp_row(interp, c_of, col: str, better: str, what: str, rules: ReportParams, short: str = "",
                extra=lambda df: "") -> dict:
    """The larger d (`better` = 'hi') or the smaller one ('lo') has the higher `col`: per seed,
    the paired difference (same images) averaged over its digit pairs and image pairs (each
    record already averages its image pairs); the interval is over autoencoder seeds."""
    if interp is None or interp.empty:
        return row("2", c_of(20, 10), NO_RUNS)
    if col not in interp or interp[col].isna().all():
        return row("2", c_of(20, 10), f"no {what} in the interpolate table (runs older than the measure: re-run them)")
    lo, hi = two_latent_sizes(interp)
    if lo is None:
        return row("2", c_of(20, 10), "needs two latent sizes")
    a, b = (hi, lo) if better == "hi" else (lo, hi)
    dec = direction(_paired(interp, col, minus=b, plus=a), +1, rules.confidence)
    m = interp.groupby("latent_dim")[col].mean()
    return row("2", c_of(hi, lo), f"{what}: d={lo}: {fmt(m[lo])}, d={hi}: {fmt(m[hi])}{extra(interp)}; paired "
               f"difference (d={a} − d={b}; each seed's the mean over {_image_pairs_words(interp)}): "
               f"{fmt_ci(dec, unit=SEEDS)}", dec,
               key=f"{short + ' ' if short else ''}{fmt(m[lo])} at d={lo}, {fmt(m[hi])} at d={hi}")


def verdict_sharper_ends(interp: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    """The larger d's decodes at a = 0 and 1 are sharper: Tenengrad (mean squared Sobel gradient
    magnitude) of the decode over that of the real digit it reconstructs, higher for the larger d."""
    return _interp_row(interp, lambda hi, lo: f"d = {hi} is sharper at the ends (a = 0, 1) than d = {lo}",
                       "end_sharpness", "hi", "Tenengrad sharpness of the a = 0, 1 decodes over the real digits' "
                       "(1 = as sharp)", rules, short="sharpness")


def verdict_mid_digit_like(interp: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    """The smaller d's decodes near a = 0.5 look more like a digit: the reference classifier's
    top-class probability on them is higher."""
    def real(df):
        c = df["input_confidence"].mean() if "input_confidence" in df else float("nan")
        return f" (the real inputs: {fmt(c)})" if pd.notna(c) else ""

    return _interp_row(interp, lambda hi, lo: f"d = {lo} gives more digit-like images near a = 0.5 than d = {hi}",
                       "mid_confidence", "lo", "reference classifier's confidence on the a ≈ 0.5 decode", rules,
                       short="confidence", extra=real)


# ------------------------------------------------------------------ what the section says

def reference_text(ref: pd.DataFrame | None) -> str:
    """'a small CNN trained on 8000 training images, 96.3 % test accuracy' (the reference run)."""
    if ref is None or ref.empty or "test_accuracy" not in ref:
        return "a small CNN trained on the labelled training images"
    r = ref.iloc[0]
    return (f"a small CNN trained on {int(r['n_train'])} labelled training images for {int(r['epochs'])} epoch(s), "
            f"{fmt_pct(r['test_accuracy'])} accuracy on {int(r['n_test'])} test images")


def findings(interp: pd.DataFrame, confidence: float = CONFIDENCE, ref: pd.DataFrame | None = None) -> str:
    """What experiment 2 measured and what it shows: sharpness at the ends, the reference
    classifier's confidence near a = 0.5, and the secondary pixel measures with their caveat."""
    if interp.empty:
        return ""
    n = int(interp["n_image_pairs"].min()) if "n_image_pairs" in interp else 1
    k = interp["pair"].nunique()
    text = (f"Each model interpolated {n} pair(s) of test images for each of the {k} digit pair(s) "
            f"({', '.join(map(str, interp['pair'].drop_duplicates()))}); each seed's number is the mean over "
            "them, and every interval is over autoencoder seeds (the images are the same for every model).")
    if interp["latent_dim"].nunique() < 2:
        return text + f" Only one latent size (d={int(interp['latent_dim'].iloc[0])}) was interpolated: no comparison."
    if "end_sharpness" in interp:
        _, ends = means_with_intervals(interp, "latent_dim", "end_sharpness", confidence)
        text += (" At the ends (a = 0 and 1, plain reconstructions), the decodes' sharpness (Tenengrad: the mean "
                 "squared Sobel gradient magnitude) relative to that of the real digit each one reconstructs is "
                 f"{ends}; 1 would be as sharp as the real digit.")
    if "mid_confidence" in interp and interp["mid_confidence"].notna().any():
        _, mid = means_with_intervals(interp, "latent_dim", "mid_confidence", confidence)
        text += (f" Near a = 0.5, the reference classifier ({reference_text(ref)}) gives the top class of the "
                 f"decode a probability of {mid}; on the real inputs it gives "
                 f"{fmt(interp['input_confidence'].mean())}. A confident classifier is not a human judge: it can be "
                 "sure about an image no one would call a digit, so look at the images too.")
    _, mse = means_with_intervals(interp, "latent_dim", "end_mse", confidence)
    _, nn = means_with_intervals(interp, "latent_dim", "mid_nn_distance", confidence)
    return text + (f" Secondary, and not used by the verdicts: the end decodes' pixel MSE against the inputs is {mse}; "
                   f"the a ≈ 0.5 decode's mean squared pixel distance to its nearest training image is {nn} (the real "
                   f"inputs: {fmt(interp['input_nn_distance'].mean())}), a proxy that rewards blur, since a blurred "
                   "average of two digits lies close to many real ones.")


def figure_caption(data, interp: pd.DataFrame, path) -> str:
    """The caption of one saved interpolation figure (interpolation_<a>-<b>.png of a run)."""
    pair = path.stem.replace("interpolation_", "")
    a, _, b = pair.partition("-")
    alphas = (data.run_metrics(STAGE, path.parent.name) or {}).get("alphas") or []
    rows = interp[interp["pair"].astype(str) == pair] if not interp.empty and "pair" in interp else interp
    models = rows[["latent_dim", "num_conv", "seed"]].drop_duplicates() if not rows.empty else rows
    grid = ""
    if not models.empty:
        values = {c: sorted(models[c].astype(int).unique().tolist()) for c in ("latent_dim", "num_conv", "seed")}
        grid = (f"; one row per model, {len(models)} in all: d in {values['latent_dim']}, num_conv in "
                f"{values['num_conv']}, seeds {values['seed']} (labelled at the left)")
    steps = f" at {len(alphas)} values of a from {fmt(alphas[0])} to {fmt(alphas[-1])}" if alphas else ""
    n = int(rows["n_image_pairs"].min()) if "n_image_pairs" in rows and not rows.empty else 1
    which = f" (the first of the {n} image pairs measured for this digit pair)" if n > 1 else ""
    return (f"Interpolation from a test {a} to a test {b}{which}: the outer columns are the two inputs, the columns "
            f"between decode (1 − a) z1 + a z2{steps}{grid}.")


COLUMNS = {"end sharpness": "end_sharpness", "a≈0.5 confidence": "mid_confidence",
           "end MSE": "end_mse", "a≈0.5 NN distance": "mid_nn_distance"}


def table(interp: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per digit pair and d: the end decodes' Tenengrad sharpness over the real digits', the
    reference classifier's confidence on the a~0.5 decode, and the secondary end MSE and a~0.5
    nearest-training-image distance (each record a mean over its image pairs), mean [interval]
    over seeds; the columns a table lacks are left out."""
    cols = {k: v for k, v in COLUMNS.items() if v in interp and interp[v].notna().any()}
    return ci_columns(interp, ["pair", "latent_dim"], cols, confidence)


def along_a(sharpness: pd.DataFrame, confidence: pd.DataFrame | None = None, real_confidence: float | None = None):
    """Experiment 2's two measures against a, one colour per d (summaries by [latent_dim, alpha]:
    each seed's mean over digit pairs and image pairs, then the mean and interval over seeds):
    (a) Tenengrad sharpness of the decode over the real digits' (dashed: as sharp as they are),
    (b) the reference classifier's confidence (dashed: on the real inputs). None without data."""
    panels = [(k, v) for k, v in (("sharpness", sharpness), ("confidence", confidence)) if v is not None and not v.empty]
    if not panels:
        return None
    with style():
        fig, axes = plt.subplots(1, len(panels), figsize=(WIDTH, 2.8), squeeze=False)
        ds = sorted({d for _, s in panels for d in s["latent_dim"].unique()})
        colors = dict(zip(ds, sns.color_palette(n_colors=len(ds))))   # two d values: two distinct hues
        for j, (ax, (kind, s)) in enumerate(zip(axes[0], panels)):
            for d in ds:
                g = s[s["latent_dim"] == d].sort_values("alpha")
                ax.plot(g["alpha"], g["mean"], marker="o", color=colors[d], label=f"d={tick(d)}")
                ax.fill_between(g["alpha"], g["ci_lo"], g["ci_hi"], color=colors[d], alpha=0.2, lw=0)
            ref = 1.0 if kind == "sharpness" else real_confidence
            if ref is not None and np.isfinite(ref):
                ax.axhline(ref, color="0.4", lw=1, ls="--", label="real digits")
            ax.set_xlabel("a")
            ax.set_ylabel("Tenengrad: decode / real" if kind == "sharpness" else "classifier confidence")
            ax.set_title(f"({'ab'[j]}) " + ("sharpness" if kind == "sharpness" else "digit-likeness"))
            ax.legend(frameon=False)
        fig.tight_layout()
    return fig


# ------------------------------------------------------------------ the section's tables and figures, captioned

def text(data) -> str:
    return findings(data.usable(STAGE), data.rules.confidence, data.usable("reference"))


def run_figures(data):
    """[(saved interpolation figure, caption)] of the usable runs."""
    interp = data.usable(STAGE)
    return [(p, figure_caption(data, interp, p)) for p in profile.run_figures(data, STAGE, "interpolation_*.png")]


def measures(data):
    """(figure of the measures against a, caption), or (None, '') without curves."""
    curves, interp, c = profile.interpolation_curves(data), data.usable(STAGE), data.rules.confidence
    if curves.empty:
        return None, ""
    sharp = summarise(curves, ["latent_dim", "alpha"], "sharpness", confidence=c)
    measured = curves.dropna(subset=["confidence"])
    conf = summarise(measured, ["latent_dim", "alpha"], "confidence", confidence=c) if not measured.empty else None
    real = interp["input_confidence"].mean() if "input_confidence" in interp else None
    n = int(interp["n_image_pairs"].min()) if "n_image_pairs" in interp else 1
    return along_a(sharp, conf, real), (
        "Experiment 2's measures against a, by latent size d: (a) Tenengrad sharpness of the decode over that of "
        "the real digits, (1 − a)·T(first input) + a·T(second input) (dashed: as sharp as the real digits); "
        "(b) the reference classifier's top-class probability on the decode (dashed: on the real inputs). Lines: "
        f"mean over autoencoder seeds of each seed's mean over {curves['pair'].nunique()} digit pair(s) × "
        f"{n} image pair(s) (and num_conv); bands: {interval_words(c, list(sharp['n']))}.")


def measures_table(data):
    """(table of the measures per digit pair and d, caption)."""
    interp, c = data.usable(STAGE), data.rules.confidence
    if interp.empty:
        return pd.DataFrame(), ""
    t = table(interp, c)
    return t, ("Per digit pair and latent size d: end sharpness, the Tenengrad of the a = 0 and a = 1 decodes over "
               "that of the real digit each reconstructs (1 = as sharp); a≈0.5 confidence, the reference classifier's "
               "top-class probability on the decode nearest a = 0.5; and, secondary and not used by the verdicts, the "
               "pixel MSE of the end decodes against the inputs and the a = 0.5 decode's mean squared distance to its "
               "nearest training image (a proxy that rewards blur). Each seed's value is the mean over the digit "
               f"pair's image pairs; mean [interval] over seeds, {interval_words(c, list(t['seeds']))}.")


def choices(data) -> list[dict]:
    p = (((data.params.get("stages") or {}).get(STAGE)) or {}).get("params") or {}
    return [
        {"what": "interpolation images", "choice": f"{p.get('pairs_per_digit_pair', '?')} test image pairs per "
                                                   f"digit pair {p.get('pairs', '?')}, drawn by image_seed "
                                                   f"{p.get('image_seed', 0)}",
         "how it was made": "the original's digit pairs; the image pairs are drawn once and shared by every seed's "
                            "models, so the seeds differ by their models only",
         "on what data": "test images (measured, not tuned on)"},
        {"what": "'digit-like' and 'sharp'", "choice": "the reference CNN's top-class probability; Tenengrad "
                                                       "of the decode over the real digit's",
         "how it was made": "a classifier trained on the labelled training images; a ratio above 1 (ringing, "
                            "checkerboard artefacts) also counts as sharper",
         "on what data": "training images (the classifier), test images (measured)"}]


EXPERIMENT = Experiment(
    name=STAGE, stages=("reference", STAGE),
    claims={"sharper_ends": Claim("2", STAGE, verdict_sharper_ends),
            "mid_digit_like": Claim("2", STAGE, verdict_mid_digit_like)}, choices=choices)
