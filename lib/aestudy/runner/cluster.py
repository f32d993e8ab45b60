"""What the runner asks of a Dask worker it did not start itself (an existing cluster, SLURM jobs)
before it sends the worker a run, and how it names a worker that was lost.

Runs write into reports/<profile>/ and the main process reads what they wrote, so every worker
must see the same files at the same paths (a shared filesystem) and import this checkout's
`aestudy` (the runner keys runs by its modules). The main process writes a token file into the
profile's folder; each worker reads it back and says where its `aestudy` lives. A worker that
fails either check is named, with its host and the path, in one line (`NotShared`, exit 2),
before any run is sent to it: the workers present at the start are checked by `check_workers`,
and one that joins later checks itself (`verify`) before it executes its first run. The
scheduler, which unpickles every run, must import this checkout's `aestudy` too (`check_scheduler`).

The devices: a device the parameter file names outright (cuda, cuda:N, mps) must be on every
worker; a worker asks as the local executor asks this machine (`devices.missing`, a child Python
per worker and sweep), and one that lacks it is the local executor's line, said by the worker on
its host, before it gets a run.

The data: a worker reads the dataset where this host reads it (its DATA_DIR is set to this
host's data folder, `adopt_data`, so workers started with only PYTHONPATH find it), and its
check computes the checksum of what it finds there: a worker that finds no data, or other data,
is named with the path like one that cannot see reports/. The runs it executes record the
checksum it read (`seen_checksum`), not this host's.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from pathlib import Path

from .. import config
from ..schema import ParamsError

CHECK_DIR = ".cluster-check"  # under reports/<profile>/: the token files, removed after the sweep
_verified: set[str] = set()  # the tokens this worker process has checked
_seen: dict[str, str] = {}  # token -> checksum of the data this worker process read
_devices: dict[str, str] = {}  # token -> what this worker process's check of the named devices said
SHARED = "workers must see the checkout, reports/ and the data at the same paths as this host (a shared filesystem)"


class NotShared(ParamsError):
    """A worker cannot see the profile's folder, or imports another checkout (one line: host, path)."""


def where() -> dict:
    """This process's host, pid and SLURM job (None outside a job)."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "slurm_job_id": os.environ.get("SLURM_JOB_ID")}


def write_token(profile_dir: Path) -> dict:
    """A file only this sweep wrote, for the workers to read back: {"path", "token", "package"}."""
    token = uuid.uuid4().hex
    path = Path(profile_dir) / CHECK_DIR / token
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token)
    return {"path": str(path), "token": token, "package": str(config.PACKAGE_DIR)}


def remove_token(check: dict) -> None:
    Path(check["path"]).unlink(missing_ok=True)
    try:
        Path(check["path"]).parent.rmdir()
    except OSError:
        pass  # another sweep's token, or already gone


def problem(check: dict) -> str:
    """Why this worker cannot take runs ('' when it can), naming its host and the path."""
    host, path = socket.gethostname(), Path(check["path"])
    try:
        detail = "" if path.read_text() == check["token"] else "another file is at its check file's path"
    except OSError as exc:
        detail = f"reading its check file: {exc.strerror or type(exc).__name__}"
    if detail:
        return f"worker on {host} cannot see {path.parents[1]} ({detail}): {SHARED}"
    package = _package()
    if package != check["package"]:
        return (
            f"worker on {host} imports aestudy from {package}, not {check['package']}: start workers "
            f"with PYTHONPATH={Path(check['package']).parent} (this checkout's lib/)"
        )
    return data_problem(check) or device_problem(check)


def device_problem(check: dict, ask=None) -> str:
    """'' when this worker has every device the sweep's runs name outright (`check["devices"]`,
    `devices.required`), else that device's line, said by the worker on its host."""
    from . import devices

    named = check.get("devices") or {}
    if not named:
        return ""
    if check["token"] not in _devices:  # once per worker process and sweep: the probe imports torch
        words = devices.missing(named, ask or devices.probe)
        _devices[check["token"]] = f"{words} (said by the worker on {socket.gethostname()})" if words else ""
    return _devices[check["token"]]


def adopt_data(check: dict) -> None:
    """In a worker: read the dataset where this sweep's host reads it (DATA_DIR, which the runs'
    kernels inherit, set to its data folder)."""
    if check.get("data"):
        os.environ["DATA_DIR"] = check["data"]["dir"]


