"""The report's sentences that depend on this run's numbers: the title, the abstract of page 1,
warnings about failed or skipped runs, what each experiment ran, what its results say, and the
captions that name a figure's runs. (The fixed text of the report lives in the markdown cells of
notebooks/analyses.ipynb.)"""
from __future__ import annotations

import datetime
import re

import numpy as np
import pandas as pd

from .. import config
from .profile import ProfileData
from .semisup import headline as semisup_headline
from .stats import CONFIDENCE, summarise
from .decide import CONTRADICTED, INCONCLUSIVE, SUPPORTED
from ..science.names import MODES as MODE_ORDER
from .text import SEEDS, fmt, fmt_ci, fmt_pct, interval_words, plain, whole
from .verdicts import CHANCE, KEY

DEFAULT_TITLE = "Convolutional autoencoders on {dataset}: latent size, interpolation, latent correlations and transfer with {labels} labels"
DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
BASELINE_LABELS = {"logreg": "logistic regression", "1nn": "1-nearest-neighbour"}


def title_markdown(data: ProfileData, date: str | None = None) -> str:
    date = date or datetime.date.today().isoformat()
    name = DATASET_NAMES.get(data.dataset, data.dataset)
    counts: dict = {}
    for r in data.runs:
        counts[r.get("status", "?")] = counts.get(r.get("status", "?"), 0) + 1
    status = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no runs.json"
    tr = data.usable("transfer")
    labels = int(tr["n_labels"].iloc[0]) if "n_labels" in tr and not tr.empty else 100   # the study's 100 when none ran
    return (f"# {DEFAULT_TITLE.format(dataset=name, labels=labels)}\n\n"
            f"Rendered {date} from profile **{data.profile}** (`{config.relative(data.dir)}`); runs of the last sweep: {status}.")


# ------------------------------------------------------------------ page 1

def _claim_words(conclusion: str) -> str:
    """A conclusion inside a sentence: without its parentheses, first letter lowered unless it
    is a symbol ('Larger d is better (transfer accuracy)' -> 'larger d is better')."""
    c = re.sub(r"\s*\([^()]*\)", "", str(conclusion)).strip()
    return c[0].lower() + c[1:] if len(c) > 1 and c[1].islower() else c


def _claims(rows: pd.DataFrame, numbers: bool = True) -> str:
    """'claim (key number); claim (key number)' for the rows of a verdict table."""
    return "; ".join(_claim_words(r["conclusion"])
                     + (f" ({r[KEY]})" if numbers and r.get(KEY, "n/a") != "n/a" else "") for _, r in rows.iterrows())


HEADLINES = (("error_falls_with_d", "test reconstruction error {key}"),
             ("larger_d_better", "transfer accuracy{labels} {key}"),
             ("pretraining_beats_scratch", "pre-training vs scratch {key}"),
             ("pretraining_beats_control", "pre-training vs the augmented control {key}"),
             ("beats_baselines", "pre-training {key}"))


def abstract_markdown(data: ProfileData, v: pd.DataFrame) -> str:
    """The report's first paragraph, from the verdict table `v` (verdicts.verdicts(data)): how
    many conclusions this run supports, contradicts and leaves open, what the contradicted ones
    show instead and the study's key effect sizes (the key numbers of HEADLINES). Table 1, below
    it, lists every conclusion."""
    ae = data.usable("autoencode")
    n, added = len(v), int(v["experiment"].astype(str).str.endswith("+").sum())
    counts = v["verdict"].value_counts()
    seeds = ae["seed"].nunique() if not ae.empty else 0
    over = f"{100 * data.rules.confidence:g} % t-intervals over {seeds} autoencoder seed{'s' if seeds != 1 else ''}"
    out = [f"Of the {n} conclusions tested ({n - added} of the original study, {added} added here), this run "
           f"supports **{counts.get(SUPPORTED, 0)}**, contradicts **{counts.get(CONTRADICTED, 0)}** and leaves "
           f"**{counts.get(INCONCLUSIVE, 0)}** inconclusive ({over}"
           + (f"; {len(ae)} autoencoders" if not ae.empty else "; no completed autoencoder run") + ")."]
    con = v[v["verdict"] == CONTRADICTED]
    if not con.empty:
        out.append(f"Contradicted: {_claims(con)}.")
    tr = data.usable("transfer")
    labels = f" with {int(tr['n_labels'].iloc[0])} labels" if "n_labels" in tr and not tr.empty else ""
    keys = [words.format(key=v.at[claim, KEY], labels=labels) for claim, words in HEADLINES
            if claim in v.index and v.at[claim, KEY] not in ("", "n/a")]
    if keys:
        out.append("Key effects: " + "; ".join(keys) + ".")
    out.append(semisup_headline(data.usable("semisup"), data.rules.confidence))
    return "**Abstract.** " + " ".join(o for o in out if o)


