"""Experiment 1's threshold claim, "d < 10 is clearly worse" ("ten digit classes need at least ten
places"), tested as a threshold: against a saturating null fitted on the d >= 10 alone. A curve
that falls ever more slowly with d (floor + a/d^k) is steep below 10 without any threshold (the
old kink against a power law through d = 10 and 15 fired on such curvature: floor + a/d^2 gave up to
+44 %), so only an excess over that curve's extrapolation is a threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...report.claims import NO_RUNS, row
from ...report.decide import direction, per_seed
from ...report.linear import one_sample
from ...report.text import est_words, fmt, fmt_rel
from ...report_params import ReportParams

DEFAULT = ReportParams()
CLAIMED_D = 10  # the original's own number: "d < 10 is clearly worse"
NULL_D = 4  # values of d >= 10 the saturating null (3 parameters) needs to be fitted with freedom left


def saturating_fit(ds, errors) -> tuple[float, float, float] | None:
    """The saturating curve floor + a / d^k (k in [0.1, 8]) through (d, error), least squares of the
    relative residual (as on a log scale): (floor, a, k), or None with fewer than three points.
    For each k, floor and a are a weighted linear fit; k minimises the residual."""
    from scipy.optimize import minimize_scalar

    d, e = np.asarray(ds, dtype=float), np.asarray(errors, dtype=float)
    if len(d) < 3 or not np.all(np.isfinite(e)) or np.any(e <= 0):
        return None

    def solve(k):
        X = np.column_stack([np.ones_like(d), d**-k]) / e[:, None]
        coef, *_ = np.linalg.lstsq(X, np.ones_like(d), rcond=None)
        return coef, float(((X @ coef - 1) ** 2).sum())

    grid = np.linspace(0.1, 8, 80)
    k0 = grid[int(np.argmin([solve(k)[1] for k in grid]))]
    best = minimize_scalar(
        lambda k: solve(k)[1],
        bounds=(max(0.1, k0 - 0.1), min(8.0, k0 + 0.1)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    (floor, a), _ = solve(best.x)
    return float(floor), float(a), float(best.x)


def excess_over_saturation(log_means: dict, below: int, large: list[int]) -> float:
    """How much worse d = `below` is than the saturating curve fitted on the d >= 10 in `large`
    predicts, on the log scale, averaged over the num_conv with all of them (`log_means`:
    (d, num_conv) -> mean log error): a curve that saturates (floor + a/d^k) gives 0 wherever it is
    measured; a threshold at 10 gives more."""
    out = []
    for nc in sorted({nc for _, nc in log_means}):
        if all((d, nc) in log_means for d in [below] + large):
            f = saturating_fit(large, [np.exp(log_means[(d, nc)]) for d in large])
            pred = f[0] + f[1] * below ** -f[2] if f else float("nan")
            if np.isfinite(pred) and pred > 0:
                out.append(float(log_means[(below, nc)] - np.log(pred)))
    return float(np.mean(out)) if out else float("nan")


def verdict_small_d_worse(ae: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
    """A threshold at d = 10 ("ten classes need ten places"), tested against a saturating null: the
    curve floor + a/d^k, fitted on the d >= 10 at each num_conv, extrapolated to the largest d below
    10; the claim: the error there exceeds it by more than report.small_d_margin (each seed's excess,
    on the log of its own models' errors, one observation: a t-interval over the seeds). A curve that saturates, however steeply it falls below 10, gives no excess. The
    null needs NULL_D values of d >= 10 (three parameters and freedom left): with fewer the row says
    that the grid cannot tell a threshold from a saturating curve, and is no member of the family."""
    c = f"d < {CLAIMED_D} is clearly worse"
    if ae is None or ae.empty:
        return row("1", c, NO_RUNS)
    ds = sorted(ae["latent_dim"].astype(int).unique().tolist())
    small, large = [d for d in ds if d < CLAIMED_D], [d for d in ds if d >= CLAIMED_D]
    m = ae.groupby("latent_dim")["final_test_error"].mean()
    plain = "mean error by d: " + ", ".join(f"d={int(d)}: {fmt(v)}" for d, v in m.items())
    if not small and len(large) >= NULL_D:
        return row(
            "1",
            c,
            f"{plain}; not tested: no usable run has a d below {CLAIMED_D}, the side the claim is about "
            f"(the d ≥ {CLAIMED_D}: {large}). Not a member of the Holm family",
            key=f"no d below {CLAIMED_D}",
            untested=True,
            would=f"no number of seeds would decide it without runs at a d below {CLAIMED_D}",
        )
    if not small or len(large) < NULL_D:
        return row(
            "1",
            c,
            f"{plain}; not tested: a threshold at d = {CLAIMED_D} shows as d < {CLAIMED_D} lying clearly "
            f"above a saturating curve (floor + a/d^k, which falls ever more slowly and has no threshold) fitted "
            f"on the d ≥ {CLAIMED_D} alone; that curve has three parameters, so it needs at least {NULL_D} values of "
            f"d at and above {CLAIMED_D} (this grid has {len(large)}: {large}) and a d below {CLAIMED_D}. This "
            f"grid cannot tell a threshold at {CLAIMED_D} from a saturating curve; a grid with more d at and above "
            f"{CLAIMED_D} (e.g. 10, 12, 15, 20, 30) would. Not a member of the Holm family",
            key="grid cannot tell",
            untested=True,
            would=f"no number of seeds would decide it on this grid; a grid with at least {NULL_D} values of d at "
            f"and above {CLAIMED_D} (this one has {len(large)}), such as 10, 12, 15, 20, 30, would",
        )
    below = small[-1]
    d = ae.assign(_log=np.log(ae["final_test_error"].clip(lower=1e-12)))
    base = {k: float(v) for k, v in d.groupby(["latent_dim", "num_conv"])["_log"].mean().items()}
    value = excess_over_saturation(base, below, large)
    if not np.isfinite(value):
        complete = any(all((dd, nc) in base for dd in [below, *large]) for nc in {nc for _, nc in base})
        why = (
            f"the saturating curve fitted on the d ≥ {CLAIMED_D} ({large}) predicts no positive error at d = {below} "
            "in any num_conv (the error does not fall with d there)"
            if complete
            else f"no num_conv has runs at d = {below} and every d ≥ {CLAIMED_D} ({large})"
        )
        return row("1", c, f"{plain}; not tested: {why}")
    boundary = float(np.log1p(rules.small_d_margin))
    own = per_seed(
        d,
        lambda g: excess_over_saturation(
            {k: float(v) for k, v in g.groupby(["latent_dim", "num_conv"])["_log"].mean().items()},
            below,
            large,
        ),
    )
    dec = direction(
        one_sample(own.to_numpy(float)),
        +1,
        rules.confidence,
        boundary=boundary,
        holds=int((own > boundary).sum()),
        seeds=len(own),
    )
    rel = {k: float(np.expm1(dec[k])) if np.isfinite(dec[k]) else float("nan") for k in ("mean", "lo", "hi")}
    return row(
        "1",
        c,
        f"{plain}; error at d={below} over the saturating curve floor + a/d^k fitted on d = {large} "
        f"at each num_conv and extrapolated to d={below} (averaged over num_conv, each seed's on its own models' log "
        f"error): {_rel_ci({**dec, **rel})} ({est_words(dec)}); a curve that saturates gives "
        f"+0 %; 'clearly' means above {fmt_rel(rules.small_d_margin)} (report.small_d_margin)",
        dec,
        key=f"{_rel_ci({**dec, **rel})} at d={below} over saturation",
        decides=f"the key number ({est_words(dec)})",
    )


def _rel_ci(ci: dict) -> str:
    """'+59 % [+46 %, +71 %]' (no interval words: the table's caption names them)."""
    if not np.isfinite(ci.get("lo", float("nan"))):
        return f"{fmt_rel(ci['mean'])} (n = {ci['n']}, no interval)"
    return f"{fmt_rel(ci['mean'])} [{fmt_rel(ci['lo'])}, {fmt_rel(ci['hi'])}]"


def rules_markdown(rules: ReportParams) -> str:
    """How the threshold claim is decided, with this profile's margin."""
    return (
        f'- *d < {CLAIMED_D} clearly worse* is a threshold claim ("ten classes need ten places"). An error '
        f"that falls ever more\n  slowly with d (floor + a/d^k) is steep below {CLAIMED_D} without any threshold, "
        f"so the claim is tested against that\n  saturating curve, fitted on the d ≥ {CLAIMED_D} at each num_conv "
        f"and extrapolated to the largest d below {CLAIMED_D}: **supported**\n  when the error there exceeds the "
        f"curve by more than {fmt_rel(rules.small_d_margin)} (`report.small_d_margin`; each seed's excess on its\n"
        f"  own log errors, a t-interval over the seeds), **contradicted** when the "
        f"whole\n  interval of that excess lies below the margin. The curve has three parameters, so this needs at least {NULL_D} values of "
        f"d at and above {CLAIMED_D};\n  with fewer (the study's grid 5, 10, 15, 20 has three) the grid cannot tell "
        "a threshold from a saturating\n  curve: the row says so, stays inconclusive and is not a member of the "
        "Holm family.\n"
    )
