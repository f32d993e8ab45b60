"""`--executor slurm`: the runs on Dask workers that live in SLURM jobs (dask-jobqueue's SLURMCluster).

The scheduler runs in this process; each job (sbatch) starts one Dask worker that executes one
run at a time with the job's `cores` as its torch threads, so a GPU partition is just options
(`--partition gpu --sbatch=--gres=gpu:1`). The jobs are submitted when the sweep starts (as many
as it has runs, at most `max_jobs`) and cancelled (scancel) when it ends, fails or is
interrupted (SIGINT or SIGTERM); should this process be killed outright, each worker ends its job
once it has lost the scheduler for `DEATH_TIMEOUT_S`. A job that ends while runs remain (scancel,
its wall time, a node lost) is replaced; the run it was executing fails with one line naming
the job, or executes again under `--retries` (`DaskExecutor`).

Jobs run this checkout's code on the same paths: they start in the project root, with its lib/
first on PYTHONPATH and this process's REPORTS_DIR and DATA_DIR, then the parameter file's
`cluster.prologue` lines (module load, an environment's activation), and write their SLURM output
under reports/<profile>/.slurm/. The export policy is explicit: `#SBATCH --export=ALL` (the job
starts with this command's environment) unless a `--sbatch=--export=...` directive says otherwise;
the lines above set what the runs need either way. Each job asks SLURM for `cores` CPUs and
`memory`, and runs one single-threaded Dask worker (one run at a time, `cores` torch threads)
with `memory` as its memory limit. What the jobs must share with this host: docs/cluster.md.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .. import config
from . import cluster as checks
from .executors import DaskExecutor, register

DEATH_TIMEOUT_S = 60  # a worker without its scheduler this long ends its job
PASSED_ENV = ("REPORTS_DIR", "DATA_DIR", "AESTUDY_FRESH_KERNELS", "AESTUDY_EAGER")
LOG_DIR = ".slurm"  # under reports/<profile>/: each job's output (dask-jobqueue's log_directory)


class SlurmError(checks.ParamsError):
    """SLURM refused the jobs or they all ended before a worker connected (one line, exit 2)."""


def job_script_prologue(prologue: list[str] = ()) -> list[str]:
    """The job's first lines: this checkout, its lib/ first on PYTHONPATH, our data and reports,
    then the user's `prologue` lines (cluster.prologue), each as given."""
    lines = [
        "# environment: sbatch --export (see the #SBATCH lines; ALL unless --sbatch=--export=... says"
        " otherwise), then what the runs need:",
        f"cd {shlex.quote(str(config.PROJECT_ROOT))}",
        f"export PYTHONPATH={shlex.quote(str(config.LIB_DIR))}${{PYTHONPATH:+:$PYTHONPATH}}",
    ]
    lines += [f"export {name}={shlex.quote(os.environ[name])}" for name in PASSED_ENV if name in os.environ]
    return lines + (["# cluster.prologue:", *prologue] if prologue else [])


def cluster_options(p, profile_dir: Path) -> dict:
    """dask_jobqueue.SLURMCluster's arguments for the jobs of `p` (ClusterParams): one worker
    thread (one run at a time) in a job that books `cores` CPUs (job_cpu), so the worker command
    says --nthreads 1 once."""
    return dict(
        queue=p.partition,
        cores=1,
        job_cpu=p.cores,
        processes=1,
        memory=p.memory,
        walltime=p.walltime,
        job_name=f"aestudy-{profile_dir.name}",
        job_extra_directives=directives(p),
        job_script_prologue=job_script_prologue(p.prologue),
        interface=p.interface,
        python=sys.executable,
        death_timeout=DEATH_TIMEOUT_S,
        log_directory=str(profile_dir / LOG_DIR),
        # no dashboard, its HTTP server on a free port (on 8787 it warns beside a running dashboard)
        scheduler_options={"dashboard_address": ":0", "dashboard": False},
    )


def directives(params) -> list[str]:
    """The extra #SBATCH options: the export policy stated (--export=ALL unless the user gives one)."""
    given = list(params.directives)
    return given if any(d.startswith("--export") for d in given) else ["--export=ALL", *given]


