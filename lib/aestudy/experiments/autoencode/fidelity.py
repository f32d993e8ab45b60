"""Experiment 1's fidelity: have the autoencoders learned? Each (d, num_conv) cell's mean test error
beside two yardsticks the autoencode runs measure on their own training and test images: PCA with
the same d (the optimal linear autoencoder of that size) and the training mean image (the floor of
floors); and how far training had converged (the last epoch's relative change of the validation
error, on held-out training images) and the encoder's dead hidden units. The table of experiment 1,
the yardsticks drawn in its figures and the page-1 line are made here.

Every yardstick is optional: a profile whose runs do not record it (older runs, a smoke profile)
gets tables, figures and sentences without it, never an error."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...report.stats import CONFIDENCE, SEED, summarise
from ...report.tables import ci_cells
from ...report.text import fmt, listing

ERROR = "final_test_error"
PCA = "pca_test_error"  # test MSE of PCA with latent_dim components, fitted on the run's training images
MEAN_IMAGE = "mean_image_test_error"  # test MSE of predicting every test image by the training mean image
VAL_CHANGE = "val_change"  # v[-1] / v[-2] - 1 of the validation error (held-out training images)
DEAD = "dead_encoder_hidden"  # fraction of the encoder's hidden ReLU units that are dead
CELL = ["latent_dim", "num_conv"]
PCA_LINE, MEAN_LINE = (
    "-.",
    (0, (1, 1.5)),
)  # how the yardsticks are drawn (the transfer baselines are grey -- and :)


def has(ae: pd.DataFrame, column: str) -> bool:
    """Whether the runs recorded `column` (in at least one usable run)."""
    return column in ae and pd.to_numeric(ae[column], errors="coerce").notna().any()


def _mean(ae: pd.DataFrame, column: str) -> pd.Series:
    """Mean of `column` per cell (nan where not recorded): a mean over seeds of each seed's value."""
    if column not in ae:
        return pd.Series(np.nan, index=pd.MultiIndex.from_frame(ae[CELL].drop_duplicates()), dtype=float)
    v = ae[CELL + [SEED]].assign(v=pd.to_numeric(ae[column], errors="coerce"))
    return v.groupby(CELL + [SEED])["v"].mean().groupby(level=CELL).mean()


def cells(ae: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per (d, num_conv): the autoencoders' mean test error with its interval over seeds
    (mean, ci_lo, ci_hi, n), PCA-d's test error (`pca`), their ratio (`ratio`, autoencoders over
    PCA), the mean over seeds of the last epoch's change of validation error (`val_change`) and of
    the dead hidden-unit fraction (`dead`); nan where the runs did not record it."""
    cols = CELL + ["mean", "ci_lo", "ci_hi", "n", "pca", "ratio", "val_change", "dead"]
    if ae is None or ae.empty:
        return pd.DataFrame(columns=cols)
    s = summarise(ae, CELL, ERROR, confidence=confidence).set_index(CELL)
    for name, column in (("pca", PCA), ("val_change", VAL_CHANGE), ("dead", DEAD)):
        s[name] = _mean(ae, column).reindex(s.index)
    s["ratio"] = s["mean"] / s["pca"]
    return s.reset_index()[cols]


def mean_image_error(ae: pd.DataFrame) -> float:
    """The mean image's test error (one number: every run predicts by the same training mean)."""
    return (
        float(pd.to_numeric(ae[MEAN_IMAGE], errors="coerce").mean()) if has(ae, MEAN_IMAGE) else float("nan")
    )


def recorded(ae: pd.DataFrame, pca_words: str, mean_image_words: str) -> list[str]:
    """The words of the yardsticks the runs recorded (PCA-d, the mean image), for a caption."""
    return [w for k, w in ((PCA, pca_words), (MEAN_IMAGE, mean_image_words)) if has(ae, k)]


def pca_by_d(ae: pd.DataFrame) -> pd.Series:
    """PCA-d's test error by d (empty when not recorded)."""
    if not has(ae, PCA):
        return pd.Series(dtype=float)
    return pd.to_numeric(ae[PCA], errors="coerce").groupby(ae["latent_dim"].astype(int)).mean().dropna()


def not_learned(c: pd.DataFrame) -> pd.DataFrame:
    """The cells whose mean test error is not below PCA's with the same d."""
    return c[c["pca"].notna() & (c["mean"] >= c["pca"])]


def cell_words(c: pd.DataFrame, grid: pd.DataFrame | None = None) -> str:
    """'d=5 with num_conv 1; d=20 with num_conv 1, 2 and 3' for the cells of `c`; with the grid's
    cells, a d missing at every num_conv of the grid is 'd=20 with every num_conv'."""
    every, out = [], []
    for d, g in c.groupby("latent_dim", sort=True):
        ncs = sorted(int(v) for v in g["num_conv"])
        if (
            grid is not None
            and len(ncs) > 1
            and set(ncs) == set(grid.loc[grid["latent_dim"] == d, "num_conv"].astype(int))
        ):
            every.append(str(int(d)))
        else:
            out.append(f"d={int(d)} with num_conv " + listing([str(v) for v in ncs]))
    return "; ".join(([f"d={listing(every)} with every num_conv"] if every else []) + out)