def overview_caption(ae: pd.DataFrame, corr: pd.DataFrame, summaries: dict, confidence: float = CONFIDENCE) -> str:
    """The caption of the page-1 figure (figures.overview_by_d): its panels, what they average and
    the n of their intervals."""
    parts, letters = [], iter("abc")
    if not ae.empty:
        parts.append(f"({next(letters)}) test reconstruction error (MSE per pixel)")
    if not corr.empty:
        parts.append(f"({next(letters)}) mean |correlation| of the latent dimensions off the diagonal (solid) "
                     "and with it (dashed)")
    if summaries:
        labels = summaries["clf"]["n_labels"].iloc[0] if "n_labels" in summaries["clf"] else None
        parts.append(f"({next(letters)}) test accuracy{f' with {int(labels)} labels' if labels else ''}, "
                     "baselines grey")
    seeds = [df["seed"].nunique() for df in (ae, corr) if not df.empty and "seed" in df]
    n = interval_words(confidence, seeds or [0], SEEDS)
    return ("Against the latent size d: " + "; ".join(parts) + ". Means over num_conv"
            + (" (and h1)" if summaries else "") + f"; bars: {n}"
            + ".")


def reconstruction_caption(images: list[tuple[str, object]]) -> str:
    """One caption for the reconstructions shown (profile.reconstruction_images): which runs,
    top to bottom."""
    words = [re.sub(r"^Run ", "run ", c.rstrip(".").replace(": test inputs on top, reconstructions below", ""))
             for c, _ in images]
    where = ("top: " + words[0] + "; bottom: " + words[1]) if len(words) == 2 else "; ".join(words)
    return ("Test inputs (upper row of each image) and their reconstructions (lower row) by one autoencoder "
            f"(one seed) at the smallest and the largest d, {where}.")


def interpolation_caption(data: ProfileData, interp: pd.DataFrame, path) -> str:
    """The caption of one saved interpolation figure (interpolation_<a>-<b>.png of a run)."""
    pair = path.stem.replace("interpolation_", "")
    a, _, b = pair.partition("-")
    alphas = (data.run_metrics("interpolate", path.parent.name) or {}).get("alphas") or []
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


def n_encoded(corr: pd.DataFrame):
    """The number of images each correlate model encoded ('n' when the table does not say)."""
    return int(corr["n_encoded"].iloc[0]) if not corr.empty and "n_encoded" in corr else "n"


def status_markdown(data: ProfileData, stage: str) -> str:
    """Visible warnings for failed / skipped runs of a stage (empty string when all are fine),
    or a note that the stage has no usable run."""
    lines = []
    for r in data.problems(stage).itertuples(index=False):
        err = str(r.error) if isinstance(r.error, str) and r.error else "no error recorded"
        lines.append(f"> **Warning: {stage} run `{r.run_id}` {r.status}**: {plain(err)}")
    if lines:
        lines.append("> The analyses of this section use the completed runs only.")
    if data.usable(stage).empty:
        lines.append(f"> **No usable {stage} runs in this profile** (stage not run, or every run "
                     "failed): this section has nothing to show.")
    return "\n>\n".join(lines) if lines else ""


def describe_trend(values: pd.Series, unit: str = "", f=fmt) -> str:
    """A predicate: 'goes from A at <unit>x0 to B at <unit>x1 and falls at every step'."""
    if len(values) < 2:
        return f"is {f(values.iloc[0]) if len(values) else 'n/a'} (one value only)"
    first, last = values.iloc[0], values.iloc[-1]
    diffs = np.diff(values.to_numpy(float))
    shape = ("falls at every step" if np.all(diffs < 0) else "rises at every step" if np.all(diffs > 0)
             else "does not change monotonically")
    return (f"goes from {f(first)} at {unit}{whole(values.index[0])} to {f(last)} at "
            f"{unit}{whole(values.index[-1])} and {shape}")


