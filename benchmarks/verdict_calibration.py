"""How often the verdicts' decision rules decide a claim on null data (their false-decision rate).

The report decides a trend with `linear.trend` and `decide.monotone` on the log of a measure, and a
paired difference with `linear.mean_over_cells` and `decide.direction`. This simulates tables
shaped like the real ones with no effect at all, calls those functions exactly as the report does
(whatever version of them is installed), and prints, per setting, the fraction of replicates
decided "supported" or "contradicted" (both false under the null; nominal 1 - confidence, about
half on each side) beside its Monte Carlo standard error. Settings:

- trend: a d x num_conv grid (4 x 3 cells) x `--seeds` seeds, no true trend, each cell's spread
  the seed SD of the log measure in that cell of reports/default/tables/autoencode.csv
  (final_test_error) or correlate.csv (offdiag), which differ 15-20x between cells (read-only;
  built-in SDs of those tables when a file is absent, and it says so). With a share r > 0
  (`--trend-shares`) each seed also draws one effect for all its models, scaled by each cell's SD
  (the models of one seed share batch order and parts of their initialisation). Besides the
  verdict it prints how often the slope alone, and any adjacent step alone, is significant (its own
  two-sided t p-value on its se and df below 1 - confidence);
- difference: interpolate's design (3 num_conv cells x seeds, one model pair each) and transfer's
  (4 d cells x seeds, one encoder each), equal spread, a seed effect shared across the cells with
  share r of the variance (`--shares`, 0, 0.2 and 0.4);
- yardstick: independent models of one variance (for a trend: the RMS of autoencode's SDs; for a
  difference: r = 0), where the rules' own assumptions hold.

It prints figures and asserts nothing; each line as its setting finishes. About 2 minutes on 2
cores at the default 2,000 replicates (the per-seed `trend` costs about 30 ms a call).

    .venv/bin/python benchmarks/verdict_calibration.py [--reps 2000] [--seeds 4] [--shares 0 0.2 0.4]
        [--trend-shares 0] [--welch] [--lib /tmp/other-checkout/lib]
"""

from __future__ import annotations

import argparse
import functools
import inspect
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "reports" / "default" / "tables"
LATENT, CONV = (5, 10, 15, 20), (1, 2, 3)
CHUNK = 250  # replicates per task: results do not depend on the number of workers
# the seed SD of the log measure per cell of reports/default/tables (4 seeds; rows d 5-20, columns
# num_conv 1-3), for when a table is absent
BUILT_IN = {
    "autoencode": (
        "final_test_error",
        (
            (0.0133, 0.0118, 0.0121),
            (0.0126, 0.0159, 0.0226),
            (0.0035, 0.0321, 0.0457),
            (0.0252, 0.0481, 0.0542),
        ),
    ),
    "correlate": (
        "offdiag",
        (
            (0.2072, 0.2213, 0.2293),
            (0.0755, 0.0908, 0.0564),
            (0.0241, 0.1219, 0.0354),
            (0.0113, 0.0725, 0.0439),
        ),
    ),
}
DIFFS = {  # the report's paired-difference designs: (the cell column, its levels, the unit in words)
    "interpolate": ("num_conv", CONV, "model pairs"),
    "transfer": ("latent_dim", LATENT, "encoders"),
}


def cell_sds(name: str, tables: Path) -> tuple[np.ndarray, str]:
    """The seed SD of the log measure per (d, num_conv) cell, shape (4, 3), and where it came from."""
    column, built_in = BUILT_IN[name]
    path = tables / f"{name}.csv"
    source = f"built-in ({path} absent)"
    sd = {(d, c): v for d, row in zip(LATENT, built_in) for c, v in zip(CONV, row)}
    if path.exists():
        t = pd.read_csv(path)
        t = t[np.isfinite(t[column]) & (t[column] > 0)]
        got = np.log(t[column]).groupby([t["latent_dim"], t["num_conv"]]).std(ddof=1).dropna()
        if all((d, c) in got.index for d in LATENT for c in CONV):
            sd = {k: float(v) for k, v in got.items()}
            n = t.groupby(["latent_dim", "num_conv"])["seed"].nunique()
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            source = f"{shown} ({n.min()}-{n.max()} seeds a cell)"
        else:
            source = f"built-in ({path} lacks cells)"
    return np.array([[sd[(d, c)] for c in CONV] for d in LATENT]), f"log {column}: {source}"


