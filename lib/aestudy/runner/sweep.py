"""The sweep: every run of a study as a dependency graph, its tables, and its status.

A run starts as soon as the runs it uses are done (on the local pool and on Dask alike); a run
whose upstream run failed is skipped with the reason, and what an earlier execution left in its
folder stays as it was (no command deletes a run it does not recompute); a run's inputs (and so
its key) are fixed once its upstream runs are done. `runs.json` and one tidy table per stage record the outcome.
A stage's `timeout` from the parameter file and `retries` (of runs whose kernel died or that timed
out) reach every run as arguments: neither is an input of a run, so neither is in its key.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from .. import config, ondisk
from .. import study as declaration
from ..files import atomic_write_bytes, read_json, write_json
from ..messages import ParamsError, suggest
from . import records
from .devices import check_devices, required
from .execute import OK, execute_job, kept, previous_dir, skip_run
from .executors import SerialExecutor
from .kernel_manager import remove_stale_sockets
from .paramfile import ParamFile
from .plan import Job, Run, jobs, plan
from .progress import PROGRESS_DIR, Display


def data_checksum(study: ParamFile, download: bool = True) -> str | None:
    """The fingerprint of the dataset the `data` section names (downloaded first when its files are
    missing; without `download`, None then): part of data-reading runs' keys; "" when no planned
    stage reads data."""
    if not any(declaration.STAGES[s].reads_data for s in study.stages()):
        return ""
    from ..datafiles import RAW_FILES, check_raw_files, checksum, raw_folder

    dataset, data_dir = study.data["dataset"], study.data["data_dir"]
    if not all((raw_folder(dataset, data_dir) / f).is_file() for f in RAW_FILES):
        if not download:
            return None
        from ..science.data import ensure_dataset  # torch(vision) only to download: status stays torch-free

        ensure_dataset(dataset, data_dir)
    check_raw_files(dataset, data_dir)
    return checksum(dataset, data_dir)


def run_study(
    study: ParamFile,
    workers: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    force: bool = False,
    no_retrain: bool = False,
    stages: list[str] | None = None,
    progress: bool = True,
    schedule: str = "graph",
    retries: int = 0,
    cluster: dict | None = None,
    seeds_together: bool = False,
) -> list[dict]:
    """Execute every run, each as soon as the runs it uses are done (`schedule="stages"` waits
    for the whole previous stage instead: kept to measure the difference); write runs.json and
    one tidy table per stage as each stage completes. A run whose kernel died or that passed its
    stage's time limit is executed again up to `retries` times. With `progress`, the runs in
    flight and the sweep's ETA are shown on stderr (`runner.progress`). Returns one result dict
    per run (its "attempts": how many times its notebook was executed). `cluster`: the SLURM
    jobs of `executor="slurm"` (aestudy.cluster_params). `seeds_together`: the runs of a stage that
    declares `together` and differ only in that parameter (autoencode's seeds of one cell) execute
    as one job (`plan.Job`): one kernel, one process, one step K models wide; each run keeps its
    folder, record and key."""

    records.forget_module_digests()
    for s in stages or ():  # a misspelt --stage would otherwise run nothing and say nothing
        if s not in study.stages():
            raise ParamsError(
                f"--stage {s}: {config.relative(study.path)} has no such stage (its stages: "
                f"{', '.join(study.stages())}){suggest(s, study.stages())}"
            )
    runs = plan(study)  # a wrong selection is named before the dataset is looked at
    if stages:
        runs = [r for r in runs if r.stage in stages]
    if executor == SerialExecutor.name:  # the runs execute on this machine: their devices must be here
        check_devices(study, runs)
    checksum = data_checksum(study)
    remove_stale_sockets()  # of kernels killed with an earlier runner
    names = {r.name for r in runs}
    done = {u: _on_disk(r, u) for r in runs for u in r.upstream if u not in names}  # --stage
    units = jobs(runs) if seeds_together else runs
    wait_for, priority = _for_units(units, _wait_for(runs, schedule), _priority(runs))
    members = {u.name: [r.name for r in u.runs] for u in units if isinstance(u, Job)}
    by_name = {r.name: r for r in runs}
    pdir = config.profile_dir(study.profile)
    pdir.mkdir(parents=True, exist_ok=True)
    for tmp in [
        *pdir.glob(".*.tmp"),
        *ondisk.tables_dir(pdir).glob(".*.tmp"),
    ]:  # of a killed command (we hold the lock)
        tmp.unlink(missing_ok=True)
    atomic_write_bytes(pdir / ondisk.PARAMS_COPY, study.text.encode())
    results: dict[str, dict] = {}
    unwritten: OSError | None = None
    left = {s: sum(r.stage == s for r in runs) for s in dict.fromkeys(r.stage for r in runs)}
    start = time.perf_counter()
    current = set() if force or not progress else _up_to_date(study, names)
    display = Display(study.profile, runs, pdir / PROGRESS_DIR, enabled=progress, up_to_date=current)
    interrupted, ex = False, None
    try:
        with display, make_executor(executor, workers=workers, scheduler=scheduler, cluster=cluster) as ex:
            for unit_res in ex.run_graph(
                run_when_ready,
                units,
                wait_for,
                done,
                priority=priority,
                jobs=members,
                checksum=checksum,
                data=_data_spec(study, checksum),
                devices=required(study, runs),
                force=force,
                no_retrain=no_retrain,
                retries=retries,
                timeouts={s: study.timeout(s) for s in study.stages()},
                progress_dir=str(display.folder) if display.folder else None,
            ):
                for res in _each_run(unit_res, members, by_name):
                    results[f"{res['stage']}/{res['run_id']}"] = res
                    display.finished(res)
                    left[res["stage"]] -= 1
                    if not left[res["stage"]]:
                        try:  # a table that cannot be written (disk full) stops nothing: said once all runs are done
                            write_tables(pdir, [r for r in runs if r.stage == res["stage"]], results)
                        except OSError as exc:
                            unwritten = unwritten or exc
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the executor has stopped its workers (and jobs)
        interrupted = True
    used = getattr(ex, "workers_used", workers)  # SLURM: the jobs whose workers connected at once
    ordered = [results.get(r.name) or _interrupted(r) for r in runs]
    write_json(
        pdir / ondisk.RUNS_JSON,
        {
            "profile": study.profile,
            "params_file": str(study.path),
            "wall_seconds": time.perf_counter() - start,
            "workers": used,
            "executor": executor,
            "schedule": schedule,
            "seeds_together": seeds_together,
            "interrupted": interrupted,
            "runs": ordered,
        },
    )
    if interrupted:
        raise KeyboardInterrupt
    if unwritten is not None:
        raise unwritten
    return ordered


def _data_spec(study: ParamFile, checksum: str) -> dict | None:
    """The dataset this host read (its folder and checksum), for the Dask workers to read and check."""
    if not checksum:
        return None
    from ..datafiles import resolve_data_dir

    return {
        "dataset": study.data["dataset"],
        "dir": str(resolve_data_dir(study.data["data_dir"])),
        "checksum": checksum,
    }


def _interrupted(run: Run) -> dict:
    """runs.json's entry for a run the command was stopped before it finished (Ctrl-C, SIGTERM)."""
    return {
        "stage": run.stage,
        "run_id": run.run_id,
        "dir": run.dir,
        "grid": run.grid,
        "status": "interrupted",
        "error": "the command was interrupted before this run finished",
        "seconds": 0.0,
        "key": "",
        "attempts": 0,
    }


def _for_units(units: list, wait_for: dict, priority: dict) -> tuple[dict, dict]:
    """What each unit (a run or a `plan.Job`) waits for, and its priority: a job waits for what
    any of its runs waits for, a run that waits for a run of a job waits for the job, and a job
    goes as early as its most urgent run."""
    unit_of = {r.name: u.name for u in units if isinstance(u, Job) for r in u.runs}
    out_wait, out_priority = {}, {}
    for u in units:
        names = [r.name for r in u.runs] if isinstance(u, Job) else [u.name]
        out_wait[u.name] = list(dict.fromkeys(unit_of.get(w, w) for n in names for w in wait_for[n]))
        out_priority[u.name] = max(priority.get(n, 0) for n in names)
    return out_wait, out_priority


def _each_run(res: dict, jobs: dict, runs: dict | None = None) -> list[dict]:
    """The result of each run in a unit's result: a job's members; a job lost with its worker (one
    result under its first run's name, from the executor) gives that failure to each of its runs
    (`runs`: the Run of each name, for their folders)."""
    if "members" in res:
        return res["members"]
    lead = f"{res['stage']}/{res['run_id']}"
    names = next((ns for ns in jobs.values() if ns[0] == lead), [lead])
    own = lambda n: {"dir": runs[n].dir, "grid": runs[n].grid} if runs and n in runs else {}  # noqa: E731
    return [{**res, "run_id": n.split("/", 1)[1], **own(n)} for n in names]


def _by_run(upstream: dict, jobs: dict) -> dict:
    """The results a unit waited for, by run name (a job's unfolded into its runs')."""
    out = {}
    for name, res in upstream.items():
        if name in jobs:
            out.update({f"{r['stage']}/{r['run_id']}": r for r in _each_run(res, jobs)})
        else:
            out[name] = res
    return out


def run_when_ready(
    run: Run | Job,
    upstream: dict,
    checksum: str,
    force: bool = False,
    no_retrain: bool = False,
    threads: int = 0,
    timeouts: dict | None = None,
    retries: int = 0,
    progress_dir: str | None = None,
    data: dict | None = None,
    devices: dict | None = None,
    jobs: dict | None = None,
) -> dict:
    """Called when the runs `run` waits for are done (in a worker, on Dask too): skip it when one
    of its upstream runs did not complete, else fix its inputs from their keys and execute it
    (within its stage's time limit from `timeouts`, retried up to `retries` times), telling its
    progress through files under `progress_dir` (`runner.progress`). `data` (the dataset's folder
    and checksum) and `devices` (those the runs name outright) are for the Dask executor, which
    checks its workers read the one and have the others; on a Dask worker
    `checksum` is the one the worker read. A `plan.Job` (`jobs`: each job's runs by name) does
    this for each of its runs and executes those that can as one job (`execute.execute_job`)."""
    upstream = _by_run(upstream, jobs or {})
    runs = run.runs if isinstance(run, Job) else [run]
    skipped = {r.name: res for r in runs if (res := _prepare(r, upstream, checksum)) is not None}
    ready = [r for r in runs if r.name not in skipped]
    done = []
    if ready:
        done = execute_job(
            Job(ready),
            force=force,
            no_retrain=no_retrain,
            threads=threads,
            timeout=(timeouts or {}).get(run.stage),
            retries=retries,
            progress_dir=progress_dir,
        )["members"]
    by_name = skipped | {r.name: res for r, res in zip(ready, done)}
    results = [by_name[r.name] for r in runs]
    return {"members": results} if isinstance(run, Job) else results[0]


def _prepare(run: Run, upstream: dict, checksum: str) -> dict | None:
    """A skipped run's result when a run it uses did not complete; else None, its inputs fixed
    from the keys of the runs it uses."""
    bad = [u for u in run.upstream if upstream[u]["status"] not in OK]
    if bad:
        return skip_run(run, f"upstream run {bad[0]} {upstream[bad[0]]['status']}")
    run.inputs = records.inputs(run, {u: upstream[u]["key"] for u in run.upstream}, checksum)
    return None


def _wait_for(runs: list[Run], schedule: str) -> dict:
    """The runs each run waits for: its upstream runs, or (stages) every run of earlier stages."""
    if schedule == "graph":
        return {r.name: list(r.upstream) for r in runs}
    if schedule != "stages":
        raise ValueError(f"schedule must be 'graph' or 'stages', got {schedule!r}")
    order = list(dict.fromkeys(r.stage for r in runs))
    return {
        r.name: [u.name for u in runs if order.index(u.stage) < order.index(r.stage)]
        + [u for u in r.upstream if u not in {x.name for x in runs}]
        for r in runs
    }


def _priority(runs: list[Run], costs=None) -> dict:
    """Each run's priority among the ready runs: critical path first (`_critical_path_first`), but
    one run of each stage whose seconds nothing tells before them all (`_scouts_first`)."""
    from .eta import Costs

    costs = costs or Costs(runs, order_prior=True)
    return _scouts_first(runs, costs, _critical_path_first(runs, costs))


def _critical_path_first(runs: list[Run], costs) -> dict:
    """Critical path first: a run's priority is its expected cost plus the longest expected chain of
    runs of this sweep that wait on it (`eta.Costs`: recorded seconds, else its stage's siblings,
    else one each, weighed by its stage's cost model where it has one), so the autoencoders that
    correlate waits on go before transfer runs that are ready, and a long run (semisup) before
    short ones, on a fresh sweep too; a tie goes to the later stage. This keeps the last minutes
    from being one long run on one worker while the others idle."""
    names, order = {r.name for r in runs}, list(dict.fromkeys(r.stage for r in runs))
    waiting: dict[str, list[str]] = {r.name: [] for r in runs}
    for r in runs:
        for u in r.upstream:
            if u in names:
                waiting[u].append(r.name)
    chain: dict[str, float] = {}

    def length(name: str) -> float:
        if name not in chain:
            chain[name] = costs.expected(name) + max((length(w) for w in waiting[name]), default=0.0)
        return chain[name]

    for name in reversed(list(waiting)):  # the plan lists runs upstream first: short recursion
        length(name)
    return {r.name: round(chain[r.name] * 1000) * 100 + order.index(r.stage) for r in runs}


def _scouts_first(runs: list[Run], costs, priority: dict) -> dict:
    """One run of each stage whose seconds nothing tells (no cost model, no run recorded on disk,
    several runs in this sweep) goes first among the ready runs: a scout. Until one of its runs has
    finished, the ETA costs the stage at the mean of other stages' runs; the default's 32 transfer
    runs (12 s each) were costed at 24 s, and critical path first started none before three
    quarters of a fresh sweep, so its ETA ran 40-100 % long from a quarter of the way on
    (benchmarks/README.md, "How good the ETA is"). One short run early costs the critical path
    at most its own seconds on one worker."""
    from .eta import cost_model

    top = max(priority.values(), default=0)
    by_stage: dict[str, list[Run]] = {}
    for r in runs:  # plan order: a stage's first run is the one whose inputs come first
        by_stage.setdefault(r.stage, []).append(r)
    for stage, members in by_stage.items():
        if (
            len(members) > 1
            and cost_model(stage) is None
            and not any(r.name in costs.recorded for r in members)
        ):
            priority[members[0].name] = top + 1
    return priority


def _on_disk(run: Run, name: str) -> dict:
    """The result of an upstream run outside this sweep (--stage), from its completion record."""
    stage, run_id = name.split("/", 1)
    folder = Path(run.dir).parents[1] / name
    record, reason = records.verify_completion(folder)
    if record is None:  # absent, failed or incomplete, as `aestudy status` says it
        state, why, _ = records.state(folder, None)
        reason = why or reason
    return {
        "stage": stage,
        "run_id": run_id,
        "status": "ok" if record else state,
        "key": record["key"] if record else "",
        "error": reason,
    }


def _up_to_date(study: ParamFile, names: set[str]) -> set[str]:
    """The runs of this sweep that `status` finds complete now (a second's look, for the display;
    the executors still decide each run when the graph reaches it)."""
    try:
        return {r["run"] for r in status(study) if r["state"] in UP_TO_DATE and r["run"] in names}
    except Exception:  # the display's guess must never stop a sweep
        return set()


def status(study: ParamFile, damaged_data_unknown: bool = False) -> list[dict]:
    """The state of every run, and why, without executing (or downloading) anything. Without the
    dataset's files a data-reading run's state is unknown (its checksum is one of its inputs); a
    damaged file is DataDamaged (one line), or with `damaged_data_unknown` (`render`, which reads
    no data) an unknown state too, its reason naming the file."""
    from ..datafiles import DataDamaged, raw_folder

    records.forget_module_digests()
    runs = plan(study)
    folder = config.relative(raw_folder(study.data["dataset"], study.data["data_dir"]))
    unknown_why = f"no dataset in {folder} (set DATA_DIR)"
    try:
        checksum = data_checksum(study, download=False)
    except DataDamaged as exc:
        if not damaged_data_unknown:
            raise
        checksum, unknown_why = None, str(exc)
    keys: dict[str, str | None] = {}
    states: dict[str, str] = {}
    rows = []
    for r in runs:
        if checksum is None and declaration.STAGES[r.stage].reads_data:
            keys[r.name], states[r.name] = None, "unknown"
            rows.append({"run": r.name, "state": "unknown", "reason": unknown_why})
            continue
        known = all(keys.get(u) for u in r.upstream)
        run_inputs = records.inputs(r, {u: keys[u] for u in r.upstream}, checksum) if known else None
        state, reason, record = records.state(r.dir, run_inputs)
        if state != "complete" and (waiting := kept(r.dir, run_inputs)) is not None:
            state, reason, record = KEPT, _kept_why(state, reason, r.dir), waiting
        if not known and state == "stale":
            bad = next(u for u in r.upstream if not keys.get(u))
            reason = f"upstream {bad} is {states[bad]}"
            state = "unknown" if states[bad] == "unknown" else state
        keys[r.name] = record["key"] if state in UP_TO_DATE else None
        states[r.name] = state
        rows.append({"run": r.name, "state": state, "reason": reason})
    return rows + unplanned(study, runs)


KEPT = "kept"  # the state of a run whose complete execution, as planned now, waits aside: `run` puts it back
UP_TO_DATE = ("complete", KEPT)  # the states in which `run` executes nothing


def _kept_why(state: str, reason: str, run_dir) -> str:
    """Why a run is `kept`: what its folder holds, and where its complete execution waits."""
    held = "never run" if state == "absent" else f"{state}: {reason}" if reason else state
    return (
        f"its last execution did not complete ({held}); the one before it, complete and as planned now, "
        f"waits in {config.relative(previous_dir(run_dir))}: `run` puts it back without executing it"
    )


def unplanned(study: ParamFile, runs: list[Run]) -> list[dict]:
    """Run folders of the profile that this parameter file does not plan (say, `protocol/all`
    after the search was split per mode): named so that nobody mistakes them for current runs;
    the report ignores them, since its tables follow the plan."""
    planned = {Path(r.dir) for r in runs}
    root = ondisk.runs_dir(config.profile_dir(study.profile))
    found = sorted(
        d
        for stage in declaration.STAGES
        for d in (root / stage).glob("*")
        if d.is_dir() and not d.name.startswith(".") and d not in planned
    )
    return [
        {
            "run": f"{d.parent.name}/{d.name}",
            "state": "unplanned",
            "reason": f"not in {study.path}'s plan (an earlier plan's folder; the report ignores it)",
        }
        for d in found
    ]


def status_lines(rows: list[dict]) -> str:
    width = max((len(r["run"]) for r in rows), default=0)
    return "\n".join(f"{r['run']:<{width}}  {r['state']:<10}  {r['reason']}".rstrip() for r in rows)


TO_EXECUTE = ("stale", "incomplete", "failed", "absent")  # the states `run` executes a run in


def status_summary(study: ParamFile, rows: list[dict]) -> str:
    """'default: 73 runs planned: 70 complete, 3 stale; `aestudy run params/default.yaml` executes
    those 3': the counts of `status`'s planned rows, in the order their states first appear, what
    the next `run` would execute (runs of unknown state are left out of it: they need the data)
    and put back (the kept runs), and the run folders the parameter file no longer plans."""
    counts = Counter(r["state"] for r in rows)  # in the order the states first appear
    folders = counts.pop("unplanned", 0)  # run folders the parameter file no longer plans
    planned = sum(counts.values())
    words = ", ".join(f"{n} {s}" for s, n in counts.items()) or "none"
    todo, back = sum(counts[s] for s in TO_EXECUTE), counts[KEPT]
    does = [f"executes {'it' if todo == 1 else f'those {todo}'}"] if todo else []
    if back:
        does.append(
            f"puts back the {'kept one' if back == 1 else f'{back} kept'}"
            + ("" if todo else ", executing nothing")
        )
    nxt = (
        f"; `aestudy run {config.relative(study.path)}` {' and '.join(does)}"
        if does
        else ("; all up to date" if planned and counts["complete"] == planned else "")
    )
    return f"{study.profile}: {planned} run{'s' if planned != 1 else ''} planned: {words}{nxt}" + (
        f"; {folders} unplanned folder{'s' if folders != 1 else ''}" if folders else ""
    )


def write_tables(pdir: Path, runs: list[Run], results: dict) -> None:
    """One tidy CSV per stage: a row per run (or per record a run lists), with its status, grid,
    parameters and scalar metrics. Failed and skipped runs keep a row. `seconds` is what the run's
    execution took, a cached run's included (its record's; this sweep spent none on it)."""
    import pandas as pd

    rows = []
    for r in runs:
        res = results.get(r.name, {})
        status = res.get("status", "absent")
        base = {  # ondisk.TABLE_COLUMNS first: what the report requires of every table
            "run_id": r.run_id,
            "status": status,
            "error": res.get("error", ""),
            "seconds": res.get("recorded_seconds", 0.0) if status == "cached" else res.get("seconds", 0.0),
        }
        base.update(
            {
                k: v
                for k, v in {**r.params, **r.grid}.items()
                if k != declaration.OUT_DIR and not isinstance(v, (list, dict))
            }
        )
        metrics_path = Path(r.dir) / ondisk.METRICS
        metrics = read_json(metrics_path) if res.get("status") in OK and metrics_path.exists() else {}
        scalars = {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}
        rows += [{**base, **scalars, **rec} for rec in metrics.get("records") or [{}]]
    if rows:
        atomic_write_bytes(ondisk.table(pdir, runs[0].stage), pd.DataFrame(rows).to_csv(index=False).encode())


def summary(results: list[dict]) -> str:
    """What the sweep's last display line ('smoke: 14/14 runs in 0:57 (14 ok)') does not say: how
    many runs were retried, and each run that failed, was skipped or took several attempts, with
    why and its folder ('' when there is nothing to add)."""
    retried = [r for r in results if r.get("attempts", 0) > 1]
    lines = [f"{len(retried)} retried"] if retried else []
    for r in results:
        tries = f" ({r['attempts']} attempts)" if r.get("attempts", 0) > 1 else ""
        if r["status"] in ("failed", "skipped"):
            kept = (
                f"; {r['kept']}" if r.get("kept") else ""
            )  # a skipped run whose earlier files are left alone, a failed run whose complete one waits aside
            lines.append(
                f"  {r['status']}: {r['stage']}/{r['run_id']}: {r['error']}{kept}{tries}"
                f"  ({config.relative(r['dir'])})"
            )
        elif tries:
            lines.append(f"  {r['status']}: {r['stage']}/{r['run_id']}{tries}")
    return "\n".join(lines)


def make_executor(
    kind: str = "local", workers: int = 1, scheduler: str | None = None, cluster: dict | None = None
):
    """The executor a sweep runs on, by its name in the registry (`executors.EXECUTORS`): local
    (one process or a pool), dask (a local or given cluster) or slurm (`cluster`: the SLURM jobs,
    aestudy.cluster_params; defaults when None)."""
    from .executors import executor

    return executor(kind, workers=workers, scheduler=scheduler, cluster=cluster)
