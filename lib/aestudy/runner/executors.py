"""Where runs execute: in this process, in a local process pool, or on a Dask cluster.

All three run the same dependency graph with the same picklable function and give the same
results: a run starts as soon as the runs it waits for are done (`run_graph`). The local pool
schedules from here; Dask gets the whole graph at once, each run submitted with the futures of
the runs it waits for, and its scheduler starts each one when they are done.

The torch thread count of each run is the machine's cores divided by the number of workers. The
function gets it as `threads` (the runner exports it as LIB_THREADS / OMP_NUM_THREADS to the
notebook's kernel, where `train.setup` applies it); in a worker process the BLAS thread variables
are set to the same share first, overriding the 1 that Dask's nanny puts there, so a kernel sees
the same thread settings under every executor.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from . import orphans

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _in_worker(fn, item, threads: int, kwargs: dict, *args):
    """Call `fn` in a pool or Dask worker process with its thread share in the environment."""
    if threads:
        os.environ.update({name: str(threads) for name in THREAD_VARS})
    return fn(item, *args, threads=threads, **kwargs)


def _ready(pending: list, results: dict, wait_for: dict, priority: dict) -> list:
    """The pending runs whose runs to wait for are done, highest priority first (then in order)."""
    ready = [r for r in pending if all(n in results for n in wait_for[r.name])]
    return sorted(ready, key=lambda r: -priority.get(r.name, 0))


class SerialExecutor:
    """One run at a time: the first ready run by priority."""

    def __init__(self, threads: int = 0):
        self.threads = threads

    def run_graph(self, fn, runs, wait_for: dict, done: dict, priority: dict | None = None, **kwargs):
        """Yield fn(run, {name: result of each run it waits for}) for every run of `runs` (in
        dependency order), each as soon as its runs are done; among ready runs, the highest
        `priority` starts first. `done` holds results known before (runs outside this sweep)."""
        results, pending = dict(done), list(runs)
        while pending:
            run = _ready(pending, results, wait_for, priority or {})[0]
            pending.remove(run)
            results[run.name] = fn(run, {n: results[n] for n in wait_for[run.name]}, threads=self.threads, **kwargs)
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
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                        initializer=orphans.die_with_parent, initargs=(os.getpid(),))

    def run_graph(self, fn, runs, wait_for: dict, done: dict, priority: dict | None = None, **kwargs):
        results, pending, running = dict(done), list(runs), {}
        while pending or running:
            for run in _ready(pending, results, wait_for, priority or {})[:self.workers - len(running)]:
                pending.remove(run)
                upstream = {n: results[n] for n in wait_for[run.name]}
                running[self.pool.submit(_in_worker, fn, run, self.threads, kwargs, upstream)] = run
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                run = running.pop(fut)
                results[run.name] = fut.result()
                yield results[run.name]

    def __exit__(self, *exc):
        self.pool.shutdown(wait=True, cancel_futures=True)
        return False


class DaskExecutor(SerialExecutor):
    """Submit the graph to a Dask scheduler (or a LocalCluster when none is given): every run at
    once, with the futures of the runs it waits for as arguments, and its priority.

    Outputs go to the run directories, so workers must share the filesystem of reports/.
    """

    def __init__(self, workers: int, threads: int, scheduler: str | None = None):
        super().__init__(threads)
        from dask.distributed import Client, LocalCluster

        self.cluster = None
        if scheduler:
            self.client = Client(scheduler)
        else:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)

    def run_graph(self, fn, runs, wait_for: dict, done: dict, priority: dict | None = None, **kwargs):
        from dask.distributed import as_completed

        futures = dict(done)  # plain results stand in for futures of runs outside this sweep
        for run in runs:
            upstream = {n: futures[n] for n in wait_for[run.name]}  # Dask resolves these futures first
            futures[run.name] = self.client.submit(
                _in_worker, fn, run, self.threads, kwargs, upstream, pure=False,
                priority=(priority or {}).get(run.name, 0), key=f"{run.stage}-{run.run_id}-{uuid.uuid4().hex[:12]}")
        for fut in as_completed([futures[r.name] for r in runs]):
            yield fut.result()

    def __exit__(self, *exc):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        return False


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def make_executor(kind: str = "local", workers: int = 1, scheduler: str | None = None):
    threads = threads_per_worker(workers)
    if kind == "dask":
        return DaskExecutor(workers, threads, scheduler)
    if kind != "local":
        raise ValueError(f"executor must be 'local' or 'dask', got {kind!r}")
    return SerialExecutor(threads) if workers <= 1 else LocalPoolExecutor(workers, threads)