def _import(lib: str | None):
    if lib and lib not in sys.path:
        sys.path.insert(0, lib)
    from aestudy.report import decide, linear

    return linear, decide


def _unit(fn, unit: str) -> dict:
    """`unit=` where the installed function still takes it (the report passed it once)."""
    return {"unit": unit} if "unit" in inspect.signature(fn).parameters else {}


def _two_sided_p(est: dict) -> float:
    from scipy import stats

    if not (est.get("df", 0) >= 1 and np.isfinite(est["mean"]) and est["se"] > 0):
        return float("nan")
    return float(2 * stats.t.sf(abs(est["mean"]) / est["se"], est["df"]))


def trend_chunk(task) -> np.ndarray:
    """Counts over one chunk of trend replicates: supported, contradicted, slope significant, any
    step significant, undecidable (no finite interval)."""
    lib, sd, share, seeds, reps, confidence, entropy = task
    linear, decide = _import(lib)
    rng = np.random.default_rng(entropy)
    alpha = 1 - confidence
    grid = pd.DataFrame(
        [(d, c, s) for d in LATENT for c in CONV for s in range(seeds)],
        columns=["latent_dim", "num_conv", "seed"],
    )
    kw = _unit(linear.trend, "autoencoders")
    x = np.asarray(LATENT, float)
    dx = (x - x.mean()) / ((x - x.mean()) ** 2).sum()
    counts = np.zeros(5)
    for _ in range(reps):
        shared = rng.standard_normal(seeds)  # one draw per seed, for all its models
        own = rng.standard_normal((len(LATENT), len(CONV), seeds))
        y = sd[:, :, None] * (np.sqrt(share) * shared + np.sqrt(1 - share) * own)
        d = grid.assign(_log=y.reshape(-1))
        slope, steps = linear.trend(d, "latent_dim", "_log", "num_conv", **kw)
        own_slope = np.einsum("d,dcs->s", dx, y) / len(CONV)  # each seed's within-num_conv slope
        dec = decide.monotone(slope, steps, -1, confidence, holds=int((own_slope < 0).sum()), seeds=seeds)
        p = [_two_sided_p(e) for e in steps.values()]
        counts += (
            dec["verdict"] == decide.SUPPORTED,
            dec["verdict"] == decide.CONTRADICTED,
            _two_sided_p(slope) < alpha,
            any(v < alpha for v in p),
            not np.isfinite(dec.get("lo", np.nan)),
        )
    return counts


def welch_trend_chunk(task) -> np.ndarray:
    """The trend counts of `trend_chunk` for the design that seeding every model for its own cell gives (see
    independent_df.py): every model independent (no seed effect), each cell's spread its own, and
    the slope and steps taken on cell means with one variance per cell and Welch-Satterthwaite df,
    then decided by the report's own `decide.monotone`. The slope and steps are the report's own
    (`linear.trend(independent=...)`: df rounded down); a checkout given by --lib needs that path
    (2026-12-07 on)."""
    lib, sd, _, seeds, reps, confidence, entropy = task
    linear, decide = _import(lib)
    rng = np.random.default_rng(entropy)
    alpha = 1 - confidence
    k = len(CONV)
    grid = pd.DataFrame(
        [(d, c, s) for d in LATENT for c in CONV for s in range(seeds)],
        columns=["latent_dim", "num_conv", "seed"],
    )
    counts = np.zeros(5)
    for _ in range(reps):
        y = sd[:, :, None] * rng.standard_normal((len(LATENT), k, seeds))
        slope, steps = linear.trend(
            grid.assign(_log=y.reshape(-1)), "latent_dim", "_log", "num_conv", independent="autoencoders"
        )
        dec = decide.monotone(slope, steps, -1, confidence, holds=0, seeds=seeds)
        counts += (
            dec["verdict"] == decide.SUPPORTED,
            dec["verdict"] == decide.CONTRADICTED,
            _two_sided_p(slope) < alpha,
            any(_two_sided_p(e) < alpha for e in steps.values()),
            not np.isfinite(dec.get("lo", np.nan)),
        )
    return counts