def seen_checksum(check: dict) -> str | None:
    """The checksum of the data this worker read for the sweep of `check` (None: no data check)."""
    data = check.get("data")
    if not data:
        return None
    if check["token"] not in _seen:
        from ..datafiles import checksum

        adopt_data(check)
        _seen[check["token"]] = checksum(data["dataset"], data["dir"])
    return _seen[check["token"]]


def data_problem(check: dict) -> str:
    """'' when this worker reads the data this sweep's host read (same checksum), else one line
    naming its host and the folder."""
    seen = seen_checksum(check)
    if seen is None or seen == check["data"]["checksum"]:
        return ""
    from ..datafiles import raw_folder

    raw = raw_folder(check["data"]["dataset"], check["data"]["dir"])
    found = (
        "finds no data"
        if seen == "absent"
        else (
            f"reads other data (checksum {seen[:12]}, not {check['data']['checksum'][:12]} as on this host)"
        )
    )
    return f"worker on {socket.gethostname()} {found} in {raw}: {SHARED}"


def verify(check: dict) -> None:
    """In a worker, before its first run of this sweep: raise NotShared if it cannot take runs."""
    if check["token"] in _verified:
        return
    why = problem(check)
    if why:
        raise NotShared(why)
    _verified.add(check["token"])


async def _on_worker(check: dict) -> dict:
    """`check_workers`' question, asked by `client.run`, which calls a plain function on the
    worker's event loop: the check reads the data's checksum and imports torch for the device probe
    (seconds), so it runs in a thread while the loop goes on answering the scheduler."""
    return {**where(), "problem": await asyncio.to_thread(problem, check)}


def check_workers(client, check: dict, known: dict) -> dict:
    """Check the workers connected now that `known` (address -> where()) does not hold yet; raise
    NotShared for the first that fails. Returns `known` with them added."""
    new = [a for a in client.scheduler_info(n_workers=-1)["workers"] if a not in known]
    if not new:
        return known
    for address, info in client.run(_on_worker, check, workers=new, on_error="return").items():
        if isinstance(info, (ImportError, AttributeError)) or "deserializ" in str(info):
            raise NotShared(
                f"worker {address} cannot import this checkout's aestudy ({_one_line(info)}): "
                f"start workers with PYTHONPATH={config.LIB_DIR}"
            )
        if isinstance(info, BaseException):
            continue  # gone while asked (a lost job): named when a run on it fails
        if info["problem"]:
            raise NotShared(info["problem"])
        known[address] = info
    return known


def check_scheduler(client, check: dict) -> None:
    """The scheduler unpickles every run it is sent (Dask 2025+), so it must import this checkout's
    aestudy too: NotShared naming it otherwise."""
    address = client.scheduler.address
    try:
        package = client.run_on_scheduler(_package)
    except Exception as exc:  # noqa: BLE001 - whatever the scheduler could not unpickle or import
        raise NotShared(
            f"the Dask scheduler at {address} cannot import this checkout's aestudy "
            f"({_one_line(exc)}): start it with PYTHONPATH={config.LIB_DIR}"
        ) from None
    if package != check["package"]:
        raise NotShared(
            f"the Dask scheduler at {address} imports aestudy from {package}, not "
            f"{check['package']}: start it with PYTHONPATH={config.LIB_DIR}"
        )


def _package() -> str:
    import aestudy

    return str(Path(aestudy.__file__).resolve().parent)


def _one_line(exc) -> str:
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".strip()


class JobEnding(Exception):
    """Raised on a worker whose SLURM job is being stopped under a run (its kernel got SIGTERM):
    the sweep takes it as the worker lost (`lost_message`), whether or not the worker outlives
    the signal long enough to say so."""


def job_lost(job: str, host: str) -> str:
    return (
        f"worker lost: SLURM job {job} on {host} ended during the run (scancel, its wall time, "
        f"its memory limit or its node)"
    )


def lost_message(exc: BaseException, known: dict, job_of=None) -> str:
    """One line for a run whose worker died under it (Dask's KilledWorker), naming the worker's
    host and, on SLURM, its job id (`job_of(worker name)`, else what the worker said at its check)."""
    worker = getattr(exc, "last_worker", None)
    address = getattr(worker, "address", "") or ""
    info = known.get(address, {})
    job = (job_of(getattr(worker, "name", None)) if job_of else None) or info.get("slurm_job_id")
    host = info.get("host") or address
    if job:
        return job_lost(job, host)
    return f"worker lost: the Dask worker {address or '?'} on {host} died during the run"
