"""Models that train worse than their seed siblings, and what their dead units say about why
(experiment 1's report side; correlate's section names the same models).

A grid point of experiment 1 is trained once per seed; a seed whose final test error exceeds
the median of the other seeds by more than `report.outlier_excess` is named here, beside the
fraction of its encoder's hidden ReLU units that are dead (zero on every monitored test image,
so no gradient ever reaches them again) and its siblings' fraction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...report.stats import SEED

CELL = ["num_conv", "latent_dim"]
DEAD = "dead_encoder_hidden"
PCA = "pca_test_error"  # the test error of PCA with the same d (experiment 1's linear yardstick)


def model_name(r) -> str:
    """'d=20, num_conv=3, seed 0': a model as the report names it."""
    return f"d={int(r['latent_dim'])}, num_conv={int(r['num_conv'])}, seed {int(r[SEED])}"


def unusual_seeds(ae: pd.DataFrame, excess: float) -> pd.DataFrame:
    """One row per model whose error exceeds its siblings' median by more than `excess`
    (cells with at least 3 seeds): its error, the siblings' median, the ratio, PCA's error with
    the same d and, when the runs recorded it, the dead fraction of the model and of its siblings
    (nan where the runs did not record them)."""
    cols = CELL + [SEED, "error", "siblings error", "ratio", "PCA-d", "dead units", "siblings dead units"]
    rows = []
    if ae is None or ae.empty or SEED not in ae:
        return pd.DataFrame(columns=cols)
    for key, g in ae.groupby(CELL):
        if g[SEED].nunique() < 3:
            continue
        for _, r in g.iterrows():
            others = g[g[SEED] != r[SEED]]
            median = float(others["final_test_error"].median())
            ratio = float(r["final_test_error"]) / median
            if ratio > 1 + excess:
                dead = DEAD in g and pd.notna(r.get(DEAD))
                rows.append(
                    {
                        **dict(zip(CELL, key)),
                        SEED: int(r[SEED]),
                        "error": float(r["final_test_error"]),
                        "siblings error": median,
                        "ratio": ratio,
                        "PCA-d": float(r[PCA]) if PCA in g and pd.notna(r.get(PCA)) else float("nan"),
                        "dead units": float(r[DEAD]) if dead else float("nan"),
                        "siblings dead units": float(others[DEAD].mean()) if dead else float("nan"),
                    }
                )
    return pd.DataFrame(rows, columns=cols)


def set_aside(ae: pd.DataFrame, excess: float) -> tuple[str, list[dict]] | None:
    """The models that train clearly worse than their seed siblings (`unusual_seeds`), for the
    report's check of how far the verdicts rest on them (`report.robustness`): who they are, in
    words, and each as the columns every stage's table names a model by; None where there are none."""
    from ...report.text import count

    odd = unusual_seeds(ae, excess)
    if odd.empty:
        return None
    n = len(odd)
    words = (
        f"the {count(n, 'model')} that train{'s' if n == 1 else ''} clearly worse than "
        f"{'its' if n == 1 else 'their'} seed siblings ({'; '.join(model_name(r) for _, r in odd.iterrows())}, "
        f"named in experiment 1 by {'its test error' if n == 1 else 'their test errors'})"
    )
    return words, [{c: int(r[c]) for c in (*CELL, SEED)} for _, r in odd.iterrows()]


def dead_unit_association(ae: pd.DataFrame) -> dict | None:
    """Within each (d, num_conv) cell, each seed's excess error (error / cell mean - 1) against its
    excess dead fraction (dead - cell mean): Spearman's rho over every model, and n. None when the
    runs did not record dead units or no cell has two seeds. `without`: the same test without the
    model of the largest excess error (its cell's means taken again), so that the words can say
    when the association rests on that one model; None when too few models are left."""
    if ae is None or ae.empty or DEAD not in ae or ae[DEAD].isna().all():
        return None
    d = ae.dropna(subset=[DEAD]).copy()
    whole = _excess_association(d)
    if whole is None:
        return None
    rho, p, n, worst = whole
    rest = _excess_association(d.drop(index=worst))
    without = None
    if rest is not None:
        name = d.at[worst, "run_id"] if "run_id" in d else f"the model of d={d.at[worst, 'latent_dim']}"
        without = {"model": str(name), "rho": rest[0], "p": rest[1], "n": rest[2]}
    return {"rho": rho, "p": p, "n": n, "mean_dead": float(d[DEAD].mean()), "without": without}


PERMUTATIONS = 9999  # of the within-cell permutation test: its smallest p is 1 / (PERMUTATIONS + 1)


def _excess_association(d: pd.DataFrame):
    """(Spearman rho, p, n, index of the largest excess error) over the models of the cells with
    at least two seeds; None with fewer than 3 such models. The excesses are taken about each
    cell's mean, so a cell's models are not independent (two seeds are mirror images): p is a
    permutation test that shuffles the excess errors within each cell (`_within_cell_p`), not
    Spearman's own, which counts every model as a free observation."""
    from scipy import stats

    d = d[d.groupby(CELL)[SEED].transform("nunique") >= 2].copy()
    if len(d) < 3:
        return None
    d["excess_error"] = d["final_test_error"] / d.groupby(CELL)["final_test_error"].transform("mean") - 1
    d["excess_dead"] = d[DEAD] - d.groupby(CELL)[DEAD].transform("mean")
    rho = float(stats.spearmanr(d["excess_dead"], d["excess_error"])[0])
    cells = d.groupby(CELL).ngroup().to_numpy()
    p = _within_cell_p(d["excess_dead"].rank().to_numpy(), d["excess_error"].rank().to_numpy(), cells, rho)
    return rho, p, int(len(d)), d["excess_error"].idxmax()