WELCH_SPREAD = 4.0  # --welch differences: the largest cell SD over the smallest, evenly between


def diff_chunk(task, welch: bool = False) -> np.ndarray:
    """Counts over one chunk of paired-difference replicates: supported, contradicted, undecidable.
    `welch`: the design per-cell seeding gives instead: every unit independent (no seed share), the
    cells' SDs 1 to WELCH_SPREAD times the smallest, the mean over cells decided by the report's own
    Welch path (`linear.mean_over_cells(independent=...)`)."""
    lib, design, share, seeds, reps, confidence, entropy = task
    linear, decide = _import(lib)
    rng = np.random.default_rng(entropy)
    column, levels, unit = DIFFS[design]
    grid = pd.DataFrame([(c, s) for c in levels for s in range(seeds)], columns=[column, "seed"])
    kw = {"independent": unit} if welch else _unit(linear.mean_over_cells, unit)
    sd = np.linspace(1.0, WELCH_SPREAD, len(levels))[:, None]
    counts = np.zeros(3)
    for _ in range(reps):
        if welch:
            y = sd * rng.standard_normal((len(levels), seeds))
        else:
            shared = rng.standard_normal(seeds)
            y = np.sqrt(share) * shared + np.sqrt(1 - share) * rng.standard_normal((len(levels), seeds))
        est = linear.mean_over_cells(grid.assign(diff=y.reshape(-1)), "diff", [column], **kw)
        own = y.mean(axis=0)
        dec = decide.direction(est, +1, confidence, holds=int((own > 0).sum()), seeds=seeds)
        counts += (
            dec["verdict"] == decide.SUPPORTED,
            dec["verdict"] == decide.CONTRADICTED,
            not np.isfinite(dec.get("lo", np.nan)),
        )
    return counts


welch_diff_chunk = functools.partial(diff_chunk, welch=True)


def run(pool, fn, args, task_of, reps: int, key: tuple) -> np.ndarray:
    """Sum of `fn`'s counts over chunks of `reps` replicates, each chunk its own random stream."""
    tasks = []
    for i, start in enumerate(range(0, reps, CHUNK)):
        entropy = np.random.SeedSequence([args.seed, *key, i])
        tasks.append((args.lib, *task_of, args.seeds, min(CHUNK, reps - start), args.confidence, entropy))
    return sum(pool.map(fn, tasks)) if pool else sum(map(fn, tasks))


