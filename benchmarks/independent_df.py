"""The degrees of freedom each trend verdict would have if every autoencoder were its own unit.

Today the models of one seed share its batch order and part of its initialisation across the grid's
cells, so the verdicts are over the seeds (df = seeds - 1: 3 in the default, against the 8 per
verdict that STUDY.md asks of the default and full profiles). Were each model seeded for its own
cell, the models would be independent and a trend's slope (a weighted sum of the cell means of the
log measure) would have the Welch-Satterthwaite df of that sum, from each cell's own spread. The
spreads within a cell do not depend on whether seeds are shared across cells, so a profile's tables
today say what that design would give. Reads reports/<profile>/tables; prints one line per trend.

    python benchmarks/independent_df.py default large
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]

# claim -> (table, measure, the factor the trend is over, the factor it is taken within)
TRENDS = {
    "error_falls_with_d": ("autoencode", "final_test_error", "latent_dim", "num_conv"),
    "error_falls_with_size": ("autoencode", "final_test_error", "num_conv", "latent_dim"),
    "correlation_falls": ("correlate", "offdiag", "latent_dim", "num_conv"),
}


def _cells(rows: pd.DataFrame, measure: str, over: str, within: str) -> pd.DataFrame:
    """Each cell's variance and count of log(measure) (clipped at 1e-9, as the report's `usable`), in
    the blocks of `within` that hold at least two levels of `over` (the others have no slope)."""
    y = np.log(np.clip(rows[measure].astype(float), 1e-9, None))
    cells = rows.assign(y=y)[np.isfinite(y)].groupby([within, over])["y"].agg(["var", "count"]).reset_index()
    return cells[cells.groupby(within)[over].transform("nunique") >= 2]


def welch_df(terms: list[tuple[float, float]]) -> float:
    """Welch-Satterthwaite df of a sum of (variance of the term, its df), unrounded; nan where
    undefined: the report's own formula (`aestudy.report.linear.welch_satterthwaite`)."""
    from aestudy.report.linear import welch_satterthwaite

    return welch_satterthwaite(terms)


def satterthwaite_df(rows: pd.DataFrame, measure: str, over: str, within: str) -> tuple[float, int]:
    """(Welch-Satterthwaite df, the models' df if the cells shared one variance) of the mean over
    `within` of each block's least-squares slope of log(measure) over `over`, on cell means."""
    cells = _cells(rows, measure, over, within)
    levels = cells[within].nunique()
    terms = []
    for _, block in cells.groupby(within):
        x = block[over].to_numpy(float)
        w = (x - x.mean()) / ((x - x.mean()) ** 2).sum() / levels
        terms += [(wi**2 * v / n, n - 1) for wi, v, n in zip(w, block["var"], block["count"])]
    return welch_df(terms), int(sum(n for _, n in terms))


def step_dfs(rows: pd.DataFrame, measure: str, over: str, within: str) -> dict[str, float]:
    """The same df for each adjacent step of `over` (the mean over `within` of the difference of
    the two cells' means): the steps that can veto a trend (`report.decide.monotone`)."""
    cells = _cells(rows, measure, over, within)
    levels = sorted(cells[over].unique())
    out = {}
    for lo, hi in zip(levels, levels[1:]):
        both = cells[cells[over].isin([lo, hi])]
        both = both[both.groupby(within)[over].transform("nunique") == 2]
        k = both[within].nunique()
        out[f"{lo:g}→{hi:g}"] = welch_df([(v / n / k**2, n - 1) for v, n in zip(both["var"], both["count"])])
    return out


def profile_lines(tables: Path) -> list[str]:
    out = []
    for claim, (stage, measure, over, within) in TRENDS.items():
        path = tables / f"{stage}.csv"
        if not path.is_file():
            continue
        df = pd.read_csv(path)
        df = df[df["status"].isin(["ok", "cached"])]
        seeds = df["seed"].nunique()
        welch, pooled = satterthwaite_df(df, measure, over, within)
        steps = step_dfs(df, measure, over, within)
        fewest = min(steps, key=lambda k: steps[k] if np.isfinite(steps[k]) else -1) if steps else None
        out.append(
            f"{claim}: over the seeds df {seeds - 1}; models independent, one variance per cell: "
            f"Welch-Satterthwaite df {welch:.1f} (one shared variance: {pooled})"
            + (
                f"; its steps {min(steps.values()):.1f} (step {fewest}) to {max(steps.values()):.1f}"
                if steps
                else ""
            )
            + ("; undefined: a cell with fewer than 2 models or no spread" if not np.isfinite(welch) else "")
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("profiles", nargs="+", help="profile names (reports/<name>) or folders holding tables/")
    args = ap.parse_args(argv)
    for name in args.profiles:
        folder = Path(name) if Path(name, "tables").is_dir() else REPO / "reports" / name
        if not (folder / "tables").is_dir():
            print(f"error: {folder}: no tables/ (run the profile first)", file=sys.stderr)
            return 2
        print(f"{folder.name}:")
        for line in profile_lines(folder / "tables"):
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
