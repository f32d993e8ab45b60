"""Where runs execute: in this process, in a local process pool, on a Dask cluster, or on Dask
workers in SLURM jobs (`runner.slurm`).

All run the same dependency graph with the same picklable function and give the same results:
a run starts as soon as the runs it waits for are done (`run_graph`). Both the local pool and
Dask schedule from here: a run is handed over once its inputs are ready; Dask's scheduler then
places it on a free worker, highest priority first.

The torch thread count of each run is the machine's cores divided by the number of workers. The
function gets it as `threads` (the runner exports it as LIB_THREADS / OMP_NUM_THREADS to the
notebook's kernel, where `train.setup` applies it); in a worker process the BLAS thread variables
are set to the same share first, overriding the 1 that Dask's nanny puts there, so a kernel sees
the same thread settings under every executor.

The executors are a registry, as papermill's engines are: `EXECUTORS` maps each name that
`aestudy run --executor` takes to its class; every class declares its `name`, the command's
`options` it takes (of `workers`, `scheduler`, `cluster`), `create(**options)` and the one
protocol (`run_graph`, a context manager; `workers_used` for runs.json where it differs).
`executor(name, **options)` makes one.
An executor defined in another module is named here by that module (`LATER`: `runner.slurm`,
which imports this one), imported when the registry is first read, and registers itself.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing as mp
import os
import signal
import sys
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from ..files import write_json
from ..messages import ParamsError, clip
from . import orphans

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
CONNECT_SECONDS = 10  # how long `--scheduler ADDRESS` waits for a Dask scheduler to answer


def _in_worker(fn, item, threads: int, kwargs: dict, *args):
    """Call `fn` in a pool or Dask worker process with its thread share in the environment."""
    if threads:
        os.environ.update({name: str(threads) for name in THREAD_VARS})
    return fn(item, *args, threads=threads, **kwargs)


def _ready(pending: list, results: dict, wait_for: dict, priority: dict) -> list:
    """The pending runs whose runs to wait for are done, highest priority first (then in order)."""
    ready = [r for r in pending if all(n in results for n in wait_for[r.name])]
    return sorted(ready, key=lambda r: -priority.get(r.name, 0))


EXECUTORS: dict[str, type] = {}  # name -> executor class (`register`); see `registry()`
LATER = {"slurm": f"{__package__}.slurm"}  # name -> the module that registers it when imported


def register(cls: type) -> type:
    """Class decorator: `cls.name` becomes a value of `--executor`."""
    EXECUTORS[cls.name] = cls
    return cls


def registry() -> dict[str, type]:
    """Every executor by name, in the order --executor lists them (local, dask, slurm)."""
    for module in LATER.values():
        importlib.import_module(module)  # registers its executor (a module already imported: nothing)
    return EXECUTORS


def executor(name: str = "local", **options):
    """The executor `name` made from the options the command was given (`workers`, `scheduler`,
    `cluster`), each class taking those it declares."""
    classes = registry()
    if name not in classes:
        names = [repr(n) for n in classes]
        raise ValueError(f"executor must be {', '.join(names[:-1])} or {names[-1]}, got {name!r}")
    cls = classes[name]
    return cls.create(**{k: v for k, v in options.items() if k in cls.options})


@register
class SerialExecutor:
    """One run at a time: the first ready run by priority. As `local` (the registry's entry), a
    process pool instead when `workers` > 1 (`LocalPoolExecutor`)."""

    name = "local"
    options = ("workers",)

    def __init__(self, threads: int = 0):
        self.threads = threads

    @classmethod
    def create(cls, workers: int = 1):
        threads = threads_per_worker(workers)
        return SerialExecutor(threads) if workers <= 1 else LocalPoolExecutor(workers, threads)

    def run_graph(self, fn, runs, wait_for: dict, done: dict, priority: dict | None = None, **kwargs):
        """Yield fn(run, {name: result of each run it waits for}) for every run of `runs` (in
        dependency order), each as soon as its runs are done; among ready runs, the highest
        `priority` starts first. `done` holds results known before (runs outside this sweep)."""
        results, pending = dict(done), list(runs)
        while pending:
            run = _ready(pending, results, wait_for, priority or {})[0]
            pending.remove(run)
            results[run.name] = fn(
                run, {n: results[n] for n in wait_for[run.name]}, threads=self.threads, **kwargs
            )
            yield results[run.name]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        from .kernels import shutdown_all

        shutdown_all()  # this process's warm kernel (pool and Dask workers shut down their own)
        return False


class LocalPoolExecutor(SerialExecutor):
    """N spawned processes; when one is free, the first ready run by priority starts (no queue:
    a run that becomes ready later can still start before runs that were ready earlier)."""

    def __init__(self, workers: int, threads: int):
        super().__init__(threads)
        self.workers = workers
        # workers (started by the thread that submits, which also shuts the pool down) die with
        # this process, should it be killed (see orphans)
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=mp.get_context("spawn"),
            initializer=orphans.die_with_parent,
            initargs=(os.getpid(),),
        )

    def run_graph(self, fn, runs, wait_for: dict, done: dict, priority: dict | None = None, **kwargs):
        results, pending, running = dict(done), list(runs), {}
        while pending or running:
            for run in _ready(pending, results, wait_for, priority or {})[: self.workers - len(running)]:
                pending.remove(run)
                upstream = {n: results[n] for n in wait_for[run.name]}
                running[self.pool.submit(_in_worker, fn, run, self.threads, kwargs, upstream)] = run
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                run = running.pop(fut)
                results[run.name] = fut.result()
                yield results[run.name]

    def __exit__(self, *exc):
        if exc[0] is not None and issubclass(exc[0], KeyboardInterrupt):
            _interrupt_workers(self.pool)
        self.pool.shutdown(wait=True, cancel_futures=True)
        return False


def _interrupt_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the runs the pool's workers are executing, as Ctrl-C does: a SIGTERM reaches this
    process alone, and Ctrl-C's SIGINT may not have reached workers in another process group.
    Each worker's run then ends as interrupted and the shutdown does not wait for it."""
    for process in list(getattr(pool, "_processes", {}).values()):  # the stdlib keeps them by pid
        with contextlib.suppress(OSError, ValueError):
            if process.is_alive():
                os.kill(process.pid, signal.SIGINT)


def _on_dask_worker(check: dict, fn, item, threads: int, kwargs: dict, *args):
    """`_in_worker` on a Dask worker that has passed the cluster check (the data read where this
    sweep's host reads it, its checksum the one the run records); the result says where it ran."""
    from . import cluster

    cluster.adopt_data(check)
    cluster.verify(check)
    seen = cluster.seen_checksum(check)
    if seen is not None:
        kwargs = {**kwargs, "checksum": seen}
    res = _in_worker(fn, item, threads, kwargs, *args)
    if any(m.get("job_ending") for m in res.get("members", [res])):
        where = cluster.where()  # not a result: the run executes again in another job, under --retries
        raise cluster.JobEnding(cluster.job_lost(where["slurm_job_id"], where["host"]))
    return {**res, "where": cluster.where()}


@register
class DaskExecutor(SerialExecutor):
    """Runs on a Dask cluster: an existing one (`scheduler`, an address) or a LocalCluster. As
    with the local pool, when a worker thread is free the first ready run by priority is
    submitted, and Dask's scheduler places it on the free worker. No run waits in a worker's
    queue: a worker that dies takes only the run it was executing with it (Dask counts every
    run assigned to a lost worker as one that killed it).

    Outputs go to the run directories, so workers must share the filesystem of reports/: each
    worker is checked before it gets a run (`runner.cluster`; exit 2 naming its host and the
    path). A worker that dies under a run (its SLURM job cancelled, the out-of-memory killer)
    fails that run with one line naming it, or submits it again under `retries`; the other runs
    go on. On the clusters the runner starts, Dask itself never re-executes a run
    (`allowed-failures: 0`); an existing scheduler's own setting applies there.
    """

    name = "dask"
    options = ("workers", "scheduler")
    TICK_S = 2.0  # how often lost SLURM jobs are replaced and new workers checked

    @classmethod
    def create(cls, workers: int = 1, scheduler: str | None = None):
        return cls(workers, threads_per_worker(workers), scheduler)

    def __init__(self, workers: int, threads: int, scheduler: str | None = None):
        super().__init__(threads)
        self.cluster, self.known = None, {}
        if scheduler:
            from dask.distributed import Client

            try:
                self.client = Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
            except (OSError, ValueError, TypeError) as exc:  # nothing answers there, or not an address
                raise ParamsError(
                    f"--scheduler {clip(scheduler)}: no Dask scheduler answered within {CONNECT_SECONDS} s "
                    f"({clip(exc, 160)})"
                ) from None
        else:
            self.start(workers)

    def start(self, workers: int) -> None:
        import dask
        from dask.distributed import Client, LocalCluster

        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            # no dashboard, and the scheduler's HTTP server (which distributed starts even without one)
            # on a free port: on 8787 it warned "Port 8787 is already in use" beside a running dashboard
            self.cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                scheduler_kwargs={"dashboard": False},
            )
        self.client = Client(self.cluster)

    def job_of(self, worker_name) -> str | None:
        """The SLURM job id of a worker (by its Dask name), where this executor knows it."""
        return None

    def maintain(self, remaining: int) -> None:
        """Called every TICK_S while runs remain (SLURM: replace jobs that left the queue)."""

    def wait_for_workers(self) -> None:
        self.client.wait_for_workers(1)

    def run_graph(self, fn, runs, wait_for: dict, done: dict, priority: dict | None = None, **kwargs):
        from . import cluster

        data = kwargs.pop("data", None)  # {"dataset", "dir", "checksum"}: what every worker must read
        named = kwargs.pop("devices", None)  # {device: where the parameter file names it}: every worker's
        if not runs:
            return
        check = {**cluster.write_token(Path(runs[0].dir).parents[2]), "data": data, "devices": named}
        try:
            cluster.check_scheduler(self.client, check)
            self.wait_for_workers()
            self.known = cluster.check_workers(self.client, check, self.known)
            yield from self._schedule(check, fn, runs, wait_for, done, priority or {}, kwargs)
        finally:
            cluster.remove_token(check)

    def _schedule(self, check, fn, runs, wait_for, done, priority, kwargs):
        from dask.distributed import wait as dask_wait

        from . import cluster

        results, pending, running, lost = dict(done), list(runs), {}, {}
        while pending or running:
            free = sum(self.client.nthreads().values()) - len(running)  # no run waits on a busy worker
            for run in _ready(pending, results, wait_for, priority)[: max(0, free)]:
                pending.remove(run)
                running[self._submit(check, fn, run, results, wait_for, priority, kwargs)] = run
            try:
                finished = dask_wait(list(running), timeout=self.TICK_S, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                finished = set()
            if not running:
                time.sleep(self.TICK_S)  # no worker yet (a lost job being replaced)
            for fut in finished:
                run = running.pop(fut)
                res = self._outcome(fut, run, lost, kwargs.get("retries", 0))
                if res is None:  # its worker was lost: again, under --retries, when a worker is free
                    pending.append(run)
                    continue
                results[run.name] = res
                yield res
            self.known = cluster.check_workers(self.client, check, self.known)
            self.maintain(len(pending) + len(running))

    def _submit(self, check, fn, run, results, wait_for, priority, kwargs):
        upstream = {n: results[n] for n in wait_for[run.name]}
        return self.client.submit(
            _on_dask_worker,
            check,
            fn,
            run,
            self.threads,
            kwargs,
            upstream,
            pure=False,
            priority=priority.get(run.name, 0),
            key=f"{run.stage}-{run.run_id}-{uuid.uuid4().hex[:12]}",
        )

    def _outcome(self, fut, run, lost: dict, retries: int) -> dict | None:
        """The run's result; for a run whose worker died, None (submit it again) while `retries`
        allow, else a failed result naming the worker (and failed.json in its folder)."""
        from distributed.scheduler import KilledWorker

        from . import cluster
        from .records import FAILED

        try:
            res = fut.result()
            return {**res, "attempts": res.get("attempts", 0) + lost[run.name]} if run.name in lost else res
        except KilledWorker as exc:
            error = cluster.lost_message(exc, self.known, self.job_of)
        except Exception as exc:  # noqa: BLE001 - NotShared from a worker of another checkout included
            if type(exc).__name__ == "NotShared":
                raise cluster.NotShared(str(exc)) from None
            ending = type(exc).__name__ == "JobEnding"  # the worker's job is being stopped: as if lost
            error = str(exc) if ending else f"{type(exc).__name__}: {exc}".splitlines()[0]
        lost[run.name] = lost.get(run.name, 0) + 1
        print(
            f"{run.name}: {error}"
            + (f"; executing it again ({lost[run.name]} of {retries})" if lost[run.name] <= retries else ""),
            file=sys.stderr,
            flush=True,
        )
        if lost[run.name] <= retries:
            return None
        with contextlib.suppress(OSError):
            write_json(Path(run.dir) / FAILED, {"status": "failed", "kind": "worker lost", "error": error})
        return {
            "stage": run.stage,
            "run_id": run.run_id,
            "dir": run.dir,
            "grid": run.grid,
            "status": "failed",
            "error": error,
            "seconds": 0.0,
            "key": "",
            "attempts": lost[run.name],
        }

    def __exit__(self, *exc):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        return False


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))