def _ci(row, confidence: float) -> dict:
    """A summarise() row as the interval dict of fmt_ci."""
    return {"mean": row["mean"], "lo": row["ci_lo"], "hi": row["ci_hi"], "n": int(row["n"]), "confidence": confidence}


def means_with_intervals(df: pd.DataFrame, by: str, value: str, confidence: float = CONFIDENCE, f=fmt,
                         label: str | None = None) -> tuple[pd.Series, str]:
    """(means by `by`, 'd=5: 0.03 [0.029, 0.031], d=10: ... (95 % t-interval over 3 autoencoder
    seeds)'): each seed's mean over the other factors first, then the interval over seeds."""
    s = summarise(df, by, value, confidence=confidence)
    label = label or {"latent_dim": "d"}.get(by, by)
    text = ", ".join(f"{label}={whole(r[by])}: {fmt_ci(_ci(r, confidence), f=f)}" for _, r in s.iterrows())
    return s.set_index(by)["mean"], f"{text} ({interval_words(confidence, s['n'], SEEDS)})"


# ------------------------------------------------------------------ experiment 1

def autoencode_runs(ae: pd.DataFrame) -> str:
    """What was trained: the grid, the seeds, the epochs and the training set size."""
    epochs = sorted(set(ae["epochs"].astype(int).tolist())) if "epochs" in ae else []
    return (f"{len(ae)} autoencoders: d in {sorted(set(ae['latent_dim'].astype(int).tolist()))} x num_conv in "
            f"{sorted(set(ae['num_conv'].astype(int).tolist()))} x {ae['seed'].nunique()} seeds, trained for "
            f"{', '.join(map(str, epochs))} epoch(s)"
            + (f" on {int(ae['train_size'].iloc[0])} training images"
               if "train_size" in ae and ae["train_size"].notna().all() else "")
            + ".")


