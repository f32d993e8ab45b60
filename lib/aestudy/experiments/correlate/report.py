"""Experiment 3, latent correlations: its claim (the off-diagonal correlation falls as d grows),
what the section says, its table, its figures (against d; heat-maps) and its panel of the page-1
figure."""

from __future__ import annotations

import math
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ...drawing import heatmap_keys
from ...report import section
from ...report.claims import Claim, Experiment, by_mean, trend_row
from ...report.figures import MIN_PT, WIDTH, Panel, ci_points, style, tick
from ...report.sentences import trend_with_intervals
from ...report.stats import CONFIDENCE, summarise
from ...report.tables import ci_columns
from ...report.text import count, fmt_pct, interval_words, whole
from ...report_params import ReportParams
from ..autoencode import outliers

STAGE = "correlate"
DEFAULT = ReportParams()


def verdict_correlation_falls(corr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    extra = (
        f"; with the diagonal (original's figure): {by_mean(corr, 'latent_dim', 'with_diag')}"
        if corr is not None and not corr.empty
        else ""
    )
    return trend_row(
        "3",
        "Latent correlation (mean |corr| off the diagonal) falls as d grows",
        corr,
        "latent_dim",
        "offdiag",
        "num_conv",
        -1,
        rules,
        "off-diagonal by d",
        "unit of d",
        extra=extra,
    )


ORIGINAL_IMAGES = 8000  # the original encoded 8,000 random training images (STUDY.md, experiment 3;
# the stage's default, `CorrelateParams.n_images`: tests/experiments/correlate pins that they agree)


def n_encoded(corr: pd.DataFrame):
    """The number of images each correlate model encoded ('n' when the table does not say)."""
    return int(corr["n_encoded"].iloc[0]) if not corr.empty and "n_encoded" in corr else "n"


def shown_count(n) -> str:
    """4,000 as the rest of the report writes counts; 'n' (unknown) as it is."""
    return f"{n:,}" if isinstance(n, int) else str(n)


def runs_text(corr: pd.DataFrame) -> str:
    """How many images each model encoded (the same seeded sample for every model)."""
    n = n_encoded(corr)
    original = f" (the original: {ORIGINAL_IMAGES:,})" if isinstance(n, int) and n != ORIGINAL_IMAGES else ""
    return (
        f"{shown_count(n)} training images{original} were encoded by each of {count(len(corr), 'model')} "
        f"({count(corr['seed'].nunique(), 'seed')})."
    )


def findings(corr: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    """The correlation by d, with and without the diagonal, and the constant latent dimensions."""
    if corr.empty:
        return ""
    off_text = trend_with_intervals(corr, "latent_dim", "offdiag", confidence)
    wd_text = trend_with_intervals(corr, "latent_dim", "with_diag", confidence)
    constant = int(corr["n_constant"].sum()) if "n_constant" in corr else 0
    return (
        f"Averaged over model sizes, the mean absolute off-diagonal correlation "
        f"{off_text}. "
        f"With the diagonal included (the original's figure) it {wd_text}. "
        "That figure equals (1 + (d − 1) · off-diagonal) / d, so it falls with d through the "
        "diagonal of ones alone, even when the off-diagonal correlation does not change."
        + (
            f" {count(constant, 'latent dimension')} {'was' if constant == 1 else 'were'} constant over the images; "
            "their correlations "
            "(undefined) are counted as 0."
            if constant
            else " No latent dimension was constant."
        )
        + effective_rank(corr, confidence)
    )


WHY = (
    "What the objective leaves open: an autoencoder trained on the mean squared error is judged only by its "
    "reconstructions, and any invertible linear remixing of the code (z → Az, undone by the decoder's first layer "
    "taking A⁻¹) leaves every reconstruction, so the loss, unchanged, while a suitable A changes every correlation "
    "between coordinates, and the participation ratio too (not every A does: a rescaling of the coordinates leaves "
    "every |correlation| as it is, a rotation the participation ratio). Neither is therefore fixed by training; both describe the "
    "coordinates this training happened to find (of what such a remixing keeps, the rank of the code's "
    "covariance, the number of directions it spans at all, is d unless a coordinate is constant or a combination "
    "of others, so it tells these codes apart little). Read as a description of these codes: the participation ratio of the latent covariance, "
    "(Σλ)² / Σλ² over its eigenvalues λ, says over how many directions the code's variance is spread in these "
    "coordinates (1: a single direction; d: all d equally); a code whose participation ratio stays flat while d "
    "grows puts its extra coordinates along directions already in use, which goes with a higher mean correlation "
    "between them. The original's reading, that spare dimensions let the code express digits independently, is "
    "a claim about these coordinates, not about what the objective asks for."
)


def effective_rank(corr: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    """The participation ratio (effective number of dimensions) per d with its interval, and why
    correlation is not fixed by the objective; '' for runs older than the measure."""
    if "participation_ratio" not in corr or corr["participation_ratio"].isna().all():
        return ""
    pr_text = trend_with_intervals(corr, "latent_dim", "participation_ratio", confidence)
    frac = (
        corr.groupby("latent_dim")["participation_fraction"].mean()
        if "participation_fraction" in corr
        else None
    )
    share = (
        "; as a share of d: " + ", ".join(f"d={whole(d)}: {fmt_pct(v, 0)}" for d, v in frac.items())
        if frac is not None
        else ""
    )
    return (
        f" The participation ratio of the latent covariance (the effective number of dimensions the code uses) "
        f"{pr_text}{share}. {WHY}"
    )


def table(corr: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per num_conv and d: mean |corr| off the diagonal and with it, mean [interval] over seeds,
    and the constant latent dimensions summed over seeds."""
    cols = {"off-diagonal": "offdiag", "with diagonal": "with_diag"}
    if "participation_ratio" in corr and corr["participation_ratio"].notna().any():
        cols["participation ratio"] = "participation_ratio"
    t = ci_columns(corr, ["num_conv", "latent_dim"], cols, confidence)
    return t.merge(
        corr.groupby(["num_conv", "latent_dim"], as_index=False)["n_constant"]
        .sum()
        .rename(columns={"latent_dim": "d", "n_constant": "constant dims"}),
        on=["num_conv", "d"],
    )


def by_d(offdiag: pd.DataFrame, with_diag: pd.DataFrame, participation: pd.DataFrame | None = None):
    """Mean |corr| off the diagonal (solid) and with it (dashed) against d, one colour per
    num_conv (summaries by [num_conv, latent_dim]); beside it, when given, the participation ratio
    against d with the line of a code that uses all d dimensions (dotted). One legend below."""
    pr = participation is not None and not participation.empty
    with style():
        fig, axes = plt.subplots(1, 2 if pr else 1, figsize=(WIDTH, 3.0), squeeze=False)
        ax = axes[0, 0]
        ncs = sorted(offdiag["num_conv"].unique())
        palette = dict(zip(ncs, sns.color_palette(n_colors=len(ncs))))
        order = [tick(d) for d in sorted(offdiag["latent_dim"].unique())]
        ci_points(ax, offdiag, "latent_dim", "num_conv", order=order, hue_order=ncs, palette=palette)
        ci_points(
            ax, with_diag, "latent_dim", "num_conv", order=order, hue_order=ncs, palette=palette, ls="--"
        )
        ax.set_ylabel("mean |corr|")
        ax.set_ylim(0, None)
        if pr:
            right = axes[0, 1]
            ci_points(
                right, participation, "latent_dim", "num_conv", order=order, hue_order=ncs, palette=palette
            )
            right.plot(range(len(order)), [float(d) for d in order], color="0.5", ls=":")
            right.set_ylabel("participation ratio")
            right.set_ylim(0, None)
            ax.set_title("(a) mean |correlation|")
            right.set_title("(b) effective number of dimensions")
        for a in axes[0]:
            a.set_xlabel("latent size d")
        handles = [
            plt.Line2D([], [], color=palette[nc], marker="o", label=f"num_conv={tick(nc)}") for nc in ncs
        ]
        handles += [
            plt.Line2D([], [], color="0.3", label="off-diagonal"),
            plt.Line2D([], [], color="0.3", ls="--", label="with diagonal (original)"),
        ]
        handles += [plt.Line2D([], [], color="0.5", ls=":", label="all d dimensions")] if pr else []
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4), frameon=False)
        fig.tight_layout(rect=(0, 0.16, 1, 1))
    return fig


def heatmaps(matrices: dict, titles: dict | None = None):
    """|corr| heat-maps of the latent dimensions: one row per d, one column per num_conv when the
    keys read '[stage/]d<d>-nc<num_conv>...' (a model named by its run: 'autoencode/d5-nc1-s0') and
    there are several num_conv (else one row, each title broken at its commas so that narrow
    columns' titles do not overlap), one shared colour bar."""
    keys = list(matrices)
    cells = {}
    for k in keys:
        m = re.search(r"(?:^|/)d(\d+)-nc(\d+)(?:-|$)", k)
        cells[k] = (int(m.group(1)), int(m.group(2))) if m else None
    if all(cells.values()) and len({nc for _, nc in cells.values()}) > 1:
        ds = sorted({d for d, _ in cells.values()})
        ncs = sorted({nc for _, nc in cells.values()})
        where = {k: (ds.index(d), ncs.index(nc)) for k, (d, nc) in cells.items()}
        nrows, ncols = len(ds), len(ncs)
    else:
        nrows, ncols = 1, len(keys)
        where = {k: (0, j) for j, k in enumerate(keys)}
    side = min(2.1, (WIDTH - 0.8) / max(ncols, 1))
    with style():
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(side * ncols + 0.8, side * nrows + 0.1), squeeze=False
        )
        image = None
        for k in keys:
            ax = axes[where[k]]
            m = np.abs(np.asarray(matrices[k], dtype=float))
            image = ax.imshow(m, vmin=0, vmax=1, cmap="rocket_r", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            title = (titles or {}).get(k) or k
            ax.set_title(title if nrows > 1 or ncols < 4 else title.replace(", ", "\n"), fontsize=MIN_PT)
        for ax in axes.flat:
            if not ax.images:
                ax.axis("off")
        fig.tight_layout(rect=(0, 0, (side * ncols) / (side * ncols + 0.8), 1))
        if image is not None:
            cax = fig.add_axes(
                [(side * ncols + 0.15) / (side * ncols + 0.8), 0.15, 0.12 / (side * ncols + 0.8), 0.7]
            )
            fig.colorbar(image, cax=cax, label="|correlation|")
    return fig


# ------------------------------------------------------------------ the section's tables and figures, captioned


def text(data) -> str:
    corr = data.usable(STAGE)
    return "" if corr.empty else runs_text(corr) + " " + findings(corr, data.rules.confidence)


def against_d(data):
    """(figure of the correlation against d, caption)."""
    corr, c = data.usable(STAGE), data.rules.confidence
    if corr.empty:
        return None, ""
    off = summarise(corr, ["num_conv", "latent_dim"], "offdiag", confidence=c)
    wd = summarise(corr, ["num_conv", "latent_dim"], "with_diag", confidence=c)
    has_pr = "participation_ratio" in corr and corr["participation_ratio"].notna().any()
    pr = summarise(corr, ["num_conv", "latent_dim"], "participation_ratio", confidence=c) if has_pr else None
    return by_d(off, wd, pr), (
        f"{'(a) ' if has_pr else ''}Mean absolute correlation between latent dimensions against d, over the "
        f"{shown_count(n_encoded(corr))} encoded training images of each model, one colour per num_conv: off the diagonal (solid) "
        "and with the diagonal of ones (dashed, the original's measure)"
        + (
            "; (b) the participation ratio of the latent covariance, the effective number of dimensions the code "
            "uses (dotted: all d)"
            if has_pr
            else ""
        )
        + f". Points: mean over seeds; bars: {interval_words(c, list(off['n']))}."
    )


def correlation_matrices(data) -> tuple[dict, dict]:
    """The matrices of the smallest and largest d (every num_conv) of the smallest autoencoder
    seed, from the correlate runs' metrics, and their titles."""
    corr = data.usable(STAGE)
    mats = {}
    for run_id in corr.get("run_id", pd.Series(dtype=str)).drop_duplicates():
        mats.update((data.run_metrics(STAGE, run_id) or {}).get("matrices") or {})
    keys = [k for k in heatmap_keys(corr) if k in mats]  # of the smallest seed, as the run's figure
    titles = {
        r.model: f"d={int(r.latent_dim)}, num_conv={int(r.num_conv)}"
        + (f", seed {int(r.seed)}" if pd.notna(getattr(r, "seed", None)) else "")
        for r in corr.itertuples(index=False)
        if r.model in keys
    }
    return {k: mats[k] for k in keys}, titles


def matrices(data):
    """(heat-map figure, caption) of one seed's matrices at the smallest and the largest d it has."""
    mats, titles = correlation_matrices(data)
    if not mats:
        return None, ""
    corr = data.usable(STAGE)
    ds = sorted({int(d) for d in corr.loc[corr["model"].isin(list(mats)), "latent_dim"]})
    return heatmaps(mats, titles), (
        "|correlation| between the latent dimensions of one seed's models (the smallest seed) at "
        f"{' and '.join(f'd={d}' for d in ds)}, over the {shown_count(n_encoded(corr))} encoded training images; 0 white, 1 dark."
        + worse_models_shown(data, list(mats))
    )


def worse_models_shown(data, shown: list[str]) -> str:
    """Said under the heat-maps where one of them is a model that trains clearly worse than its
    seed siblings (experiment 1 names it): one seed's panels would otherwise stand for every seed."""
    corr = data.usable(STAGE)
    odd = outliers.unusual_seeds(data.usable("autoencode"), data.rules.outlier_excess)
    if corr.empty or odd.empty or "offdiag" not in corr:
        return ""
    said = []
    for r in corr[corr["model"].isin(shown)].itertuples(index=False):
        cell = (corr["latent_dim"] == r.latent_dim) & (corr["num_conv"] == r.num_conv)
        hit = (odd["latent_dim"] == r.latent_dim) & (odd["num_conv"] == r.num_conv) & (odd["seed"] == r.seed)
        if hit.any():
            siblings = corr.loc[cell & (corr["seed"] != r.seed), "offdiag"]
            said.append(
                f" The panel d={int(r.latent_dim)}, num_conv={int(r.num_conv)}, seed {int(r.seed)} is a model that "
                "trains clearly worse than its seed siblings (experiment 1): its mean |correlation| off the "
                f"diagonal is {r.offdiag:.3f}"
                + (f", its siblings' {siblings.mean():.3f}." if siblings.notna().any() else ".")
            )
    return "".join(said)


def correlation_table(data):
    """(table by num_conv and d, caption)."""
    corr, c = data.usable(STAGE), data.rules.confidence
    if corr.empty:
        return pd.DataFrame(), ""
    t = table(corr, c)
    return t, (
        "Mean absolute latent correlation by num_conv and d, off the diagonal and with it, beside the "
        "participation ratio of the latent covariance (the effective number of dimensions the code uses, "
        f"between 1 and d): mean [interval] over seeds, {interval_words(c, list(t['seeds']))}; constant dims: "
        "latent dimensions constant over the images (their correlation counts as 0), summed over seeds."
    )


def overview(data) -> Panel | None:
    corr = data.usable(STAGE)
    if corr.empty:
        return None
    off = summarise(corr, ["latent_dim"], "offdiag", confidence=data.rules.confidence)
    wd = summarise(corr, ["latent_dim"], "with_diag", confidence=data.rules.confidence)

    def draw(ax):
        order = [tick(d) for d in sorted(off["latent_dim"].unique())]
        ci_points(ax, off, "latent_dim", None, order=order, palette={None: "tab:purple"})
        ci_points(ax, wd, "latent_dim", None, order=order, palette={None: "0.5"}, ls="--")
        ax.legend(
            handles=[
                plt.Line2D([], [], color="tab:purple", marker="o", label="off-diagonal"),
                plt.Line2D([], [], color="0.5", marker="o", ls="--", label="with diagonal"),
            ],
            loc="best",
            frameon=False,
        )
        ax.set_ylim(0, None)

    return Panel(
        "latent correlation",
        "mean |corr|",
        draw,
        "mean |correlation| of the latent dimensions off the diagonal (solid) and with it (dashed)",
    )


def against_original(n: int) -> str:
    """How `n` encoded images stand against the original's 8,000, as a clause ('' when equal)."""
    if n == ORIGINAL_IMAGES:
        return ""
    if n < ORIGINAL_IMAGES:
        return f", fewer than the original's {ORIGINAL_IMAGES:,} (the profile's budget)"
    return f", more than the original's {ORIGINAL_IMAGES:,}"


def choices(data) -> list[dict]:
    """Which images are encoded, and how many against the original's: the number the runs
    encoded (a request beyond the training images encodes all of them), else the file's."""
    p = data.declared(STAGE, "params")
    n = n_encoded(data.usable(STAGE))
    if not isinstance(n, int):
        n = p.get("n_images", ORIGINAL_IMAGES)
    return [
        {
            "what": "images encoded",
            "choice": f"{n:,} of the autoencoders' own training images{against_original(n)}"
            if isinstance(n, int)
            else str(n),
            "how it was made": "training images as in the original: the code's correlations are a property of the code "
            "on the data it was fitted to; no label or score is involved",
            "on what data": "training images (a model's own, by design)",
        }
    ]


NARRATIVE = """
Each model encodes the same seeded training images (those the autoencoders trained on, as in the
original); the mean absolute Pearson correlation between latent dimensions is taken off the
diagonal and, as in the original, with it. Beside it stands the participation ratio of the latent
covariance: over how many directions the code's variance is spread. Both describe the coordinates
that training found; neither is fixed by the objective (the section says why).
"""


EXPERIMENT = Experiment(
    name=STAGE,
    order=3,
    stages=(STAGE,),
    ranges={  # mean |correlation|s; the participation ratio lies between 1 and d, its share of d up to 1
        "offdiag": (0.0, 1.0),
        "with_diag": (0.0, 1.0),
        "participation_ratio": lambda group: (1.0, float(group.get("latent_dim", math.inf))),
        "participation_fraction": (0.0, 1.0),
    },
    claims={"correlation_falls": Claim("3", STAGE, verdict_correlation_falls)},
    overview=overview,
    choices=choices,
    title="Experiment 3: latent correlations",
    narrative=NARRATIVE,
    text=text,
    sections=(
        section.figure(against_d, "correlation.png"),
        section.figure(matrices, "correlation_heatmaps.png"),
        section.table(correlation_table),
    ),
)