def pct(k: float, n: int) -> str:
    return f"{100 * k / n:5.1f}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000, help="null replicates per setting")
    ap.add_argument("--seed", type=int, default=0, help="the simulation's random seed")
    ap.add_argument("--seeds", type=int, default=4, help="autoencoder seeds per cell of a simulated table")
    ap.add_argument("--confidence", type=float, default=0.95)
    ap.add_argument(
        "--shares",
        type=float,
        nargs="+",
        default=[0.0, 0.2, 0.4],
        help="differences: the seed effect's share",
    )
    ap.add_argument(
        "--trend-shares",
        type=float,
        nargs="+",
        default=[0.0],
        help="trends: the seed effect's share (scaled by each cell's SD); each costs a trend setting's time",
    )
    ap.add_argument(
        "--tables", type=Path, default=TABLES, help="where autoencode.csv and correlate.csv are read"
    )
    ap.add_argument(
        "--welch",
        action="store_true",
        help="also the trends of the design per-cell seeding would give: independent models, decided on "
        "cell means with one variance per cell and Welch-Satterthwaite df (benchmarks/independent_df.py)",
    )
    ap.add_argument("--lib", help="import aestudy from this folder (another checkout's lib/) instead")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    a = ap.parse_args(argv)
    linear, _ = _import(a.lib)
    alpha = 1 - a.confidence
    print(
        f"aestudy from {Path(linear.__file__).parents[1]}; trend{inspect.signature(linear.trend)}, "
        f"mean_over_cells{inspect.signature(linear.mean_over_cells)}",
        flush=True,
    )
    print(
        f"{a.reps} null replicates a setting, {a.seeds} seeds, confidence {a.confidence:g}: nominal false "
        f"decisions {100 * alpha:g} % ({100 * alpha / 2:g} % a side); Monte Carlo se at that rate "
        f"{100 * np.sqrt(alpha * (1 - alpha) / a.reps):.1f} points",
        flush=True,
    )
    sds = {name: cell_sds(name, a.tables) for name in BUILT_IN}
    for name, (sd, source) in sds.items():
        print(
            f"cell SDs, {name}: {source}; {sd.min():.4f}-{sd.max():.4f} ({sd.max() / sd.min():.0f}x)",
            flush=True,
        )
    equal = np.full((len(LATENT), len(CONV)), float(np.sqrt((sds["autoencode"][0] ** 2).mean())))
    trends = [("yardstick: equal SDs, independent", equal, 0.0, trend_chunk)] + [
        (f"{name} SDs, seed share {r:g}", sd, r, trend_chunk)
        for r in a.trend_shares
        for name, (sd, _) in sds.items()
    ]
    if a.welch:  # the alternative design: models independent, decided on cell means (independent_df.py)
        trends += [
            (f"{name} SDs, per-cell seeds, Welch", sd, 0.0, welch_trend_chunk)
            for name, (sd, _) in sds.items()
        ]
    pool = ProcessPoolExecutor(a.workers) if a.workers > 1 else None
    try:
        print(
            "\ntrend (log measure ~ d within num_conv, 4 x 3 cells, monotone, expected -1)\n"
            f"{'setting':<48} {'false %':>7} {'supp %':>6} {'contr %':>7} {'slope p<α %':>11} "
            f"{'any step p<α %':>14} {'no CI %':>7} {'s':>4}",
            flush=True,
        )
        for k, (label, sd, r, chunk) in enumerate(trends):
            t = time.perf_counter()
            c = run(pool, chunk, a, (sd, r), a.reps, (1, k))
            print(
                f"{label:<48} {pct(c[0] + c[1], a.reps):>7} {pct(c[0], a.reps):>6} {pct(c[1], a.reps):>7} "
                f"{pct(c[2], a.reps):>11} {pct(c[3], a.reps):>14} {pct(c[4], a.reps):>7} "
                f"{time.perf_counter() - t:4.0f}",
                flush=True,
            )
        print(
            "\npaired difference (mean_over_cells, direction, expected +1; equal SDs; share 0: the yardstick)"
            "\n"
            f"{'setting':<48} {'false %':>7} {'supp %':>6} {'contr %':>7} {'no CI %':>7} {'s':>4}",
            flush=True,
        )
        settings = [  # (design, share, chunk, words, the key of its random streams)
            (design, r, diff_chunk, f"share {r:g}", (2, j, k))
            for j, design in enumerate(DIFFS)
            for k, r in enumerate(a.shares)
        ]
        if a.welch:
            settings += [
                (design, 0.0, welch_diff_chunk, f"Welch, SDs 1-{WELCH_SPREAD:g}x", (3, j))
                for j, design in enumerate(DIFFS)
            ]
        for design, r, chunk, how, key in settings:
            column, levels, _ = DIFFS[design]
            t = time.perf_counter()
            c = run(pool, chunk, a, (design, r), a.reps, key)
            label = f"{design} ({len(levels)} {column} x {a.seeds}), {how}"
            print(
                f"{label:<48} {pct(c[0] + c[1], a.reps):>7} {pct(c[0], a.reps):>6} "
                f"{pct(c[1], a.reps):>7} {pct(c[2], a.reps):>7} {time.perf_counter() - t:4.0f}",
                flush=True,
            )
    finally:
        if pool:
            pool.shutdown()


if __name__ == "__main__":
    main()