def _within_cell_p(x: np.ndarray, y: np.ndarray, cells: np.ndarray, rho: float, seed: int = 0) -> float:
    """Two-sided p of the correlation `rho` of the ranks `x` and `y` when `y` is shuffled within
    each cell (`PERMUTATIONS` draws, seeded: the same p at every render). Shuffling keeps the
    values' multiset, so the ranks are shuffled with them: Pearson's r of the ranks is Spearman's."""
    rng = np.random.default_rng(seed)
    order = np.tile(np.arange(len(y)), (PERMUTATIONS, 1))
    for cell in np.unique(cells):
        idx = np.flatnonzero(cells == cell)
        order[:, idx] = idx[np.argsort(rng.random((PERMUTATIONS, len(idx))), axis=1)]
    xs = (x - x.mean()) / x.std()
    ys = y[order]
    ys = (ys - ys.mean(axis=1, keepdims=True)) / ys.std(axis=1, keepdims=True)
    r = (ys * xs).mean(axis=1)
    return float((1 + np.sum(np.abs(r) >= abs(rho) - 1e-12)) / (PERMUTATIONS + 1))


def _p_words(p: float) -> str:
    """'p = 0.0123', or 'p < 0.0001' where no permutation reached the observed correlation."""
    from ...report.text import fmt

    least = 1 / (PERMUTATIONS + 1)
    return f"p < {least:g}" if p <= least else f"p = {fmt(p)}"


def seeds_markdown(
    odd: pd.DataFrame,
    assoc: dict | None,
    excess: float,
    n_models: int,
    judged: bool = True,
    alpha: float = 0.05,
    source: str = "report.outlier_excess",
) -> str:
    """What the report says about seeds that train worse: which, by how much, and the dead units.
    `judged`: whether any cell has the 3 seeds a model is judged against (`unusual_seeds`); the
    association is said to hold only where its Spearman test is significant at `alpha`. `source`:
    where the threshold comes from, in words."""
    from ...report.text import fmt, fmt_pct

    if n_models == 0:
        return ""
    rule = (
        f"a model is named when its final test error exceeds the median of the other seeds of its "
        f"(d, num_conv) by more than {100 * excess:g} % ({source})"
    )
    if not judged:
        text = f"No model is judged against its seed siblings: that needs at least 3 seeds per cell ({rule})."
    elif odd.empty:
        text = f"No model trains clearly worse than its seed siblings ({rule})."
    else:
        names = "; ".join(
            f"{model_name(r)}: "
            f"{fmt(r['error'])} against {fmt(r['siblings error'])} ({fmt(r['ratio'])}x)"
            + (
                f", above the {fmt(r['PCA-d'])} of PCA with the same d (this model did not learn more than "
                "the linear code)"
                if pd.notna(r.get("PCA-d")) and r["error"] > r["PCA-d"]
                else ""
            )
            + (
                f", {fmt_pct(r['dead units'])} of its encoder's fully connected hidden units dead against "
                f"{fmt_pct(r['siblings dead units'])} in its siblings"
                if pd.notna(r["dead units"])
                else ""
            )
            for _, r in odd.iterrows()
        )
        text = (
            f"{len(odd)} of {n_models} models {'trains' if len(odd) == 1 else 'train'} clearly worse than "
            f"{'its' if len(odd) == 1 else 'their'} seed siblings ({rule}): {names}."
        )
    if assoc is not None:
        significant = assoc["p"] < alpha
        how = (
            "goes with its excess error"
            if significant and assoc["rho"] > 0
            else "goes with a lower error"
            if significant
            else "shows no clear association with its excess error"
        )
        without = assoc.get("without")
        rests = (
            f", but it rests on one model: without `{without['model']}` (the largest excess error) ρ = "
            f"{fmt(without['rho'])} ({_p_words(without['p'])}, {without['n']} models)"
            if significant and without is not None and without["p"] >= alpha
            else ""
        )
        caveat = (
            " It is a correlation: at the default profile's budget, a start that keeps more of these units alive "
            "lowered the validation error by no more than the seeds' spread (benchmarks/README.md, \"Why half the "
            "encoder's hidden units die\"), so the two more likely both mark a run that went worse."
            if significant and assoc["rho"] > 0
            else ""
        )
        text += (
            f" Over all {assoc['n']} models, the excess of dead hidden units over a model's cell mean {how}: "
            f"Spearman ρ = {fmt(assoc['rho'])} ({_p_words(assoc['p'])}, shuffling the excess errors within each "
            f"cell){rests}; on average "
            f"{fmt_pct(assoc['mean_dead'])} of the units of the encoder's fully connected hidden layer are dead at "
            "the end of training." + caveat
        )
    return text
