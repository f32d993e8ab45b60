"""What the runs of a profile wrote under reports/<profile>/, read for the report: the tidy
tables, runs.json, params.yaml and the per-run files (metrics.json, saved figures).

Rows of runs that completed (`usable`) are kept apart from failed or skipped ones (`problems`),
so that every analysis uses the completed runs only and the report can name the others.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import config, metrics
from ..ondisk import OK
from ..report_params import ReportParams
from ..study import STAGES
from ..science.plots import heatmap_keys
from .text import fmt


@dataclass
class ProfileData:
    """Everything under reports/<profile>/ that the analyses read: the tidy tables (all rows,
    failed and skipped ones included), runs.json and params.yaml."""
    dir: Path
    tables: dict = field(default_factory=dict)
    runs: list = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def usable(self, stage: str) -> pd.DataFrame:
        """Rows of runs that completed (status ok or cached); empty when there are none."""
        return usable_rows(self.tables.get(stage))

    def problems(self, stage: str) -> pd.DataFrame:
        return problem_runs(self.tables.get(stage))

    def run_dir(self, stage: str, run_id: str) -> Path:
        return self.dir / "runs" / stage / str(run_id)

    def run_metrics(self, stage: str, run_id: str) -> dict | None:
        """A run's metrics.json, validated by the stage's declared model (aestudy.metrics): the
        keys the report reads are there and typed, or the run's metrics count as absent."""
        decl = STAGES.get(stage)
        return metrics.read(self.run_dir(stage, run_id) / metrics.METRICS, decl.metrics if decl else None)

    def swept(self, stage: str) -> list[str]:
        """The parameters the parameter file sweeps for `stage` (its grid, more than one value),
        less the seed: the unit of replication, not a parameter."""
        grid = (((self.params.get("stages") or {}).get(stage) or {}).get("grid")) or {}
        return [k for k, v in grid.items() if k != "seed" and isinstance(v, list) and len(v) > 1]

    @property
    def rules(self) -> ReportParams:
        """How the report decides: the `report:` section of the profile's params.yaml, the
        defaults of ReportParams where it is absent."""
        return ReportParams(**(self.params.get("report") or {}))

    @property
    def dataset(self) -> str:
        return (self.params.get("data") or {}).get("dataset", "mnist")

    @property
    def profile(self) -> str:
        return self.params.get("profile") or self.dir.name


def resolve_profile_dir(profile_dir) -> Path:
    """A relative path is taken from the project root (so the notebook runs from any folder)."""
    p = Path(profile_dir).expanduser()
    if not p.is_absolute():
        p = (config.PROJECT_ROOT / p) if not p.exists() else p.resolve()
    return p


