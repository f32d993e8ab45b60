"""The tables the report shows, shaped from the stages' tidy tables: every cell is a mean over
autoencoder seeds with its t-interval ('mean [lo, hi]'), and the split of the transfer rows into
classifiers and raw-pixel baselines that the verdicts share."""
from __future__ import annotations

import pandas as pd

from ..science.names import BASELINES, MODES
from .stats import CONFIDENCE, SEED, param_correlations_by_seed, summarise
from .text import fmt_ci

ENCODER = ["num_conv", "latent_dim", SEED]   # one encoder (an autoencoder of experiment 1)


def ci_cells(summary: pd.DataFrame, pct: bool) -> list[str]:
    """'mean [lo, hi]' for each row of a summarise() frame."""
    return [fmt_ci({"mean": m, "lo": lo, "hi": hi, "n": n}, pct=pct)
            for m, lo, hi, n in zip(summary["mean"], summary["ci_lo"], summary["ci_hi"], summary["n"])]


def ci_table(summary: pd.DataFrame, index: str, columns: str, pct: bool = True,
             prefix: bool = False) -> pd.DataFrame:
    """A summarise() frame as a table of 'mean [lo, hi]' strings (transfer modes in study order;
    with `prefix` the columns are named 'num_conv=1', ...)."""
    if summary.empty:
        return pd.DataFrame()
    s = summary.copy()
    s["cell"] = ci_cells(s, pct)
    t = s.pivot(index=index, columns=columns, values="cell")
    t = t[[c for c in MODES if c in t.columns] + [c for c in t.columns if c not in MODES]]
    t.columns = [f"{columns}={c}" if prefix else c for c in t.columns]
    return t.reset_index().rename(columns={"latent_dim": "d"})


def ci_columns(df: pd.DataFrame, by: list[str], values: dict, confidence: float = CONFIDENCE,
               pct: bool = False) -> pd.DataFrame:
    """One row per group of `by`, one 'mean [lo, hi]' column per {label: column} of `values`
    (intervals over seeds), and n (the seeds of the first value)."""
    out = None
    for label, col in values.items():
        s = summarise(df, by, col, confidence=confidence)
        s[label] = ci_cells(s, pct)
        out = s[by + ["n", label]] if out is None else out.merge(s[by + [label]], on=by)
    return out[[c for c in out.columns if c != "n"] + ["n"]].rename(columns={"latent_dim": "d", "n": "seeds"})


