"""The verdicts on the original study: one function per conclusion of STUDY.md, each returning
the conclusion, this run's numbers, a verdict (supported / contradicted / inconclusive, decided by
the rules of `decide` with the thresholds of the profile's `report:` section), the number of
autoencoder seeds in which the claim holds on its own, and a short key number (the means at both
ends of a trend, or the effect with its interval) for the compact table of the report's first page.
`verdicts` gathers them, indexed by a short claim id (what `compare` matches two profiles on);
`page_one_table` is that compact table; `rules_markdown` explains the rules in the report."""
from __future__ import annotations

from itertools import combinations

import pandas as pd

from ..report_params import ReportParams
from .decide import INCONCLUSIVE, WORDS, block_slope, direction, equivalence, holds_text, per_seed
from .profile import ProfileData
from .stats import SEED
from .tables import ENCODER, encoder_means, transfer_parts
from .text import SEEDS, fmt, fmt_ci, fmt_pct, fmt_pp, fmt_pp_ci, fmt_rel, whole

DEFAULT = ReportParams()
CLAIMED_D = 10               # the original's own number: "d < 10 is clearly worse"
CHANCE = 0.10                # ten classes
PRETRAINED = ("frozen", "finetune")  # transfer modes whose encoder was trained as an autoencoder
NO_RUNS = "no usable runs"


# ------------------------------------------------------------------ rows of the verdict table

KEY = "key number"           # the short number of the page-1 verdict table (no interval words)


def _row(experiment: str, conclusion: str, numbers: str, decision: dict | None = None, key: str = "") -> dict:
    return {"experiment": experiment, "conclusion": conclusion, "this run's numbers": numbers,
            "verdict": decision["verdict"] if decision else INCONCLUSIVE,
            "seeds": holds_text(decision) if decision else "no seeds", KEY: key or "n/a"}


def _by_mean(df: pd.DataFrame, by: str, value: str, f=fmt) -> str:
    """Plain means of `value` by `by` (each seed weighs the same: the grids are balanced)."""
    m = df.groupby(by)[value].mean()
    label = {"latent_dim": "d"}.get(by, by)
    return ", ".join(f"{label}={whole(k)}: {f(v)}" for k, v in m.items())


def _ends(df: pd.DataFrame, by: str, value: str, f=fmt) -> str:
    """The key number of a trend: the plain means at the smallest and the largest `by`,
    '0.0338 at d=5 → 0.0207 at d=20'."""
    m = df.groupby(by)[value].mean()
    label = {"latent_dim": "d"}.get(by, by)
    if len(m) < 2:
        return f"{f(m.iloc[0])} at {label}={whole(m.index[0])} only" if len(m) else ""
    return f"{f(m.iloc[0])} at {label}={whole(m.index[0])} → {f(m.iloc[-1])} at {label}={whole(m.index[-1])}"


def _trend_row(experiment: str, c: str, df: pd.DataFrame | None, x: str, y: str, block: str, expected: int,
               rules: ReportParams, label: str, per: str, f=fmt, g=fmt, extra: str = "") -> dict:
    """A trend conclusion: means of `y` by `x`, then the slope of `y` on `x` within each `block`
    per seed and its verdict (`per` names the slope's unit, `g` formats it)."""
    if df is None or df.empty:
        return _row(experiment, c, NO_RUNS)
    dec = direction(per_seed(df, lambda s: block_slope(s, x, y, block)), expected, rules.confidence)
    return _row(experiment, c, f"{label}: {_by_mean(df, x, y, f)}; slope within each {block} ({per}): "
                f"{fmt_ci(dec, f=g, unit=SEEDS)}{extra}", dec, key=_ends(df, x, y, f))


# ------------------------------------------------------------------ experiment 1

