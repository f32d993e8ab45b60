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


def satterthwaite_df(rows: pd.DataFrame, measure: str, over: str, within: str) -> tuple[float, int]:
    """(Welch-Satterthwaite df, the models' df if the cells shared one variance) of the mean over
    `within` of each level's least-squares slope of log(measure) over `over`, on cell means."""
    y = np.log(rows[measure].astype(float))
    cells = rows.assign(y=y).groupby([within, over])["y"].agg(["var", "count"]).reset_index()
    levels = cells[within].nunique()
    terms, pooled = [], 0
    for _, level in cells.groupby(within):
        x = level[over].to_numpy(float)
        w = (x - x.mean()) / ((x - x.mean()) ** 2).sum() / levels
        for wi, (_, cell) in zip(w, level.iterrows()):
            terms.append((wi**2 * cell["var"] / cell["count"], cell["count"] - 1))
            pooled += int(cell["count"] - 1)
    a = np.array(terms)
    return float(a[:, 0].sum() ** 2 / ((a[:, 0] ** 2) / a[:, 1]).sum()), pooled


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
        out.append(
            f"{claim}: over the seeds df {seeds - 1}; models independent, one variance per cell: "
            f"Welch-Satterthwaite df {welch:.1f} (one shared variance: {pooled})"
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
