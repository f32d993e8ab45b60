"""Where runs execute: in this process, in a local process pool, or on a Dask cluster.

All three take the same picklable function and Runs and give the same results; the torch
thread count of each run is the machine's cores divided by the number of workers. The function
gets it as `threads` (the pipeline exports it as LIB_THREADS / OMP_NUM_THREADS to the notebook's
kernel, where `lib.train.setup` applies it); in a worker process the BLAS thread variables are set
to the same share first, overriding the 1 that Dask's nanny puts there, so a kernel sees the same
thread settings under every executor.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
import multiprocessing as mp


THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _in_worker(fn, item, threads: int, kwargs: dict):
    """Call `fn` in a pool or Dask worker process with its thread share in the environment."""
    if threads:
        os.environ.update({name: str(threads) for name in THREAD_VARS})
    return fn(item, threads=threads, **kwargs)


class SerialExecutor:
    def __init__(self, threads: int = 0):
        self.threads = threads

    def map(self, fn, items, **kwargs):
        for item in items:
            yield fn(item, threads=self.threads, **kwargs)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class LocalPoolExecutor(SerialExecutor):
    """N spawned processes; results come back as they finish."""

    def __init__(self, workers: int, threads: int):
        super().__init__(threads)
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))

    def map(self, fn, items, **kwargs):
        futures = [self.pool.submit(_in_worker, fn, item, self.threads, kwargs) for item in items]
        for fut in as_completed(futures):
            yield fut.result()

    def __exit__(self, *exc):
        self.pool.shutdown(wait=True, cancel_futures=True)
        return False


class DaskExecutor(SerialExecutor):
    """Submit runs to a Dask scheduler (or a LocalCluster when none is given).

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

    def map(self, fn, items, **kwargs):
        from dask.distributed import as_completed as dask_completed

        items = list(items)
        if not items:
            return
        futures = [self.client.submit(_in_worker, fn, item, self.threads, kwargs, pure=False,
                                      key=f"{item.stage}-{item.run_id}-{item.key}") for item in items]
        for fut in dask_completed(futures):
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
