"""The decision rules of the verdicts, stated once. Every claim is an estimate (`linear`): over
cells of independent models where every model was seeded for its own cell (a Welch t-interval,
Welch-Satterthwaite df), else over the seeds (each seed's own statistic, computed from all of its
models, one observation; seeds - 1 degrees of freedom); its unit, n and df are written beside it. Each
decision has a p-value, and the seeds are counted in which the claim holds on its own. With
alpha = 1 - confidence:

- `direction`: the claim puts an estimate on one side of a boundary (0 for a difference, a margin
  for "clearly"). supported: the whole two-sided (1 - alpha) interval is on the claimed side;
  contradicted: wholly on the other side; inconclusive: across, or fewer than two seeds.
  Its p-value is twice the smaller one-sided p (the interval excludes the boundary iff p <= alpha).
- `monotone`: a trend ("falls as d grows"), on the log of the measure: the slope (the within-block
  least-squares slope over the swept factor, averaged over the other factor) and every adjacent
  step, each seed's own, then over the seeds. supported: the slope's interval is wholly on the
  claimed side and no step's interval is wholly on the other side (no step goes significantly the
  wrong way, so a curve that flattens out is still a trend); contradicted symmetrically: the slope
  wholly on the other side and no step significantly on the claimed side; else inconclusive. Its
  p-value is the slope's.
- `equivalence`: two one-sided tests (TOST) at alpha per difference, symmetric: supported when
  every difference's (1 - 2 alpha) interval lies inside (-margin, +margin) (intersection-union);
  contradicted when one lies wholly outside it, at the same alpha after Bonferroni over the
  differences (a union); inconclusive otherwise.
- `holm`: the verdicts are one family; Holm's step-down adjustment of their p-values keeps the
  chance of any false decision at alpha. A verdict whose adjusted p exceeds alpha is inconclusive;
  a row with no p (a claim the design cannot test) is not a member.
- `seeds_needed`: what would decide an inconclusive row: the number of autoencoder seeds at which
  its test reaches 80 % power at the observed effect and spread, at level alpha / m (m the family's
  size: Holm's first, strictest step, the worst case).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .linear import one_sample
from .stats import SEED, SEEDS
from .text import count, relative

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
WORDS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE)
POWER = 0.80  # the power "what would decide it" is computed for
MOST = 1000  # more seeds than this count as no feasible number


def per_seed(df: pd.DataFrame, statistic) -> pd.Series:
    """`statistic(rows of one seed)` for every autoencoder seed in `df` (nan values dropped)."""
    if df is None or df.empty:
        return pd.Series(dtype=float)
    s = pd.Series({seed: statistic(g) for seed, g in df.groupby(SEED)}, dtype=float)
    return s.dropna()


def _one_sided(est: dict, boundary: float, side: int) -> float:
    """p of the one-sided t-test "the estimate is above `boundary`" (side +1) or "below" (-1) on
    its degrees of freedom; nan without any; with no spread at all, 0 when it is on that side, else 1."""
    from scipy import stats

    if not est.get("df", 0) >= 1 or not np.isfinite(est["mean"]):
        return float("nan")
    diff, se = (est["mean"] - boundary) * side, est["se"]
    if not se > 0:
        return 0.0 if diff > 0 else 1.0
    return float(stats.t.sf(diff / se, est["df"]))


def one_sided_p(values, boundary: float, side: int) -> float:
    """`_one_sided` of the one-sample estimate of `values` (each an independent unit)."""
    return _one_sided(one_sample(values), boundary, side)


def interval(est: dict, confidence: float) -> dict:
    """The estimate with its two-sided t-interval (lo, hi) at `confidence` on its df."""
    from scipy import stats

    if est.get("df", 0) >= 1 and np.isfinite(est["se"]) and np.isfinite(est["mean"]):
        half = float(stats.t.ppf((1 + confidence) / 2, est["df"])) * est["se"]
        lo, hi = est["mean"] - half, est["mean"] + half
    else:
        lo = hi = float("nan")
    return {**est, "lo": lo, "hi": hi, "confidence": confidence}


def _estimate(values) -> tuple[dict, int, int]:
    """(estimate, holds on the + side, seeds) of a Series of per-seed values, or a ready estimate."""
    if isinstance(values, dict):
        return values, 0, 0
    x = pd.Series(values, dtype=float).dropna()
    return one_sample(x), x, len(x)


def direction(
    values,
    expected: int,
    confidence: float,
    boundary: float = 0.0,
    holds: int | None = None,
    seeds: int | None = None,
) -> dict:
    """The claim "the estimate is above `boundary`" (expected +1) or "below it" (expected -1),
    decided on its interval. `values`: an estimate (`linear`) with `holds` (the seeds whose own
    value is on the claimed side) and `seeds`, or per-seed values (each seed a unit; holds counted
    from them). Returns the interval (mean, lo, hi, se, df, n, unit, confidence), verdict, holds,
    seeds, p (twice the smaller one-sided p: the decision's, for Holm) and `need` (what
    `seeds_needed` reads)."""
    est, x, n_seeds = _estimate(values)
    if not isinstance(values, dict):
        holds, seeds = int(((x - boundary) * expected > 0).sum()), n_seeds
    ci = interval(est, confidence)
    if not np.isfinite(ci["lo"]):
        verdict = INCONCLUSIVE
    else:
        below, above = ci["hi"] < boundary, ci["lo"] > boundary
        claimed, opposite = (above, below) if expected > 0 else (below, above)
        verdict = SUPPORTED if claimed else CONTRADICTED if opposite else INCONCLUSIVE
    p_claim, p_other = _one_sided(est, boundary, expected), _one_sided(est, boundary, -expected)
    p = min(1.0, 2 * min(p_claim, p_other)) if np.isfinite(p_claim) else float("nan")
    return {
        **ci,
        "verdict": verdict,
        "holds": int(holds or 0),
        "seeds": int(seeds or 0),
        "p_claim": p_claim,
        "p_other": p_other,
        "p": p,
        "need": need(
            est, abs(est["mean"] - boundary), two_sided=True, against=(est["mean"] - boundary) * expected < 0
        ),
    }


def need(est: dict, effect: float, two_sided: bool, against: bool = False, tests: int = 1) -> dict:
    """What `seeds_needed` reads of an estimate: the effect to detect, its se now, the seeds and
    df now, the df one more seed adds, the test's sidedness; `against`: the estimate points away
    from the claim, so the seeds that would decide it would decide it contradicted; `tests`: the
    tests its level is split over (Bonferroni: an equivalence contradicted by one of k differences)."""
    return {
        "against": bool(against),
        "tests": int(tests),
        "effect": float(effect),
        "se": est.get("se", float("nan")),
        "seeds": est.get("seeds", 0),
        "df": est.get("df", 0),
        "df_per_seed": est.get("df_per_seed", 1.0),
        "two_sided": two_sided,
    }


def monotone(
    slope, steps, expected: int, confidence: float, holds: int | None = None, seeds: int | None = None
) -> dict:
    """A trend: `slope` and `steps` (adjacent step -> estimate) of one model, or per-seed values
    (a Series and a DataFrame with one column per step). supported: the slope's interval wholly on
    the claimed side and no step's wholly on the other; contradicted: the slope wholly on the other
    side and no step wholly on the claimed one. Returns the slope's interval, verdict, holds (given,
    or the seeds whose own slope is on the claimed side), seeds, the steps' decisions (`steps`), the
    steps significantly against and toward the claim, and p (the slope's)."""
    if isinstance(steps, pd.DataFrame):
        steps = {c: one_sample(steps[c]) for c in steps.columns}
    dec = direction(slope, expected, confidence, holds=holds, seeds=seeds)
    step = {k: direction(e, expected, confidence) for k, e in (steps or {}).items()}
    against = [k for k, s in step.items() if s["verdict"] == CONTRADICTED]
    toward = [k for k, s in step.items() if s["verdict"] == SUPPORTED]
    verdict = (
        SUPPORTED
        if dec["verdict"] == SUPPORTED and not against
        else CONTRADICTED
        if dec["verdict"] == CONTRADICTED and not toward
        else INCONCLUSIVE
    )
    vetoes = against if dec["verdict"] == SUPPORTED else toward if dec["verdict"] == CONTRADICTED else []
    undecided = dec["verdict"] == INCONCLUSIVE and np.isfinite(dec.get("mean", float("nan")))
    if undecided:
        # the side more seeds would decide the slope on: a step already significant the other way
        # would veto that decision too
        vetoes = against if dec["mean"] * expected > 0 else toward
    why = (
        {
            "words": "more seeds would not decide it: "
            + (f"the step {vetoes[0]} goes" if len(vetoes) == 1 else f"the steps {', '.join(vetoes)} go")
            + " significantly "
            "against the direction of the slope"
            + (", which is decided" if dec["verdict"] != INCONCLUSIVE else "")
            + " (not a monotone trend)"
        }
        if vetoes
        else dec["need"]
    )
    if undecided and not vetoes:
        # steps not yet significant whose estimate points against the slope: the seeds that would
        # decide the slope may make them significant too, which would veto it (`need_text` checks)
        why = {
            **why,
            "contrary_steps": {
                k: {**s["need"], "mean": s["mean"]}
                for k, s in step.items()
                if np.isfinite(s.get("mean", float("nan"))) and s["mean"] * dec["mean"] < 0
            },
        }
    return {**dec, "verdict": verdict, "steps": step, "against": against, "toward": toward, "need": why}


def tost_level(confidence: float) -> float:
    """The level of the intervals an equivalence is decided on: both one-sided tests at 1 - confidence
    make a (1 - 2 alpha) interval (90 % for the conventional 95)."""
    return 1 - 2 * (1 - confidence)


def equivalence(
    diffs, margin: float, confidence: float, holds: int | None = None, seeds: int | None = None
) -> dict:
    """The claim "every difference lies within +-margin", by TOST at alpha = 1 - confidence (see
    the module's docstring). `diffs`: name -> estimate (with `holds`, the seeds whose every own
    difference is within the margin, and `seeds`), or a DataFrame with one column per difference
    and one row per seed (each seed a unit). Returns the differences' (1 - 2 alpha) intervals
    (`cis`, the TOST's), the one whose interval reaches farthest from 0 (`worst`), verdict, holds,
    seeds, p and `need`."""
    alpha = 1 - confidence
    if isinstance(diffs, pd.DataFrame):
        d = diffs.dropna()
        holds, seeds = int((d.abs() < margin).all(axis=1).sum()), len(d)
        diffs = {c: one_sample(d[c]) for c in d.columns}
    cis = {c: interval(e, tost_level(confidence)) for c, e in diffs.items()}
    p = float("nan")
    if not cis or not all(np.isfinite(ci["lo"]) for ci in cis.values()):
        verdict = INCONCLUSIVE
    else:
        p_inside = max(max(_one_sided(e, -margin, +1), _one_sided(e, margin, -1)) for e in diffs.values())
        p_outside = min(
            1.0,
            len(diffs)
            * min(min(_one_sided(e, margin, +1), _one_sided(e, -margin, -1)) for e in diffs.values()),
        )
        verdict = SUPPORTED if p_inside <= alpha else CONTRADICTED if p_outside <= alpha else INCONCLUSIVE
        p = min(p_inside, p_outside)

    def reach(c):
        return max(
            (abs(v) for v in (cis[c]["mean"], cis[c]["lo"], cis[c]["hi"]) if np.isfinite(v)), default=0.0
        )

    worst = max(cis, key=reach) if cis else None
    # what more seeds would decide: a difference whose mean lies outside the margin pulls towards
    # contradicted (the farthest out); else the one whose TOST is farthest from passing blocks support
    means = {c: e["mean"] for c, e in diffs.items() if np.isfinite(e.get("mean", float("nan")))}
    outside = [c for c, m in means.items() if abs(m) > margin]
    if outside:
        block = max(outside, key=lambda c: abs(means[c]))
    elif means:
        block = max(
            means, key=lambda c: max(_one_sided(diffs[c], -margin, +1), _one_sided(diffs[c], margin, -1))
        )
    else:
        block = None
    w = diffs[block] if block is not None else {}
    return {
        "cis": cis,
        "worst": worst,
        "verdict": verdict,
        "holds": int(holds or 0),
        "seeds": int(seeds or 0),
        "p": p,
        "need": need(
            w,
            abs(margin - abs(w["mean"])),
            two_sided=False,
            against=abs(w["mean"]) > margin,
            tests=len(diffs) if abs(w["mean"]) > margin else 1,  # contradicted at alpha / k, as decided above
        )
        if w
        else None,
    }


def holm(p: pd.Series) -> pd.Series:
    """Holm's step-down adjusted p-values of a family (nan values are not members)."""
    q = pd.Series(p, dtype=float).dropna().sort_values()
    m = len(q)
    adjusted = (q * (m - np.arange(m))).clip(upper=1.0).cummax()
    return adjusted.reindex(pd.Series(p).index)


def seeds_needed(
    effect: float,
    se: float,
    seeds: int,
    df: int,
    df_per_seed: float,
    alpha: float,
    power: float = POWER,
    two_sided: bool = True,
    most: int | None = None,
) -> int | None:
    """The smallest number of autoencoder seeds at which a t-test of an effect of size `effect`
    (its standard error `se` now, with `seeds` seeds and `df` degrees of freedom) reaches
    `power` at level `alpha` (None when `effect` and `se` are not finite): with S seeds the standard error is se * sqrt(seeds / S) (every seed
    adds the same models) and the df are df + (S - seeds) * df_per_seed. The power is that of the
    noncentral t: P(T' > t(1 - alpha/2, df)) for a two-sided test (alpha for a one-sided one),
    T' with noncentrality effect / se(S). None when no number up to `most` does (an effect within
    the noise: 0, or too small for its spread)."""
    from scipy import stats

    most = most or MOST
    if not (np.isfinite(effect) and np.isfinite(se) and se > 0 and effect > 0 and seeds >= 1):
        return None
    level = alpha / 2 if two_sided else alpha

    def reaches(s):
        dof = df + (s - seeds) * df_per_seed
        if dof < 1:
            return False
        ncp = effect / (se * np.sqrt(seeds / s))
        return float(stats.nct.sf(stats.t.isf(level, dof), dof, ncp)) >= power

    if not reaches(most):
        return None
    if reaches(2):
        return 2
    lo, hi = 2, most  # reaches(hi), not reaches(lo): the smallest s that reaches
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if reaches(mid) else (mid, hi)
    return hi


def need_text(row_need: dict | None, alpha: float, m: int, power: float = POWER) -> str:
    """What would decide an inconclusive row, in words: 'at this effect and spread, about 14
    autoencoder seeds (now 5) would decide it with 80 % power at alpha / m = 0.05 / 12 (...)'."""
    if row_need and row_need.get("words"):
        return row_need["words"]
    if not row_need or not np.isfinite(row_need.get("se", float("nan"))):
        return ""
    m, k = max(int(m), 1), max(int(row_need.get("tests", 1)), 1)
    s = seeds_needed(
        row_need["effect"],
        row_need["se"],
        row_need["seeds"],
        row_need["df"],
        row_need["df_per_seed"],
        alpha / (m * k),
        power,
        row_need["two_sided"],
    )
    level = f"α/m = {alpha:g}/{m}, Holm's strictest step, assumed as the worst case" + (
        f", split over its {k} differences (Bonferroni)" if k > 1 else ""
    )
    if s is None:
        return (
            f"no feasible number of seeds (up to {MOST}) would decide it: the effect is within the noise "
            f"(at {level})"
        )
    how = " as contradicted (the effect points against the claim)" if row_need.get("against") else ""
    contrary = _contrary_at(row_need.get("contrary_steps") or {}, s, alpha)
    if contrary:
        return (
            f"more seeds would likely not decide it: at the {s} {SEEDS} (now {row_need['seeds']}) that would decide "
            f"its slope{how} with {100 * power:g} % power (at {level}), {contrary}, would more likely than not "
            "be significant too (not a monotone trend)"
        )
    return (
        f"at this effect and spread, about {s} {SEEDS} (now {row_need['seeds']}) would decide it{how} "
        f"with {100 * power:g} % power (at {level})"
    )


def _contrary_at(steps: dict, s: int, alpha: float) -> str:
    """Of the steps pointing against a slope (step -> its `need` and mean, on the log scale), those
    that `s` seeds would more likely than not make significant at `alpha` (the level a step vetoes
    at), with their estimates as relative changes: 'the step 10→15 (+17.6 % in the measure decided
    on), which goes the other way'; '' where none."""
    said = []
    for k, st in steps.items():
        at = seeds_needed(st["effect"], st["se"], st["seeds"], st["df"], st["df_per_seed"], alpha, 0.5, True)
        if at is not None and at <= s:
            said.append(f"{k} ({relative(st['mean'])} in the measure decided on)")
    if not said:
        return ""
    if len(said) == 1:
        return f"the step {said[0]}, which goes the other way"
    return f"the steps {', '.join(said)}, which go the other way"


def holds_text(decision: dict) -> str:
    """'holds in 2 of 3 seeds' (the seeds in which the claim holds on its own)."""
    if not decision.get("seeds"):
        return "no seeds"
    return f"holds in {decision['holds']} of {count(decision['seeds'], 'seed')}"
