"""Runs: expand each stage's grid, wire runs to the upstream runs they use, key, execute.

A Run is one papermill execution of `notebooks/<stage>.ipynb` into
`reports/<profile>/runs/<stage>/<run-id>/`. Its cache key covers the notebook's code, its
parameters, the source of `lib/`, the dataset checksum and the keys of the runs it consumes:
a run whose completion record holds the same key, with every artifact's checksum intact,
is not executed again.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import artifacts
from .params import DATA_STAGES, ParamsError, Study

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO_ROOT / "notebooks"
ABBREV = {"latent_dim": "d", "num_conv": "nc", "h1": "h", "mode": "m", "seed": "s"}
# values that locate things rather than change results stay out of the cache key
KEY_EXCLUDED = ("out_dir", "data_dir", "checkpoints", "device")
# the files torchvision's MNIST and FashionMNIST check for in <data_dir>/<Dataset>/raw/
RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")
# parameters that identify a model: a downstream run with one of them uses only matching models
MODEL_KEYS = ("latent_dim", "num_conv")


def reports_dir() -> Path:
    return Path(os.environ.get("REPORTS_DIR") or REPO_ROOT / "reports").resolve()


def profile_dir(study: Study) -> Path:
    return reports_dir() / study.profile


KERNEL_MANAGER = "lib.pipeline.LocalKernelManager"


def _local_kernel_manager():
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        """Kernels talk over local IPC sockets: nothing listens on TCP ports, and ipykernel's
        'running over TCP without encryption' warning goes away."""

        def __init__(self, **kwargs):
            import tempfile
            import uuid

            kwargs.setdefault("transport", "ipc")
            # a socket path of its own: kernels of parallel workers must never share one
            kwargs.setdefault("ip", os.path.join(tempfile.gettempdir(), f"lib-kernel-{uuid.uuid4().hex[:12]}"))
            super().__init__(**kwargs)

    return LocalKernelManager


def __getattr__(name):  # the class is built lazily: jupyter_client is only imported to execute
    if name == "LocalKernelManager":
        return _local_kernel_manager()
    raise AttributeError(name)


@dataclass
class Run:
    stage: str
    run_id: str
    grid: dict
    params: dict                      # injected into the notebook (out_dir, checkpoints included)
    upstream: list[str] = field(default_factory=list)  # "stage/run_id" of the runs it consumes
    key: str = ""
    dir: str = ""

    @property
    def name(self) -> str:
        return f"{self.stage}/{self.run_id}"


def safe_id(text: str) -> str:
    """A path component that cannot climb out of its folder."""
    s = re.sub(r"[^A-Za-z0-9._=-]+", "_", str(text)).strip("._") or "run"
    return s[:120]


def run_id_for(grid: dict) -> str:
    if not grid:
        return "all"
    return safe_id("-".join(f"{ABBREV.get(k, k)}{_fmt(v)}" for k, v in grid.items()))


def _fmt(v) -> str:
    return "_".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)


def notebook_hash(stage: str) -> str:
    """Hash of a notebook's cells (type and source), not of outputs or metadata."""
    path = NOTEBOOKS / f"{stage}.ipynb"
    if not path.exists():
        raise ParamsError(f"{path}: notebook for stage '{stage}' is missing")
    nb = json.loads(path.read_text())
    cells = [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
             for c in nb["cells"]]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


# modules that only turn finished runs into the report: they cannot change a run's outputs,
# so editing them re-renders the report without re-executing any run
RENDER_ONLY = ("lib/report.py", "lib/render.py")