def where(k: pd.DataFrame, c: pd.DataFrame) -> str:
    """'in 3 of 12 cells (d=5 with num_conv 1; ...)', or 'in all 12 cells' ('in the one cell', 'in both cells')."""
    if len(k) == len(c):
        return {1: "in the one cell", 2: "in both cells"}.get(len(c), f"in all {len(c)} cells")
    return f"in {len(k)} of {len(c)} cell{'s' if len(c) != 1 else ''} ({cell_words(k, c)})"


def _rel(x: float) -> str:
    """A relative change with one decimal: -0.021 -> '-2.1 %'."""
    return f"{100 * x:+.1f} %" if x is not None and math.isfinite(x) else "n/a"


def _against_floor(worse: pd.DataFrame, floor: float) -> str:
    """'0.0655' where the cells' errors print as the mean image's, else '0.0922 against its 0.0655'
    (the cells' range): "no better than" hid an error 41 % above it."""
    lo, hi = fmt(worse["mean"].min()), fmt(worse["mean"].max())
    mine = lo if lo == hi else f"{lo}-{hi}"
    return fmt(floor) if mine == fmt(floor) else f"{mine} against its {fmt(floor)}"


def _ratios(c: pd.DataFrame) -> str:
    r = c["ratio"].dropna()
    lo, hi = float(r.min()), float(r.max())
    return f"{lo:.2f}x" if f"{lo:.2f}" == f"{hi:.2f}" else f"{lo:.2f}-{hi:.2f}x"


CONVERGED_WITHIN = 0.01  # a last epoch that lowers the validation error by less than 1 % is read as
# converged at this budget: one more epoch would move the error less than the seeds' spread does (the
# default's cells spread by several % over seeds); a larger fall says the networks are still learning


def no_change_why(ae: pd.DataFrame) -> str:
    """Why the runs measured no change of validation error over the last epoch: 'it needs two
    epochs (these runs trained one)', or 'it needs validation images (these runs held none out)'."""
    epochs = pd.to_numeric(ae.get("epochs", pd.Series(dtype=float)), errors="coerce").dropna()
    held = pd.to_numeric(ae.get("val_size", pd.Series(dtype=float)), errors="coerce").dropna()
    if not held.empty and (held <= 0).all() and not (epochs <= 1).all():
        return "it needs validation images (these runs held none out: val_size 0)"
    return "it needs two epochs (these runs trained one)"


def convergence(ae: pd.DataFrame) -> str:
    """'the last epoch changed validation error by -2.1 % (median over 60 models): still falling,
    these networks have not converged at this budget', or why it cannot say."""
    if VAL_CHANGE not in ae:
        return ""
    v = pd.to_numeric(ae[VAL_CHANGE], errors="coerce").dropna()
    if v.empty:
        return f"the last epoch's change of validation error is not measured: {no_change_why(ae)}"
    median = float(v.median())
    said = (
        f"the last epoch changed validation error by {_rel(median)} "
        f"(median over {len(v)} model{'s' if len(v) != 1 else ''})"
    )
    if median < -CONVERGED_WITHIN:
        said += ": still falling, so these networks have not converged at this budget"
    return said