@register
class SlurmExecutor(DaskExecutor):
    """A DaskExecutor whose workers are SLURM jobs, submitted when the sweep starts."""

    name = "slurm"
    options = ("cluster",)

    @classmethod
    def create(cls, cluster: dict | None = None):
        """`cluster`: the SLURM jobs (aestudy.cluster_params; its defaults when None)."""
        return cls(cluster or {})

    def __init__(self, params: dict):
        from ..cluster_params import ClusterParams

        self.params = ClusterParams(**params)
        super().__init__(workers=0, threads=self.params.cores, scheduler=None)
        self.jobs, self.seen, self.peak, self._signals = 0, set(), 0, None
        self.job_ids: set[str] = set()  # every job this command submitted (cancelled at the end)

    @property
    def workers_used(self) -> int:
        """For runs.json: the most workers (SLURM jobs) connected at once during the sweep."""
        return self.peak or self.jobs

    def start(self, workers: int) -> None:  # deferred to run_graph: the job logs go under the profile
        self.cluster, self.client = None, None

    def _start_cluster(self, profile_dir: Path, runs: int) -> None:
        import dask
        from dask.distributed import Client

        SLURMCluster = _slurm_cluster_class()
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            self.cluster = SLURMCluster(**cluster_options(self.params, profile_dir))
        self.log_dir = profile_dir / LOG_DIR
        _test_only(self.cluster.job_script())
        self.client = Client(self.cluster)
        self.jobs = min(self.params.max_jobs, max(1, runs))
        self.cluster.scale(jobs=self.jobs)

    def run_graph(self, fn, runs, wait_for: dict, done: dict, priority: dict | None = None, **kwargs):
        if runs and self.cluster is None:
            self._start_cluster(Path(runs[0].dir).parents[2], len(runs))
        yield from super().run_graph(fn, runs, wait_for, done, priority, **kwargs)

    def job_of(self, worker_name) -> str | None:
        job = self.cluster.workers.get(worker_name) if self.cluster is not None else None
        return getattr(job, "job_id", None)

    def _note_jobs(self) -> None:
        self.job_ids |= {j.job_id for j in self.cluster.workers.values() if getattr(j, "job_id", None)}

    def _queued(self) -> set[str]:
        self._note_jobs()
        ids = [j.job_id for j in self.cluster.workers.values() if getattr(j, "job_id", None)]
        if not ids:
            return set()
        out = subprocess.run(
            ["squeue", "-h", "-o", "%i", "-j", ",".join(ids)], capture_output=True, text=True
        )
        return set(out.stdout.split()) if out.returncode == 0 else set(ids)  # squeue's error: assume queued

    def wait_for_workers(self) -> None:
        """Until a first worker connects; SlurmError when every job has left the queue before."""
        start = time.monotonic()
        while not self.client.scheduler_info(n_workers=-1)["workers"]:
            with contextlib.suppress(TimeoutError):
                self.client.wait_for_workers(1, timeout=5)
                break
            if not self._queued() and time.monotonic() - start > 5:
                raise SlurmError(
                    f"every SLURM job ended before its Dask worker connected to "
                    f"{self.cluster.scheduler_address}: see the job output in {self.log_dir}"
                )

    def maintain(self, remaining: int) -> None:
        """Replace the jobs whose worker has left (scancel, wall time) while runs remain."""
        connected = {w["name"] for w in self.client.scheduler_info(n_workers=-1)["workers"].values()}
        self.peak = max(self.peak, len(connected))
        gone = self.seen - connected
        self.seen |= connected
        self._note_jobs()
        if not gone:
            return
        for name in gone:
            self.seen.discard(name)
            self.cluster.worker_spec.pop(name, None)
            self.cluster.workers.pop(name, None)
        if remaining:
            self.cluster.scale(jobs=min(self.jobs, remaining))

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # SIGTERM: cancel the jobs, as on Ctrl-C
            self._signals = signal.signal(signal.SIGTERM, _interrupt)
        return self

    def __exit__(self, *exc):
        try:
            if self.client is not None:
                self.client.close()
            if self.cluster is not None:
                self._note_jobs()
                self.cluster.close()  # scancel of every job it still tracks
                _cancel_left_jobs(self.job_ids)
        finally:
            if self._signals is not None:
                signal.signal(signal.SIGTERM, self._signals)
        return False


def _test_only(script: str) -> None:
    """sbatch --test-only on the job script: SlurmError with SLURM's reason when it would be refused."""
    import shutil
    import tempfile

    if not shutil.which("sbatch"):
        raise SlurmError("sbatch not found: --executor slurm needs SLURM's client commands on this host")
    with tempfile.NamedTemporaryFile("w", suffix=".sh") as f:
        f.write(script)
        f.flush()
        out = subprocess.run(["sbatch", "--test-only", f.name], capture_output=True, text=True)
    if out.returncode:
        lines = [ln for ln in (out.stderr or out.stdout).splitlines() if ln.strip()]
        raise SlurmError(
            f"SLURM refuses the job: {lines[-1] if lines else f'sbatch exit {out.returncode}'}"
            " (see --partition, --job-memory, --walltime, --sbatch)"
        )


def _cancel_left_jobs(job_ids: set[str]) -> None:
    """scancel every job this command submitted: one whose worker left was dropped from the
    cluster's tracking (`maintain`), so the cluster's close would leave it queued or running. A job
    already ended is refused by scancel, harmlessly."""
    if job_ids:
        with contextlib.suppress(OSError):
            subprocess.run(["scancel", *sorted(job_ids)], capture_output=True)


def _slurm_cluster_class():
    """dask_jobqueue's SLURMCluster, imported without the SIGINT handler its import installs
    (dask_jobqueue.runner: `sys.exit()` on SIGINT, so Ctrl-C ended the command with exit 0, no
    "interrupted" line and no runs.json): this process's handler is put back, so Ctrl-C stays a
    KeyboardInterrupt as under every executor (exit 130, jobs cancelled)."""
    handler = signal.getsignal(signal.SIGINT)
    from dask_jobqueue import SLURMCluster

    if handler is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, handler)
    return SLURMCluster


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")