def verdict_error_falls_with_d(ae: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return _trend_row("1", "Reconstruction error falls as d grows", ae, "latent_dim", "final_test_error",
                      "num_conv", -1, rules, "mean final test error by d", "per unit of d")


def verdict_small_d_worse(ae: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    """Per seed, the relative excess of the mean error of d < 10 over d >= 10 within each num_conv
    (averaged over num_conv); the claim: above report.small_d_margin."""
    c = f"d < {CLAIMED_D} is clearly worse"
    if ae is None or ae.empty:
        return _row("1", c, NO_RUNS)
    small, large = ae[ae["latent_dim"] < CLAIMED_D], ae[ae["latent_dim"] >= CLAIMED_D]
    if small.empty or large.empty:
        return _row("1", c, f"the grid needs d below and at or above {CLAIMED_D} (has d = "
                    f"{sorted(ae['latent_dim'].astype(int).unique().tolist())})")

    def excess(rows: pd.DataFrame) -> float:
        r = [b.loc[b["latent_dim"] < CLAIMED_D, "final_test_error"].mean()
             / b.loc[b["latent_dim"] >= CLAIMED_D, "final_test_error"].mean() - 1
             for _, b in rows.groupby("num_conv")]
        return float(pd.Series(r, dtype=float).mean())

    dec = direction(per_seed(ae, excess), +1, rules.confidence, boundary=rules.small_d_margin)
    if not dec["seeds"]:
        return _row("1", c, f"no num_conv has runs on both sides of d = {CLAIMED_D}")
    ms, ml = small["final_test_error"].mean(), large["final_test_error"].mean()
    return _row("1", c, f"mean error d<{CLAIMED_D}: {fmt(ms)}, d≥{CLAIMED_D}: {fmt(ml)}; excess of d<{CLAIMED_D} "
                f"at equal num_conv: {fmt_ci(dec, f=fmt_rel, unit=SEEDS)}; 'clearly' means above "
                f"{fmt_rel(rules.small_d_margin)} (report.small_d_margin)", dec,
                key=f"error {_rel_ci(dec)} vs d≥{CLAIMED_D}")


def verdict_error_falls_with_size(ae: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return _trend_row("1", "Error also falls, less clearly, as the model grows (num_conv)", ae, "num_conv",
                      "final_test_error", "latent_dim", -1, rules, "mean final test error by num_conv",
                      "per conv layer", extra="; 'less clearly' is not tested: compare with the row above")


def _rel_ci(ci: dict) -> str:
    """'+59 % [+46 %, +71 %]' (no interval words: the table's caption names them)."""
    if ci["n"] < 2:
        return f"{fmt_rel(ci['mean'])} (n = {ci['n']})"
    return f"{fmt_rel(ci['mean'])} [{fmt_rel(ci['lo'])}, {fmt_rel(ci['hi'])}]"


# ------------------------------------------------------------------ experiment 2

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
        return _row("2", c_of(20, 10), NO_RUNS)
    if col not in interp or interp[col].isna().all():
        return _row("2", c_of(20, 10), f"no {what} in the interpolate table (runs older than the measure: re-run them)")
    lo, hi = two_latent_sizes(interp)
    if lo is None:
        return _row("2", c_of(20, 10), "needs two latent sizes")
    a, b = (hi, lo) if better == "hi" else (lo, hi)
    dec = direction(_paired(interp, col, minus=b, plus=a), +1, rules.confidence)
    m = interp.groupby("latent_dim")[col].mean()
    return _row("2", c_of(hi, lo), f"{what}: d={lo}: {fmt(m[lo])}, d={hi}: {fmt(m[hi])}{extra(interp)}; paired "
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


# ------------------------------------------------------------------ experiment 3

def verdict_correlation_falls(corr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    extra = (f"; with the diagonal (original's figure): {_by_mean(corr, 'latent_dim', 'with_diag')}"
             if corr is not None and not corr.empty else "")
    return _trend_row("3", "Latent correlation (mean |corr| off the diagonal) falls as d grows", corr,
                      "latent_dim", "offdiag", "num_conv", -1, rules, "off-diagonal by d", "per unit of d",
                      extra=extra)


# ------------------------------------------------------------------ experiment 4 (encoder-level means)

def _pretrained(tr: pd.DataFrame) -> pd.DataFrame:
    clf, _ = transfer_parts(tr)
    return clf[clf["mode"].isin(PRETRAINED)] if not clf.empty else clf


def verdict_h1_matters_little(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    """Equivalence: per seed, the mean accuracy of each h1 (frozen and finetune, every d, label
    draws averaged within each encoder first); every difference between two h1 values must lie
    within +-report.h1_margin. Not judged below report.min_accuracy."""
    c = "h1 matters little (a slight edge for a small MLP)"
    clf = _pretrained(tr)
    if clf.empty:
        return _row("4", c, NO_RUNS)
    per = encoder_means(clf, ["h1"]).groupby([SEED, "h1"])["accuracy"].mean().unstack("h1")
    hs = sorted(per.columns)
    if len(hs) < 2:
        return _row("4", c, f"needs two h1 values (has {hs})")
    dec = equivalence(pd.DataFrame({f"h1={a} − h1={b}": per[a] - per[b] for a, b in combinations(hs, 2)}),
                      rules.h1_margin, rules.confidence)
    means = per.mean()
    numbers = ("mean accuracy by h1 (frozen+finetune): " + ", ".join(f"{h}: {fmt_pct(m)}" for h, m in means.items())
               + f"; farthest difference ({dec['worst']}): {fmt_ci(dec['cis'][dec['worst']], f=fmt_pp, unit=SEEDS)}; "
               f"margin ±{100 * rules.h1_margin:g} points (report.h1_margin); best h1 = {means.idxmax()}"
               + (" (the smallest)" if means.idxmax() == hs[0] else ""))
    if means.max() < rules.min_accuracy:
        dec = {**dec, "verdict": INCONCLUSIVE}
        numbers += f"; classifiers below {fmt_pct(rules.min_accuracy)} (report.min_accuracy): not judged"
    return _row("4", c, numbers, dec, key=f"largest gap {fmt_pp_ci(dec['cis'][dec['worst']])}, "
                f"margin ±{100 * rules.h1_margin:g}")


def verdict_larger_d_better(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    clf = _pretrained(tr)
    enc = encoder_means(clf) if not clf.empty else clf
    return _trend_row("4", "Larger d is better (transfer accuracy)", enc, "latent_dim", "accuracy", "num_conv",
                      +1, rules, "mean accuracy by d (frozen+finetune)", "per unit of d", f=fmt_pct, g=fmt_pp)


def _encoder_diffs(rows: pd.DataFrame, other: pd.Series | None = None, a: str = "", b: str = "") -> pd.Series:
    """Per seed: the mean over its encoders of accuracy(a) - accuracy(b) (matched h1 and label
    draw, averaged within each encoder), or of accuracy(a, mean over h1) - `other`[seed, label draw]."""
    p = rows.pivot_table(index=ENCODER + ["h1", "label_seed"], columns="mode", values="accuracy", aggfunc="mean")
    if other is None:
        diff = p[a] - p[b]
    else:
        acc = p[a].groupby(level=ENCODER + ["label_seed"]).mean()
        keys = list(zip(acc.index.get_level_values(SEED), acc.index.get_level_values("label_seed")))
        diff = acc - other.reindex(pd.MultiIndex.from_tuples(keys, names=[SEED, "label_seed"])).to_numpy()
    enc = diff.dropna().groupby(level=ENCODER).mean()
    return enc.groupby(level=SEED).mean()


def _mode_verdict(tr, a: str, b: str, c: str, experiment: str, rules: ReportParams) -> dict:
    clf, _ = transfer_parts(tr)
    if clf.empty or not {a, b} <= set(clf["mode"]):
        return _row(experiment, c, f"needs modes {a} and {b}" if not clf.empty else NO_RUNS)
    dec = direction(_encoder_diffs(clf, a=a, b=b), +1, rules.confidence)
    m = clf.groupby("mode")["accuracy"].mean()
    return _row(experiment, c, f"mean accuracy {a}: {fmt_pct(m[a])}, {b}: {fmt_pct(m[b])}; difference "
                f"({a} − {b}, encoder-level means): {fmt_ci(dec, f=fmt_pp, unit=SEEDS)}", dec,
                key=fmt_pp_ci(dec))


def verdict_finetune_beats_frozen(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return _mode_verdict(tr, "finetune", "frozen", "Fine-tuning beats the frozen encoder", "4", rules)


def verdict_pretraining_beats_scratch(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return _mode_verdict(tr, "finetune", "scratch",
                         "Pre-training beats the same network trained from scratch (finetune vs scratch)", "4+", rules)


def verdict_pretraining_beats_control(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    return _mode_verdict(tr, "finetune", "augmented", "Pre-training beats the augmented CNN control "
                         "(finetune vs augmented)", "4+", rules)


def verdict_beats_baselines(tr: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    """The pre-trained encoders at the largest d (finetune, else frozen; mean over h1) against the
    stronger of the two raw-pixel baselines on the same label draw."""
    c = "Pre-training beats raw-pixel baselines (logistic regression, 1-NN)"
    clf, base = transfer_parts(tr)
    if clf.empty or base.empty:
        return _row("4+", c, NO_RUNS if clf.empty else "no baseline records")
    dmax = int(clf["latent_dim"].max())
    top = clf[clf["latent_dim"] == dmax]
    mode = next((m for m in ("finetune", "frozen") if m in set(top["mode"])), None)
    if mode is None:
        return _row("4+", c, "needs frozen or finetune records")
    bpiv = base.pivot_table(index=[SEED, "label_seed"], columns="mode", values="accuracy")
    dec = direction(_encoder_diffs(top, other=bpiv.max(axis=1), a=mode), +1, rules.confidence)
    numbers = (f"{mode} (d={dmax}): {fmt_pct(top.loc[top['mode'] == mode, 'accuracy'].mean())}; "
               + ", ".join(f"{m}: {fmt_pct(bpiv[m].mean())}" for m in bpiv.columns)
               + f"; difference ({mode} − stronger baseline of the same label draw, encoder-level means): "
               + fmt_ci(dec, f=fmt_pp, unit=SEEDS))
    return _row("4+", c, numbers, dec, key=f"{fmt_pp_ci(dec)} over the stronger baseline")


# ------------------------------------------------------------------ all of them

CLAIMS = {"error_falls_with_d": ("autoencode", verdict_error_falls_with_d),
          "small_d_worse": ("autoencode", verdict_small_d_worse),
          "error_falls_with_size": ("autoencode", verdict_error_falls_with_size),
          "sharper_ends": ("interpolate", verdict_sharper_ends),
          "mid_digit_like": ("interpolate", verdict_mid_digit_like),
          "correlation_falls": ("correlate", verdict_correlation_falls),
          "h1_matters_little": ("transfer", verdict_h1_matters_little),
          "larger_d_better": ("transfer", verdict_larger_d_better),
          "finetune_beats_frozen": ("transfer", verdict_finetune_beats_frozen),
          "pretraining_beats_scratch": ("transfer", verdict_pretraining_beats_scratch),
          "pretraining_beats_control": ("transfer", verdict_pretraining_beats_control),
          "beats_baselines": ("transfer", verdict_beats_baselines)}


def verdicts(data: ProfileData) -> pd.DataFrame:
    """Every conclusion of the original study (and the project's two additions) with this run's
    numbers, a verdict and its seed count, from the usable rows of the tables and the profile's
    `report:` rules; indexed by claim id."""
    rules = data.rules
    rows = {claim: fn(data.usable(stage), rules) for claim, (stage, fn) in CLAIMS.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("claim")


PAGE_ONE = {"experiment": "exp.", "conclusion": "conclusion", "verdict": "verdict", "seeds": "holds in",
            KEY: "key number"}


def page_one_table(v: pd.DataFrame) -> str:
    """The compact verdict table of the report's first page, as HTML: one row per conclusion with
    its verdict (a CSS class per word), the seeds it holds in and its key number; the long
    numbers stay in the detailed table."""
    from .text import html_table

    t = v.reindex(columns=list(PAGE_ONE)).rename(columns=PAGE_ONE)
    t[PAGE_ONE["seeds"]] = t[PAGE_ONE["seeds"]].astype(str).str.replace(r"^holds in (.*) seeds$", r"\1", regex=True)
    return html_table(t.fillna(""), cls="verdict-table", classes={"verdict": lambda w: f"verdict-{w}"})


def summary_counts(v: pd.DataFrame) -> str:
    c = v["verdict"].value_counts()
    return ", ".join(f"{c.get(k, 0)} {k}" for k in WORDS)


VERDICT_RULES = """\
How the verdicts are decided. The independent unit is the autoencoder seed: each claim becomes one
number per seed, and its mean gets a two-sided {pct} % t-interval over the seeds (n = the number
of seeds, written beside every interval). In transfer, each encoder (one autoencoder of
experiment 1) first averages its label draws, so the interval over encoders carries both the
encoder's and the draws' variation.
- **supported**: the whole interval lies on the side the original claimed;
  **contradicted**: the whole interval lies on the opposite side, so the data show the opposite at
  {pct} % confidence; **inconclusive**: the interval reaches across, or there are fewer than two seeds.
- *Trends* ("falls / grows as ... grows"): per seed, the least-squares slope within each block of
  the other factor (within each num_conv for d, within each d for num_conv), averaged over blocks;
  the side is the sign of the slope.
- *Differences* (A beats B, sharper, more digit-like): per seed, the paired difference (same
  images, same h1 and label draw); the side is its sign. In experiment 2 a seed's difference is
  the mean over every digit pair and every image pair drawn for it: the image pairs make each
  seed's number precise, the seeds are the units of the interval.
- *d < 10 clearly worse*: per seed, the relative excess of the mean error of d < 10 over d ≥ 10 at
  the same num_conv; "clearly" means more than {small_d} (`report.small_d_margin`), so the interval is
  compared with that margin instead of 0 (contradicted: clearly less than that).
- *h1 matters little* (an equivalence test): per seed, every difference of mean accuracy between
  two h1 values; **supported** when every such interval lies inside ±{h1} percentage points
  (`report.h1_margin`, fixed in the parameter file before the data are seen), **contradicted** when
  one lies wholly outside, **inconclusive** otherwise, and when the classifiers stay below
  {min_acc} accuracy (`report.min_accuracy`), where any two widths are trivially alike.
- *holds in k of n seeds*: the seeds whose own number is on the claimed side (inside the margin
  for the equivalence): how often one unreplicated run, like the original's, would have agreed.
"""


def rules_markdown(rules: ReportParams) -> str:
    """VERDICT_RULES with this profile's thresholds."""
    return VERDICT_RULES.format(pct=f"{100 * rules.confidence:g}", small_d=fmt_rel(rules.small_d_margin),
                                h1=f"{100 * rules.h1_margin:g}", min_acc=fmt_pct(rules.min_accuracy))