def error_grid(ae: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Final test error as a d x num_conv table, mean [interval] over seeds."""
    if ae.empty:
        return pd.DataFrame()
    return ci_table(summarise(ae, ["latent_dim", "num_conv"], "final_test_error", confidence=confidence),
                    "latent_dim", "num_conv", pct=False, prefix=True)


def param_correlation_table(ae: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Pearson r and Spearman rho of each swept parameter with the final test error, computed
    within each seed's runs, mean [interval] over seeds."""
    s = param_correlations_by_seed(ae, swept_params(ae), "final_test_error", confidence)
    t = ci_table(s, "parameter", "measure", pct=False)
    return t.rename(columns={"pearson_r": "Pearson r", "spearman_rho": "Spearman ρ"}) if not t.empty else t


INTERPOLATION_COLUMNS = {"end sharpness": "end_sharpness", "a≈0.5 confidence": "mid_confidence",
                         "end MSE": "end_mse", "a≈0.5 NN distance": "mid_nn_distance"}


def interpolation_table(interp: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per digit pair and d: the end decodes' Tenengrad sharpness over the real digits', the
    reference classifier's confidence on the a~0.5 decode, and the secondary end MSE and a~0.5
    nearest-training-image distance (each record a mean over its image pairs), mean [interval]
    over seeds; the columns a table lacks are left out."""
    cols = {k: v for k, v in INTERPOLATION_COLUMNS.items() if v in interp and interp[v].notna().any()}
    return ci_columns(interp, ["pair", "latent_dim"], cols, confidence)


def correlation_table(corr: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per num_conv and d: mean |corr| off the diagonal and with it, mean [interval] over seeds,
    and the constant latent dimensions summed over seeds."""
    t = ci_columns(corr, ["num_conv", "latent_dim"], {"off-diagonal": "offdiag", "with diagonal": "with_diag"},
                   confidence)
    return t.merge(corr.groupby(["num_conv", "latent_dim"], as_index=False)["n_constant"].sum()
                   .rename(columns={"latent_dim": "d", "n_constant": "constant dims"}), on=["num_conv", "d"])


def swept_params(df: pd.DataFrame, candidates=("latent_dim", "num_conv", "c_factor", "kernel_size", "fc_hidden",
                                               "epochs", "batch_size", "lr")) -> list[str]:
    """The parameters that take more than one value in a table (the swept ones; the seed is the
    unit of replication, not a parameter)."""
    return [c for c in candidates if c in df and df[c].nunique(dropna=True) > 1]


def transfer_parts(tr: pd.DataFrame):
    """(classifier records, baseline records) of the usable transfer rows. A label draw is
    derived from the autoencoder seed and the label seed, so the baselines of one (seed, label
    seed) are the same for every d: the duplicates are averaged away."""
    if tr is None or tr.empty or "mode" not in tr:
        return pd.DataFrame(), pd.DataFrame()
    tr = tr.copy()
    is_base = tr["mode"].isin(BASELINES)
    clf = tr[~is_base].copy()
    if not clf.empty:
        clf["h1"] = clf["h1"].astype(int)
        clf["latent_dim"] = clf["latent_dim"].astype(int)
    base = tr[is_base].groupby(["mode", SEED, "label_seed"], as_index=False)["accuracy"].mean()
    return clf.reset_index(drop=True), base


def encoder_means(clf: pd.DataFrame, by=()) -> pd.DataFrame:
    """Accuracy per encoder (and per `by`), the label draws (and whatever is not in `by`)
    averaged within it: the rows every transfer interval is taken over."""
    return clf.groupby(ENCODER + list(by), as_index=False)["accuracy"].mean()


def _accuracy_summary(clf: pd.DataFrame, by: list[str], confidence: float) -> pd.DataFrame:
    """summarise() of the accuracy over autoencoder seeds of encoder-level means. The modes trained
    from a random initialisation (scratch, augmented) use no pre-trained weights, but each
    encoder slot (d, seed) has its own label draw and initialisation, so the same unit holds."""
    means = clf.groupby(ENCODER + ["mode", "h1"], as_index=False)["accuracy"].mean()
    return summarise(means, by, "accuracy", confidence=confidence)


def transfer_summaries(tr: pd.DataFrame, confidence: float = CONFIDENCE) -> dict:
    """Accuracy by (h1, mode), (d, mode), mode and (d, mode, h1): means with t-intervals over
    autoencoder seeds of encoder-level means (the label draws averaged within each encoder
    first); the baselines' over seeds of their label draws (a draw follows the seed)."""
    clf, base = transfer_parts(tr)
    if clf.empty:
        return {}
    s = {name: _accuracy_summary(clf, by, confidence)
         for name, by in (("by_h1", ["h1", "mode"]), ("by_d", ["latent_dim", "mode"]), ("by_mode", ["mode"]),
                          ("by_cell", ["latent_dim", "mode", "h1"]))}
    s["baselines"] = (summarise(base, ["mode"], "accuracy", confidence=confidence)
                      if not base.empty else pd.DataFrame())
    return {**s, "clf": clf, "base": base}


def protocol_table(clf: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per mode: accuracy on the labelled training images, the cross-validation accuracy of the
    protocol chosen for it (on the protocol stage's labelled images) and the test accuracy."""
    if clf.empty:
        return pd.DataFrame()
    means = clf.groupby(ENCODER + ["mode", "h1"], as_index=False)[["train_accuracy", "accuracy"]].mean()
    t = ci_columns(means, ["mode"], {"train": "train_accuracy", "test": "accuracy"}, confidence, pct=True)
    if "cv_accuracy" in clf and clf["cv_accuracy"].notna().any():
        cv = clf.groupby("mode")["cv_accuracy"].first()
        t.insert(2, "cross-validation", [f"{100 * cv[m]:.1f} %" if pd.notna(cv.get(m)) else "–" for m in t["mode"]])
    return t.sort_values("mode", key=lambda c: c.map(lambda m: MODES.index(m) if m in MODES else len(MODES)))


PROTOCOL_FIELDS = ["steps", "lr", "weight_decay", "augment", "warmup", "encoder_lr"]


def chosen_protocols(protocol: pd.DataFrame) -> pd.DataFrame:
    """Per mode: the protocol cross-validation chose, its accuracy, and the number of candidates
    tried and their accuracy range (the protocol stage's records, one per candidate)."""
    if protocol is None or protocol.empty or "chosen" not in protocol:
        return pd.DataFrame()
    p = protocol.copy()
    p["chosen"] = p["chosen"].astype(str).str.lower() == "true"
    rows = []
    for mode, g in p.groupby("mode", sort=False):
        best = g[g["chosen"]].iloc[0]
        rows.append({"mode": mode, **{f: best[f] for f in PROTOCOL_FIELDS if f in g},
                     "CV accuracy": f"{100 * best['cv_accuracy']:.1f} %",
                     "candidates": f"{len(g)} ({100 * g['cv_accuracy'].min():.0f}–{100 * g['cv_accuracy'].max():.0f} %)"})
    t = pd.DataFrame(rows).astype(object)
    if "augment" in t:
        t["augment"] = t["augment"].map(lambda a: "yes" if str(a).lower() == "true" else "no")
    if "warmup" in t:
        t.loc[t["mode"] != "finetune", ["warmup", "encoder_lr"]] = "–"
    return t.sort_values("mode", key=lambda c: c.map(lambda m: MODES.index(m) if m in MODES else len(MODES)))