def interpret_autoencode(ae: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    if ae.empty:
        return ""
    by_d, d_text = means_with_intervals(ae, "latent_dim", "final_test_error", confidence)
    by_nc, nc_text = means_with_intervals(ae, "num_conv", "final_test_error", confidence)
    cell = summarise(ae, ["latent_dim", "num_conv"], "final_test_error", confidence=confidence)
    best = cell.loc[cell["mean"].idxmin()]
    return (f"Averaged over model sizes, the final test error {describe_trend(by_d, 'd=')}: {d_text}. "
            f"Averaged over d, it {describe_trend(by_nc, 'num_conv=')}: {nc_text}. "
            f"The lowest mean error, {fmt_ci(_ci(best, confidence), unit=SEEDS)}, is at "
            f"d={int(best['latent_dim'])}, num_conv={int(best['num_conv'])}.")


# ------------------------------------------------------------------ experiment 2

def reference_text(ref: pd.DataFrame | None) -> str:
    """'a small CNN trained on 8000 training images, 96.3 % test accuracy' (the reference run)."""
    if ref is None or ref.empty or "test_accuracy" not in ref:
        return "a small CNN trained on the labelled training images"
    r = ref.iloc[0]
    return (f"a small CNN trained on {int(r['n_train'])} labelled training images for {int(r['epochs'])} epoch(s), "
            f"{fmt_pct(r['test_accuracy'])} accuracy on {int(r['n_test'])} test images")


def interpret_interpolation(interp: pd.DataFrame, confidence: float = CONFIDENCE, ref: pd.DataFrame | None = None) -> str:
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


# ------------------------------------------------------------------ experiment 3

def correlate_runs(corr: pd.DataFrame) -> str:
    """How many images each model encoded (the same seeded sample for every model)."""
    n_img = int(corr["n_encoded"].iloc[0]) if "n_encoded" in corr else "n"
    return f"{n_img} images were encoded by each of {len(corr)} models ({corr['seed'].nunique()} seeds)."


def interpret_correlation(corr: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    """The correlation by d, with and without the diagonal, and the constant latent dimensions."""
    if corr.empty:
        return ""
    off, off_text = means_with_intervals(corr, "latent_dim", "offdiag", confidence)
    wd, wd_text = means_with_intervals(corr, "latent_dim", "with_diag", confidence)
    constant = int(corr["n_constant"].sum()) if "n_constant" in corr else 0
    return (f"Averaged over model sizes, the mean absolute off-diagonal correlation "
            f"{describe_trend(off, 'd=')}: {off_text}. "
            f"With the diagonal included (the original's figure) it {describe_trend(wd, 'd=')}: {wd_text}. "
            "That figure equals (1 + (d − 1) · off-diagonal) / d, so it falls with d through the "
            "diagonal of ones alone, even when the off-diagonal correlation does not change."
            + (f" {constant} latent dimension(s) were constant over the images; their correlations "
               "(undefined) are counted as 0." if constant else " No latent dimension was constant."))


# ------------------------------------------------------------------ experiment 4

def transfer_runs(tr: pd.DataFrame, clf: pd.DataFrame) -> str:
    """What was trained: encoders, MLP widths, label draws, protocols and the test set."""
    nc = sorted(set(clf["num_conv"].astype(int).tolist())) if "num_conv" in clf else "?"
    n_enc = len(clf[["num_conv", "latent_dim", "seed"]].drop_duplicates())
    return (f"{n_enc} encoders of experiment 1 ({clf['seed'].nunique()} autoencoder seeds) with num_conv = "
            f"{', '.join(map(str, nc))} and d in {sorted(set(clf['latent_dim'].tolist()))}; MLP widths h1 in "
            f"{sorted(set(clf['h1'].tolist()))}; modes {', '.join(m for m in MODE_ORDER if m in set(clf['mode']))}; "
            f"{len(clf['label_seed'].unique())} label draw(s) of {int(tr['n_labels'].iloc[0])} labelled images "
            "per encoder, drawn from its autoencoder seed (the encoders of one seed share their draws); "
            "each mode trained by the protocol chosen for it by cross-validation on labelled images "
            f"(the last two tables of this section); accuracy on {int(tr['n_test'].iloc[0]):,} test images, read once.")


def transfer_interval_words(summary: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    """Level, unit and n of a transfer summary's intervals: autoencoder seeds (encoder-level means)."""
    return interval_words(confidence, summary["n"], SEEDS) + " (encoder-level means)"


def interpret_transfer(s: dict, confidence: float = CONFIDENCE) -> str:
    """The accuracy by mode, the baselines and the best configuration (`s`: transfer_summaries)."""
    if not s:
        return ""
    by_mode = s["by_mode"].sort_values("mode", key=lambda c: c.map(
        lambda m: MODE_ORDER.index(m) if m in MODE_ORDER else len(MODE_ORDER)))
    parts = [f"{r['mode']} {fmt_ci(_ci(r, confidence), pct=True)}" for _, r in by_mode.iterrows()]
    text = (f"Mean test accuracy (over d and h1), {transfer_interval_words(s['by_mode'], confidence)}: "
            f"{'; '.join(parts)}. The intervals are taken over encoder-level means: each encoder's label "
            "draws are averaged first, then the interval is over the autoencoder seeds. Each seed's "
            "encoders get their own label draws (derived from the seed), so the interval carries the "
            "variation between encoders and between draws. The modes trained from a random "
            "initialisation (scratch, augmented) use no pre-trained weights; they are paired with the "
            "encoder slot (d, seed) whose label draw they share.")
    if not s["baselines"].empty:
        text += " " + baselines_markdown(s["baselines"], confidence) + "."
    cell = s["by_cell"].loc[s["by_cell"]["mean"].idxmax()]
    unit = SEEDS
    return text + (f" The best configuration is d={int(cell['latent_dim'])}, {cell['mode']}, h1={int(cell['h1'])} "
                   f"at {fmt_ci(_ci(cell, confidence), pct=True, unit=unit)}. Chance is {fmt_pct(CHANCE)}.")


def baselines_markdown(baselines: pd.DataFrame, confidence: float = CONFIDENCE) -> str:
    """The raw-pixel baselines' accuracy with its interval over the autoencoder seeds their draws follow."""
    if baselines.empty:
        return ""
    return "Raw-pixel baselines on the same labelled images: " + "; ".join(
        f"{BASELINE_LABELS.get(r['mode'], r['mode'])} {fmt_ci(_ci(r, confidence), pct=True, unit=SEEDS)}"
        for _, r in baselines.iterrows())
