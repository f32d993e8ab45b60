"""What the runs of a profile wrote under reports/<profile>/, read for the report: the tidy
tables, runs.json, params.yaml and the per-run files (metrics.json, saved figures).

Rows of runs that completed (`usable`) are kept apart from failed or skipped ones (`problems`),
so that every analysis uses the completed runs only and the report can name the others.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import config, metrics, ondisk
from ..experiments import about
from ..files import CorruptArtifact, read_json
from ..ondisk import OK
from ..report_params import ReportParams
from ..study import STAGES


@dataclass
class ProfileData:
    """Everything under reports/<profile>/ that the analyses read: the tidy tables (all rows,
    failed and skipped ones included), runs.json and params.yaml."""

    dir: Path
    tables: dict = field(default_factory=dict)
    runs: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    report: dict | None = None  # the `report:` section to decide by, where not params.yaml's

    def usable(self, stage: str) -> pd.DataFrame:
        """Rows of runs that completed (status ok or cached); empty when there are none."""
        return usable_rows(self.tables.get(stage))

    def problems(self, stage: str) -> pd.DataFrame:
        return problem_runs(self.tables.get(stage))

    def run_dir(self, stage: str, run_id: str) -> Path:
        return ondisk.run_dir(self.dir, stage, run_id)

    def run_metrics(self, stage: str, run_id: str) -> dict | None:
        """A run's metrics.json, validated by the stage's declared model (aestudy.metrics): the
        keys the report reads are there and typed, or the run's metrics count as absent."""
        decl = STAGES.get(stage)
        return metrics.read(self.run_dir(stage, run_id) / metrics.METRICS, decl.metrics if decl else None)

    def computed_in(self, stage: str, key: str = "precision") -> list[str]:
        """The values of `key` that the stage's usable runs recorded in their resources.json
        (how they computed, such as the precision `auto` became on their hardware), sorted."""
        found = set()
        for run_id in self.usable(stage).get("run_id", []):
            path = self.run_dir(stage, str(run_id)) / ondisk.RESOURCES
            with contextlib.suppress(OSError, ValueError, CorruptArtifact):
                value = read_json(path).get(key)
                if value is not None:
                    found.add(str(value))
        return sorted(found)

    def declared(self, stage: str, part: str | None = None) -> dict:
        """What the parameter file (params.yaml, as run) declares for `stage`: its section, or one
        `part` of it (`params`, `grid`, `uses`); {} where absent."""
        section = (self.params.get("stages") or {}).get(stage) or {}
        return (section.get(part) or {}) if part else section

    def swept(self, stage: str) -> list[str]:
        """The parameters the parameter file sweeps for `stage` (its grid, more than one value),
        less the seed: the unit of replication, not a parameter."""
        grid = self.declared(stage, "grid")
        return [k for k, v in grid.items() if k != "seed" and isinstance(v, list) and len(v) > 1]

    @property
    def rules(self) -> ReportParams:
        """How the report decides: the `report:` section it was given (the parameter file it is
        rendered from or compared by), else that of the profile's params.yaml (the last run's), the
        defaults of ReportParams where it is absent."""
        return ReportParams(**self.report_section).for_runs(self.models_independent)

    @property
    def models_independent(self) -> bool:
        """Whether every model the verdicts use is its own unit: the study's design column
        (`about.DESIGN`: the stage, its column and the value that says so) holds that value in every
        usable run (runs from before the column was recorded shared their seeds: False)."""
        stage, column, value = about.DESIGN
        rows = self.usable(stage)
        return bool(len(rows)) and column in rows and bool((rows[column] == value).all())

    @property
    def report_section(self) -> dict:
        """The `report:` section as written ({} where absent): the one given, else params.yaml's."""
        section = self.report if self.report is not None else self.params.get("report")
        return section if isinstance(section, dict) else {}

    @property
    def dataset(self) -> str:
        return (self.params.get("data") or {}).get("dataset", about.DATASET)

    @property
    def profile(self) -> str:
        return self.params.get("profile") or self.dir.name


def resolve_profile_dir(profile_dir) -> Path:
    """A relative path is taken from the project root (so the notebook runs from any folder)."""
    p = Path(profile_dir).expanduser()
    if not p.is_absolute():
        p = (config.PROJECT_ROOT / p) if not p.exists() else p.resolve()
    return p


def read_table(csv: Path) -> pd.DataFrame:
    """A stage's table as the runner wrote it; ParamsError (one line naming the file) when it is not
    one: a damaged table read as no runs would make a report of zero seeds, confidently wrong."""
    from ..schema import ParamsError

    try:
        table = pd.read_csv(csv, keep_default_na=True)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        reason = f"unreadable ({type(exc).__name__})"
    else:
        missing = [c for c in ondisk.TABLE_COLUMNS if c not in table.columns]
        if not missing:
            return table
        reason = f"no {' or '.join(missing)} column"
    raise ParamsError(
        f"{config.relative(csv)}: not a table the runner wrote ({reason}); `python -m lib run` with the "
        "profile's parameter file writes it again from the runs' records, executing nothing that is complete"
    )


def read_profile(profile_dir, require_runs: bool = False, report: dict | None = None) -> ProfileData:
    """The profile's tables, runs.json and parameter copy, each as far as it can be read. With
    `require_runs` (the report notebook), a folder where no study has run is one line saying so,
    not a report of zero seeds. `report`: the `report:` section to decide by (None: the copy's)."""
    from ..bounded_yaml import load
    from ..schema import ParamsError

    pdir = resolve_profile_dir(profile_dir)
    if require_runs and not ondisk.runs_dir(pdir).is_dir():
        raise ParamsError(
            f"profile_dir {config.relative(pdir)}: no runs there; run the study first (`make report` for "
            "reports/default, `python -m lib run params/<profile>.yaml` for another), or set profile_dir"
        )
    tables = {csv.stem: read_table(csv) for csv in sorted(ondisk.tables_dir(pdir).glob("*.csv"))}
    runs, params = [], {}
    with contextlib.suppress(CorruptArtifact):  # absent or damaged: the title says it has no count
        runs = read_json(pdir / ondisk.RUNS_JSON).get("runs", [])
    runs = [r for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []
    try:  # the runner's copy of the parameter file, read within the same bounds
        params = load(pdir / ondisk.PARAMS_COPY)[1] or {}
    except ParamsError:
        pass
    return ProfileData(pdir, tables, runs, params, report)


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


def run_figures(data: ProfileData, stage: str, pattern: str) -> list[Path]:
    """Saved PNGs of a stage's usable runs matching `pattern` (e.g. 'interpolation_*.png')."""
    out = []
    for run_id in data.usable(stage).get("run_id", pd.Series(dtype=str)).drop_duplicates():
        out += sorted(data.run_dir(stage, run_id).glob(pattern))
    return out