def lib_hash() -> str:
    h = hashlib.sha256()
    for p in sorted((REPO_ROOT / "lib").rglob("*.py")):
        if p.relative_to(REPO_ROOT).as_posix() in RENDER_ONLY:
            continue
        h.update(p.relative_to(REPO_ROOT).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _selects(selection: dict, params: dict) -> bool:
    for k, want in selection.items():
        wanted = want if isinstance(want, list) else [want]
        if params.get(k) not in wanted:
            return False
    return True


def plan(study: Study, data_checksum: str = "") -> list[Run]:
    """Every run of the study in dependency order, wired and keyed; ParamsError when a `uses`
    selection matches no run."""
    out_root = profile_dir(study) / "runs"
    by_stage: dict[str, list[Run]] = {}
    code = lib_hash()
    data = study.spec.data.model_dump()
    for stage in study.stages():
        st = study.spec.stages[stage]
        runs = []
        nb_hash = notebook_hash(stage)
        for point in study.grid_points(stage):
            params = dict(point["params"])
            if stage in DATA_STAGES:
                params.update(data)
            run = Run(stage, run_id_for(point["grid"]), point["grid"], params)
            checkpoints = []
            for up, selection in st.uses.items():
                candidates = [u for u in by_stage[up] if _selects(selection, u.params)]
                where = f"{study.path}: stages.{stage}.uses.{up}"
                for k, want in selection.items():
                    for v in (want if isinstance(want, list) else [want]):
                        if not any(u.params.get(k) == v for u in candidates):
                            raise ParamsError(f"{where}.{k}: {v!r} matches no {up} run (the {up} "
                                              f"runs have {k} in {sorted({u.params.get(k) for u in by_stage[up]})})")
                # a downstream run that names a model (e.g. transfer's latent_dim) gets that model
                shared = [k for k in MODEL_KEYS if k in run.params and k in stage_fields(up)]
                matched = [u for u in candidates if all(u.params.get(k) == run.params[k] for k in shared)]
                if not matched:
                    raise ParamsError(f"{where}: no {up} run matches {run.name} "
                                      "(" + ", ".join(f"{k}={run.params[k]}" for k in shared) + ")")
                run.upstream += [u.name for u in matched]
                checkpoints += [str(Path(u.dir) / "model.pt") for u in matched]
            if st.uses:
                run.params["checkpoints"] = checkpoints
            run.dir = str(out_root / stage / run.run_id)
            run.params["out_dir"] = run.dir
            upstream_keys = [r.key for up in st.uses for r in by_stage[up] if r.name in run.upstream]
            keyed = {k: v for k, v in run.params.items() if k not in KEY_EXCLUDED}
            run.key = hashlib.sha256(json.dumps(
                {"stage": stage, "notebook": nb_hash, "params": keyed, "lib": code,
                 "data": data_checksum if stage in DATA_STAGES else "", "upstream": upstream_keys},
                sort_keys=True).encode()).hexdigest()[:20]
            runs.append(run)
        ids = [r.run_id for r in runs]
        if len(set(ids)) != len(ids):
            raise ParamsError(f"{study.path}: stages.{stage}.grid: two grid points give the same run id")
        by_stage[stage] = runs
    return [r for s in study.stages() for r in by_stage[s]]


def stage_fields(stage: str) -> tuple:
    from .params import STAGE_PARAMS

    return tuple(STAGE_PARAMS[stage].model_fields)


# ---------------------------------------------------------------- executing one run

def run_status(run: Run) -> tuple[str, str]:
    """("complete", "") when the run's outputs are intact for this key, else (state, reason)."""
    record, reason = artifacts.verify_completion(run.dir)
    if record is None:
        return ("absent" if not Path(run.dir).exists() else "incomplete"), reason
    if record.get("key") != run.key:
        return "stale", "parameters, code or inputs changed"
    return "complete", ""


def execute_run(run: Run, force: bool = False, no_retrain: bool = False, threads: int = 0) -> dict:
    """Execute one run with papermill unless it is complete; never raises for a failing run."""
    result = {"stage": run.stage, "run_id": run.run_id, "dir": run.dir, "key": run.key,
              "grid": run.grid, "error": "", "seconds": 0.0}
    state, reason = run_status(run)
    if state == "complete" and not force:
        return {**result, "status": "cached"}
    if no_retrain:
        return {**result, "status": "failed",
                "error": f"--no-retrain: {run.name} would need to run ({state}: {reason or 'no outputs'})"}
    import papermill as pm  # only when a run executes: the import alone takes about 1.5 s

    out = Path(run.dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    nb_out = out / f"{run.stage}.ipynb"
    start = time.perf_counter()
    try:
        with _thread_env(threads):  # the kernel inherits this process's environment
            pm.execute_notebook(str(NOTEBOOKS / f"{run.stage}.ipynb"), str(nb_out),
                                parameters=run.params, kernel_name="python3", language="python",
                                cwd=str(REPO_ROOT), progress_bar=False, log_output=False,
                                kernel_manager_class=KERNEL_MANAGER)
    except BaseException as exc:  # a crash in one run must not take the others down
        seconds = time.perf_counter() - start
        error = _one_line(exc)
        artifacts.write_json(out / artifacts.FAILED, {
            "status": "failed", "key": run.key, "error": error, "seconds": seconds,
            "traceback": traceback.format_exc()[-20000:]})
        if isinstance(exc, KeyboardInterrupt):
            raise
        return {**result, "status": "failed", "error": error, "seconds": seconds}
    seconds = time.perf_counter() - start
    artifacts.write_completion(out, {"status": "ok", "key": run.key, "stage": run.stage,
                                     "run_id": run.run_id, "grid": run.grid, "seconds": seconds,
                                     "upstream": run.upstream,
                                     "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    return {**result, "status": "ok", "seconds": seconds}


@contextlib.contextmanager
def _thread_env(threads: int):
    """LIB_THREADS / OMP_NUM_THREADS for the kernel started inside, restored afterwards."""
    names = ("LIB_THREADS", "OMP_NUM_THREADS")
    saved = {n: os.environ.get(n) for n in names}
    if threads:
        os.environ.update({n: str(threads) for n in names})
    try:
        yield
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


def _one_line(exc: BaseException) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    lines = [ln for ln in str(evalue).splitlines() if ln.strip()]
    return f"{ename}: {lines[-1] if lines else ''}".strip()


def skip_run(run: Run, reason: str) -> dict:
    out = Path(run.dir)
    if out.exists():
        shutil.rmtree(out)
    artifacts.write_json(out / artifacts.FAILED, {"status": "skipped", "key": run.key, "error": reason})
    return {"stage": run.stage, "run_id": run.run_id, "dir": run.dir, "key": run.key,
            "grid": run.grid, "status": "skipped", "error": reason, "seconds": 0.0}


# ---------------------------------------------------------------- the sweep

def run_study(study: Study, workers: int = 1, executor: str = "local", scheduler: str | None = None,
              force: bool = False, no_retrain: bool = False, stages: list[str] | None = None,
              progress: bool = True) -> list[dict]:
    """Execute every run stage by stage (independent runs in parallel); write runs.json and
    one tidy table per stage. Returns one result dict per run."""
    from tqdm import tqdm

    from . import data as data_mod
    from .executors import make_executor

    checksum = ""
    if any(s in DATA_STAGES for s in study.stages()):
        d = study.spec.data
        raw = data_mod.raw_folder(d.dataset, d.data_dir)
        if not all((raw / f).is_file() for f in RAW_FILES):  # else no need to load both splits (~2 s)
            data_mod.ensure_dataset(d.dataset, d.data_dir)
        checksum = data_mod.checksum(d.dataset, d.data_dir)
    runs = plan(study, checksum)
    if stages:
        runs = [r for r in runs if r.stage in stages]
    pdir = profile_dir(study)
    pdir.mkdir(parents=True, exist_ok=True)
    artifacts.atomic_write_bytes(pdir / "params.yaml", study.text.encode())
    results: dict[str, dict] = {}
    start = time.perf_counter()
    bar = tqdm(total=len(runs), desc=f"{study.profile}", unit="run", disable=not progress,
               file=sys.stderr)
    with make_executor(executor, workers=workers, scheduler=scheduler) as ex:
        for stage in dict.fromkeys(r.stage for r in runs):
            todo, stage_runs = [], [r for r in runs if r.stage == stage]
            for r in stage_runs:
                bad = [u for u in r.upstream if u in results and results[u]["status"] not in ("ok", "cached")]
                if bad:
                    results[r.name] = skip_run(r, f"upstream run {bad[0]} {results[bad[0]]['status']}")
                    bar.update(1)
                else:
                    todo.append(r)
            for res in ex.map(execute_run, todo, force=force, no_retrain=no_retrain):
                results[f"{res['stage']}/{res['run_id']}"] = res
                bar.set_postfix_str(f"{res['stage']}/{res['run_id']} {res['status']}", refresh=False)
                bar.update(1)
            write_tables(pdir, stage_runs, results)
    bar.close()
    ordered = [results[r.name] for r in runs]
    artifacts.write_json(pdir / "runs.json", {
        "profile": study.profile, "params_file": str(study.path), "wall_seconds": time.perf_counter() - start,
        "workers": workers, "executor": executor, "runs": ordered})
    return ordered


def write_tables(pdir: Path, runs: list[Run], results: dict) -> None:
    """One tidy CSV per stage: a row per run (or per record a run lists), with its status,
    parameters and scalar metrics. Failed and skipped runs keep a row."""
    import pandas as pd

    rows = []
    for r in runs:
        res = results.get(r.name, {})
        base = {"run_id": r.run_id, "status": res.get("status", "absent"), "error": res.get("error", ""),
                "seconds": res.get("seconds", 0.0)}
        base.update({k: v for k, v in r.params.items()
                     if k not in ("out_dir", "checkpoints") and not isinstance(v, (list, dict))})
        metrics_path = Path(r.dir) / "metrics.json"
        metrics = artifacts.read_json(metrics_path) if res.get("status") in ("ok", "cached") and metrics_path.exists() else {}
        scalars = {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}
        records = metrics.get("records")
        if records:
            rows += [{**base, **scalars, **rec} for rec in records]
        else:
            rows.append({**base, **scalars})
    if rows:
        table_dir = pdir / "tables"
        table_dir.mkdir(parents=True, exist_ok=True)
        stage = runs[0].stage
        artifacts.atomic_write_bytes(table_dir / f"{stage}.csv", pd.DataFrame(rows).to_csv(index=False).encode())


def summary(results: list[dict]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    lines = [", ".join(f"{n} {s}" for s, n in counts.items())]
    for r in results:
        if r["status"] in ("failed", "skipped"):
            lines.append(f"  {r['status']}: {r['stage']}/{r['run_id']}: {r['error']}  ({r['dir']})")
    return "\n".join(lines)


def report_key(study: Study) -> str:
    """What the report is made of: every run's completion record, the analyses notebook, the
    whole of lib/ (render modules and templates included) and the parameter file."""
    pdir = profile_dir(study)
    h = hashlib.sha256(study.text.encode())
    for p in sorted((pdir / "runs").glob("*/*/*.json")):
        if p.name in (artifacts.COMPLETE, artifacts.FAILED):
            h.update(p.relative_to(pdir).as_posix().encode() + p.read_bytes())
    h.update(notebook_hash("analyses").encode())
    for p in sorted((REPO_ROOT / "lib").rglob("*")):
        if p.is_file() and p.suffix in (".py", ".j2", ".json", ".css"):
            h.update(p.relative_to(REPO_ROOT).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


def render(study: Study, if_changed: bool = False) -> dict | None:
    """Render the report; with `if_changed`, skip when it was rendered from exactly these runs
    and this code (what `run` does, so a sweep with nothing new finishes in seconds)."""
    from .render import render as _render

    pdir = profile_dir(study)
    key = report_key(study)
    stamp = pdir / "report.key"
    if if_changed and (pdir / "report.html").exists() and stamp.exists() and stamp.read_text() == key:
        print(f"report: {pdir / 'report.html'} is up to date", file=sys.stderr)
        return None
    out = _render(study)
    artifacts.atomic_write_bytes(stamp, key.encode())
    return out