def read_profile(profile_dir) -> ProfileData:
    import yaml

    pdir = resolve_profile_dir(profile_dir)
    tables = {}
    for csv in sorted((pdir / "tables").glob("*.csv")):
        try:
            tables[csv.stem] = pd.read_csv(csv, keep_default_na=True)
        except (OSError, ValueError, pd.errors.EmptyDataError):
            continue
    runs, params = [], {}
    try:
        runs = json.loads((pdir / "runs.json").read_text()).get("runs", [])
    except (OSError, ValueError):
        pass
    try:
        params = yaml.safe_load((pdir / "params.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        pass
    return ProfileData(pdir, tables, runs, params)


def usable_rows(df: pd.DataFrame | None) -> pd.DataFrame:
    if df is None or "status" not in df:
        return pd.DataFrame()
    return df[df["status"].isin(OK)].reset_index(drop=True)


def problem_runs(df: pd.DataFrame | None) -> pd.DataFrame:
    """One row per run whose status is neither ok nor cached: run_id, status, error."""
    cols = ["run_id", "status", "error"]
    if df is None or "status" not in df:
        return pd.DataFrame(columns=cols)
    bad = df[~df["status"].isin(OK)]
    bad = bad.reindex(columns=cols).fillna({"error": ""}).drop_duplicates("run_id")
    return bad.reset_index(drop=True)


# ------------------------------------------------------------------ per-run files

def autoencode_history(data: ProfileData) -> pd.DataFrame:
    """Test error per epoch of every usable autoencode run (long format), read from the runs'
    metrics.json (the tables hold final numbers only)."""
    rows = []
    for r in data.usable("autoencode").itertuples(index=False):
        m = data.run_metrics("autoencode", r.run_id)
        hist = (m or {}).get("history") or {}
        for ep, te, tr in zip(hist.get("epoch", []), hist.get("test_error", []), hist.get("train_error", [])):
            rows.append({"run_id": r.run_id, "latent_dim": int(r.latent_dim), "num_conv": int(r.num_conv),
                         "seed": int(r.seed), "epoch": int(ep), "test_error": float(te), "train_error": float(tr)})
    return pd.DataFrame(rows, columns=["run_id", "latent_dim", "num_conv", "seed", "epoch", "test_error",
                                       "train_error"])


def reconstruction_images(data: ProfileData, ae: pd.DataFrame) -> list[tuple[str, Path]]:
    """(caption, path) of the saved reconstructions of the smallest- and largest-d runs at the
    largest num_conv and the smallest seed (the ones that exist)."""
    if ae.empty:
        return []
    nc = int(ae["num_conv"].max())
    sub = ae[(ae["num_conv"] == nc) & (ae["seed"] == ae["seed"].min())].sort_values("latent_dim")
    picks = [sub.iloc[0]] + ([sub.iloc[-1]] if len(sub) > 1 else [])
    out = []
    for r in picks:
        p = data.run_dir("autoencode", r["run_id"]) / "reconstructions.png"
        if p.exists():
            out.append((f"Run `{r['run_id']}` (d={int(r['latent_dim'])}, num_conv={nc}, final test error "
                        f"{fmt(r['final_test_error'])}): test inputs on top, reconstructions below.", p))
    return out


def run_figures(data: ProfileData, stage: str, pattern: str) -> list[Path]:
    """Saved PNGs of a stage's usable runs matching `pattern` (e.g. 'interpolation_*.png')."""
    out = []
    for run_id in data.usable(stage).get("run_id", pd.Series(dtype=str)).drop_duplicates():
        out += sorted(data.run_dir(stage, run_id).glob(pattern))
    return out


CURVES = ("sharpness", "confidence", "pair_mass", "entropy")   # experiment 2's measures at every a


def interpolation_curves(data: ProfileData) -> pd.DataFrame:
    """Experiment 2's measures at every a (long format: pair, latent_dim, num_conv, seed, alpha and
    CURVES, missing where a run did not measure one), each a mean over the image pairs of a digit
    pair, read from the usable interpolate runs' metrics.json (the tables hold one row per digit
    pair and model)."""
    keys = ["pair", "latent_dim", "num_conv", "seed"]
    rows = []
    for run_id in data.usable("interpolate").get("run_id", pd.Series(dtype=str)).drop_duplicates():
        m = data.run_metrics("interpolate", run_id) or {}
        for c in m.get("curves") or []:
            n = len(m["alphas"])
            series = {k: c.get(k) or [float("nan")] * n for k in CURVES}
            rows += [{**{k: c.get(k) for k in keys}, "alpha": a, **{k: series[k][i] for k in CURVES}}
                     for i, a in enumerate(m["alphas"])]
    return pd.DataFrame(rows, columns=keys + ["alpha", *CURVES])


def correlation_matrices(data: ProfileData) -> tuple[dict, dict]:
    """The matrices of the smallest and largest d (every num_conv) of the smallest autoencoder
    seed, from the correlate runs' metrics, and their titles."""
    corr = data.usable("correlate")
    mats = {}
    for run_id in corr.get("run_id", pd.Series(dtype=str)).drop_duplicates():
        mats.update(((data.run_metrics("correlate", run_id) or {}).get("matrices") or {}))
    one = corr[corr["seed"] == corr["seed"].min()] if not corr.empty else corr
    keys = [k for k in heatmap_keys(one) if k in mats]
    titles = {r.model: f"d={int(r.latent_dim)}, num_conv={int(r.num_conv)}, seed {int(r.seed)}"
              for r in one.itertuples(index=False) if r.model in keys}
    return {k: mats[k] for k in keys}, titles