def not_learned_warning(ae: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    """Page 1's warning, above every verdict, where autoencoders do not beat PCA with the same d:
    the study's rule is that verdicts about networks are worth printing only for networks that have
    learned, so a reader must meet this before the verdict table. '' where every cell beats PCA
    (or PCA was not recorded)."""
    if ae is None or ae.empty or not has(ae, PCA):
        return ""
    c = cells(ae, confidence)
    miss, measured = not_learned(c), c[c["pca"].notna()]
    if miss.empty:
        return ""
    return (
        f"**Networks that have not learned:** {where(miss, measured)} the autoencoders' mean test error is not "
        f"below that of PCA with the same d (at {_ratios(miss)} PCA's error). The verdicts below measure networks that "
        "have not learned at this profile's budget, so they do not test the original's conclusions; a larger "
        "budget (more training images or epochs) is needed for that."
    )


def models_above(ae: pd.DataFrame) -> str:
    """' (cell means; 47 of the 48 models one by one)' where some model does not beat PCA with its d
    although its cell's mean does; '' where every model does (or PCA was not recorded)."""
    if PCA not in ae:
        return ""
    both = ae[[PCA, "final_test_error"]].apply(pd.to_numeric, errors="coerce").dropna()
    below = int((both["final_test_error"] < both[PCA]).sum())
    return f" (cell means; {below} of the {len(both)} models one by one)" if below < len(both) else ""


def fidelity_line(ae: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    """Page 1's line on whether the networks have learned, from the runs: the autoencoders' error
    over PCA's with the same d (range over cells), the cells that do not beat PCA (named, with what
    that means for the verdicts) or the mean image, and the last epoch's change of validation error.
    '' when the runs recorded none of it."""
    if ae is None or ae.empty:
        return ""
    c = cells(ae, confidence)
    parts = []
    if c["pca"].notna().any():
        miss, measured = not_learned(c), c[c["pca"].notna()]
        if miss.empty:
            parts.append(
                f"autoencoders at {_ratios(c)} PCA's test error with the same d {where(measured, measured)}"
                + models_above(ae)
            )
        else:
            parts.append(
                f"autoencoders at {_ratios(c)} PCA's test error with the same d; **{where(miss, measured)} "
                "the autoencoders do not beat PCA with the same d: their verdicts measure networks that have "
                "not learned**"
            )
    floor = mean_image_error(ae)
    if math.isfinite(floor):
        worse = c[c["mean"] >= floor]
        if not worse.empty:
            parts.append(
                f"{where(worse, c)} they are no better than the mean image ({_against_floor(worse, floor)})"
            )
    conv = convergence(ae)
    if conv:
        parts.append(conv)
    return ("**Fidelity:** " + "; ".join(parts) + ".") if parts else ""


def table(ae: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Experiment 1's table: one row per (d, num_conv), the autoencoders' mean [interval] over seeds,
    then each yardstick the runs recorded: PCA-d, the ratio, the last epoch's change of validation
    error and the dead hidden units (means over seeds)."""
    c = cells(ae, confidence)
    if c.empty:
        return pd.DataFrame()
    out = pd.DataFrame(
        {
            "d": c["latent_dim"].astype(int),
            "num_conv": c["num_conv"].astype(int),
            "autoencoders": ci_cells(c, pct=False),
        }
    )
    if c["pca"].notna().any():
        out["PCA-d"] = [fmt(v) for v in c["pca"]]
        out["autoencoders / PCA"] = [f"{v:.2f}" if math.isfinite(v) else "n/a" for v in c["ratio"]]
    if c["val_change"].notna().any():
        out["last epoch: validation error"] = [_rel(v) for v in c["val_change"]]
    if c["dead"].notna().any():
        out["dead encoder units"] = [f"{100 * v:.0f} %" if math.isfinite(v) else "n/a" for v in c["dead"]]
    out["seeds"] = c["n"].astype(int).tolist()
    return out


def caption(ae: pd.DataFrame, interval: str) -> str:
    """The table's caption: what each column is (only those shown), the mean image's error once."""
    words = [
        f"Final test reconstruction error (MSE per pixel) by latent size d and num_conv: the autoencoders' mean "
        f"[interval] over seeds, {interval}."
    ]
    if has(ae, PCA):
        words.append(
            "PCA-d: the test error of PCA with d components fitted on the same training images (the optimal "
            "linear autoencoder of that size); autoencoders / PCA: their ratio (below 1: the network beats it)."
        )
    floor = mean_image_error(ae)
    if math.isfinite(floor):
        words.append(f"Predicting every test image by the training mean image gives {fmt(floor)}.")
    if has(ae, VAL_CHANGE):
        words.append(
            "Last epoch: the relative change of the validation error (held-out training images, never the "
            "test set) over the last epoch, mean over seeds (near 0: converged at this budget)."
        )
    elif VAL_CHANGE in ae:
        words.append(
            f"The change of validation error over the last epoch is not measured: {no_change_why(ae)}."
        )
    if has(ae, DEAD):
        words.append(
            "Dead encoder units: the fraction of the ReLU units of the encoder's fully connected hidden layer that are zero on every "
            "monitored test image, mean over seeds."
        )
    return " ".join(words)


# ------------------------------------------------------------------ the yardsticks in a figure


def draw_pca_by_d(ax, ae: pd.DataFrame, x_of, label: str = "PCA-d") -> bool:
    """PCA-d's error at each d: a marker per d at x_of(d), joined by a dashed line. False when the
    runs did not record it."""
    p = pca_by_d(ae)
    if p.empty:
        return False
    ax.plot(
        [x_of(d) for d in p.index],
        p.values,
        ls=PCA_LINE,
        color="black",
        lw=1,
        marker="x",
        ms=5,
        label=label,
        zorder=3,
    )
    return True


def draw_pca_levels(ax, ae: pd.DataFrame, colors: dict) -> bool:
    """PCA-d's error as a horizontal dashed line per d, in that d's colour (`colors[d]`), for a
    figure whose x-axis is not d (the epochs). False when not recorded."""
    p = pca_by_d(ae)
    for d, v in p.items():
        ax.axhline(v, color=colors.get(int(d), "black"), ls=PCA_LINE, lw=1, zorder=1)
    if not p.empty:
        ax.plot([], [], color="black", ls=PCA_LINE, lw=1, label="PCA-d")  # one legend entry for them all
    return not p.empty


def draw_mean_image(ax, ae: pd.DataFrame, label: str = "mean image") -> bool:
    """The mean image's error as a horizontal dotted line. False when not recorded."""
    floor = mean_image_error(ae)
    if not math.isfinite(floor):
        return False
    ax.axhline(floor, color="black", ls=MEAN_LINE, lw=1, label=label, zorder=1)
    return True
