"""A single-node SLURM cluster on this machine, for the tests (and `python tests/slurm_local.py`
to try one by hand): munged, slurmctld and slurmd from Debian's packages (munge, slurmctld,
slurmd, slurm-client), with a generated slurm.conf naming this host (`hostname -s`), everything
on loopback and under one temporary folder, its own munge key and socket, and free ports, so
that nothing of the machine's own configuration is read or changed. Clients find it through
SLURM_CONF (set by `LocalSlurm.env`). Torn down (every job cancelled, the daemons stopped) on exit.

`LocalSlurm.start()` raises `Unavailable` with one line saying why when a cluster cannot be
brought up (a daemon missing, not root, a daemon that does not come up); the tests skip on it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")


def _which(name: str) -> str | None:
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


class Unavailable(RuntimeError):
    """SLURM cannot be started here (the reason in one line)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 * 3 // 4
    return 2048


class LocalSlurm:
    """The cluster under `root`: one node (this host, `cpus` CPUs), one partition `debug`."""

    def __init__(self, root: Path, cpus: int = 2, private_tmp: bool = False):
        """`private_tmp`: each job gets a /tmp of its own (job_container/tmpfs), so that it cannot
        see what the submitting process keeps under /tmp (a host without a shared filesystem)."""
        self.root, self.cpus, self.private_tmp = Path(root), cpus, private_tmp
        self.host = socket.gethostname().split(".")[0]
        self.conf = self.root / "slurm.conf"
        self.procs: list[subprocess.Popen] = []

    @property
    def env(self) -> dict:
        """What a client (sbatch, squeue, the runner) needs in its environment."""
        return {"SLURM_CONF": str(self.conf)}

    def _check_prerequisites(self) -> None:
        missing = [d for d in DAEMONS if not _which(d)]
        if missing:
            raise Unavailable(
                f"SLURM is not installed ({', '.join(missing)} not found; "
                "apt-get install munge slurmctld slurmd slurm-client)"
            )
        if os.geteuid() != 0:
            raise Unavailable("starting slurmd needs root (it runs jobs as their users)")

    def write_config(self) -> None:
        r = self.root
        spool = r / "spool"
        if (
            self.private_tmp
        ):  # the job's own /tmp hides /tmp: slurmd's spool (the job scripts) lives elsewhere
            import tempfile

            self.jobtmp = Path(tempfile.mkdtemp(prefix="aestudy-slurm-", dir="/var/tmp"))
            spool = self.jobtmp / "spool"
            (self.jobtmp / "base").mkdir()
        for d in ("state", "spool", "log", "munge"):
            (r / d).mkdir(parents=True, exist_ok=True)
        os.chmod(r / "munge", 0o700)
        key = r / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o400)
        self.munge_socket = r / "munge" / "munge.sock"
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=aestudy-test",
                    f"SlurmctldHost={self.host}(127.0.0.1)",
                    f"SlurmctldPort={_free_port()}",
                    f"SlurmdPort={_free_port()}",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    "AuthType=auth/munge",
                    "CredType=cred/munge",
                    f"AuthInfo=socket={self.munge_socket}",
                    f"StateSaveLocation={r / 'state'}",
                    f"SlurmdSpoolDir={spool}",
                    f"SlurmctldPidFile={r / 'slurmctld.pid'}",
                    f"SlurmdPidFile={r / 'slurmd.pid'}",
                    f"SlurmctldLogFile={r / 'log' / 'slurmctld.log'}",
                    f"SlurmdLogFile={r / 'log' / 'slurmd.log'}",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "MpiDefault=none",
                    "JobAcctGatherType=jobacct_gather/none",
                    "AccountingStorageType=accounting_storage/none",
                    "JobCompType=jobcomp/filetxt",
                    f"JobCompLoc={r / 'log' / 'jobcomp.log'}",
                    "SchedulerType=sched/backfill",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_Core",
                    "ReturnToService=2",
                    "SlurmdTimeout=30",
                    "InactiveLimit=0",
                    "KillWait=5",
                    "MinJobAge=5",
                    "SchedulerParameters=sched_interval=1",
                    f"NodeName={self.host} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={_memory_mb()} State=UNKNOWN",
                    f"PartitionName=debug Nodes={self.host} Default=YES MaxTime=INFINITE State=UP",
                ]
                + (
                    ["JobContainerType=job_container/tmpfs", "PrologFlags=contain"]
                    if self.private_tmp
                    else []
                )
            )
            + "\n"
        )
        if self.private_tmp:  # slurmd refuses a BasePath under /tmp
            (r / "job_container.conf").write_text(f"AutoBasePath=true\nBasePath={self.jobtmp / 'base'}\n")

    def _spawn(self, *cmd: str) -> None:
        log = open(self.root / "log" / f"{Path(cmd[0]).name}.out", "ab")
        self.procs.append(
            subprocess.Popen(
                [_which(cmd[0]), *cmd[1:]],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        )

    def start(self, timeout: float = 30.0) -> LocalSlurm:
        self._check_prerequisites()
        self.write_config()
        self._spawn(
            "munged",
            "-F",
            "--force",
            f"--socket={self.munge_socket}",
            f"--key-file={self.root / 'munge' / 'munge.key'}",
            f"--pid-file={self.root / 'munge' / 'pid'}",
            f"--log-file={self.root / 'log' / 'munged.log'}",
            f"--seed-file={self.root / 'munge' / 'seed'}",
        )
        self._wait(lambda: self.munge_socket.exists(), timeout, "munged")
        self._spawn("slurmctld", "-D", "-c", "-i", "-f", str(self.conf))
        self._wait(lambda: self._ok("sinfo", "-h"), timeout, "slurmctld")
        self._spawn("slurmd", "-D", "-f", str(self.conf), "-N", self.host)
        self._wait(lambda: self._node_state() in ("idle", "mixed", "allocated"), timeout, "slurmd")
        return self

    def _ok(self, *cmd: str) -> bool:
        return self.client(*cmd, check=False).returncode == 0

    def _node_state(self) -> str:
        out = self.client("sinfo", "-h", "-N", "-o", "%T", check=False)
        return out.stdout.strip().rstrip("*~#") if out.returncode == 0 else ""

    def _wait(self, ready, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if ready():
                return
            dead = [p for p in self.procs if p.poll() is not None]
            if dead:
                break
            time.sleep(0.3)
        self.stop()
        tail = ""
        for name in (f"{what}.log", f"{what}.out"):
            f = self.root / "log" / name
            if f.exists() and f.read_text().strip():
                tail = f.read_text().strip().splitlines()[-1]
        raise Unavailable(
            f"{what} did not come up within {timeout:g} s ({tail or 'no log'}; see {self.root / 'log'})"
        )

    def client(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            cmd, env={**os.environ, **self.env}, capture_output=True, text=True, timeout=30, check=check
        )

    def queue(self) -> list[str]:
        """The ids of the jobs in the queue (pending or running)."""
        return self.client("squeue", "-h", "-o", "%i").stdout.split()

    def stop(self) -> None:
        if any(p.poll() is None for p in self.procs[1:2]):  # slurmctld: cancel what is left first
            self.client("scancel", "--full", "-u", str(os.getuid()), check=False)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()
        if getattr(self, "jobtmp", None) is not None:
            shutil.rmtree(self.jobtmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def start_latency(repeats: int = 5, interface: str = "lo") -> list[float]:
    """Seconds from a job's submission (sbatch, through dask-jobqueue) to its Dask worker
    connected to the scheduler, one 1-core job at a time (SLURM_CONF must name the cluster)."""
    from dask.distributed import Client
    from dask_jobqueue import SLURMCluster

    out = []
    for _ in range(repeats):
        with (
            SLURMCluster(
                cores=1,
                processes=1,
                memory="1GB",
                walltime="00:05:00",
                interface=interface,
                scheduler_options={"dashboard_address": None},
            ) as cluster,
            Client(cluster) as client,
        ):
            t0 = time.perf_counter()
            cluster.scale(jobs=1)
            client.wait_for_workers(1, timeout=120)
            out.append(time.perf_counter() - t0)
    return out


if __name__ == "__main__":  # a cluster to try by hand (stops on Enter); --latency: measure job start
    import tempfile

    with LocalSlurm(Path(tempfile.mkdtemp(prefix="slurm-")), cpus=os.cpu_count() or 1) as local:
        if "--latency" in sys.argv:
            os.environ.update(local.env)
            times = start_latency()
            print("job start latency (sbatch to worker connected), s:", " ".join(f"{t:.1f}" for t in times))
        else:
            print(f"export SLURM_CONF={local.conf}", flush=True)
            sys.stdin.readline()
