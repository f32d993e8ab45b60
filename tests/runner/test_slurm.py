"""`--executor slurm` against a real single-node SLURM cluster (munged, slurmctld, slurmd from
Debian's packages, brought up by `slurm_local`; skipped with the reason where it cannot start):
the smoke profile's COMPARED stages (reading the data, several upstreams, the in-report stage) through
2 jobs give the local pool's tables (`--workers 2`), every run executed in a SLURM job, no job is
left in the queue; a job cancelled mid-run (on the autoencoders and correlate: 5 of
the smoke's runs) fails its run within seconds naming the job (or the run executes again under
--retries), the other runs go on and the same command resumes without redoing anything complete;
Ctrl-C and SIGTERM exit 130 leaving no job and a runs.json; cluster.prologue's lines run in the
job before its worker; a worker that cannot see reports/ stops the command
(exit 2, one line naming its host and the path) before any run is sent, wherever the checkout lies.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from aestudy.cluster_params import ClusterParams, add_options, from_args
from aestudy.runner import cluster, executors, slurm
from aestudy.schema import ParamsError
from slurm_local import LocalSlurm, Unavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
SMOKE = REPO_ROOT / "params" / "smoke.yaml"
EVENT = re.compile(r"^\[[^\]]*\]\s+(\w+)\s")  # the progress lines: "[   1:11] start   transfer/d5-nc1-s1"


def tables(pdir: Path) -> dict[str, pd.DataFrame]:
    """Each stage's table without its timing column ("cached" read as "ok": a resumed sweep)."""
    out = {f.stem: pd.read_csv(f).drop(columns=["seconds"]) for f in sorted((pdir / "tables").glob("*.csv"))}
    return {stage: t.assign(status=t["status"].replace("cached", "ok")) for stage, t in out.items()}


def assert_same_tables(a: Path, b: Path, only: tuple[str, ...] = ()) -> None:
    """The tables of `a` and `b` equal (`only`: those of these stages, `a` having no other)."""
    ta, tb = tables(a), tables(b)
    if only:
        tb = {stage: t for stage, t in tb.items() if stage in only}
    assert sorted(ta) == sorted(tb) and ta
    for stage in ta:
        pd.testing.assert_frame_equal(ta[stage], tb[stage], obj=f"tables/{stage}.csv")


@pytest.fixture
def local_smoke(smoke_profile) -> dict:
    """The local pool's smoke sweep: the session's (conftest.smoke_profile: `python -m lib run
    params/smoke.yaml --workers 2`, every stage, then rendered; the tables are the sweep's, the
    report adds none), shared with the experiment and report tests rather than swept again:
    {"dir": its profile folder, "env": the environment to run more sweeps with (DATA_DIR set)}."""
    return {"dir": smoke_profile["dir"], "env": smoke_profile["env"]}


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    try:
        local = LocalSlurm(tmp_path_factory.mktemp("slurm"), cpus=os.cpu_count() or 1).start()
    except Unavailable as exc:
        pytest.skip(f"SLURM cannot be started here: {exc}")
    yield local
    local.stop()


# the cancel tests' sweep: the four autoencoders and correlate, which uses them all (5 of the
# smoke's runs): two jobs busy at once, a run that fails and one skipped because of it
PART = ("autoencode", "correlate")
PART_ARGS = [a for stage in PART for a in ("--stage", stage)]

# the executor comparisons' sweep (here and in test_dask_cluster): 7 of the smoke's 14 runs, what
# a remote worker must get right: the stages that read the data (autoencode, reference), a run
# with several upstream runs of two stages (interpolate: the four autoencoders and reference) and
# the in-report stage (theory). Not compared across executors: protocol, transfer (for_each, a
# matter of the plan, not of the executor: run on a Dask cluster by test_scale's
# test_a_run_starts_when_its_own_inputs_are_ready[dask]), correlate (swept on SLURM by the cancel
# tests above, tables compared) and semisup.
COMPARED = ("autoencode", "reference", "interpolate", "theory")
COMPARED_ARGS = [a for stage in COMPARED for a in ("--stage", stage)]


def slurm_command(*extra: str) -> list[str]:
    """Two 1-core jobs (the local pool's thread share at 2 workers), all on loopback."""
    return [
        sys.executable,
        "-m",
        "lib",
        "run",
        str(SMOKE),
        "--executor",
        "slurm",
        "--max-jobs",
        "2",
        "--job-cores",
        str(executors.threads_per_worker(2)),
        "--job-memory",
        "3GB",
        "--interface",
        "lo",
        "--walltime",
        "00:20:00",
        "--no-render",
        *extra,
    ]


def start(cmd: list[str], env: dict) -> tuple[subprocess.Popen, list]:
    """The command, its stderr collected line by line as (seconds since start, line)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    lines: list = []
    reader = threading.Thread(
        target=lambda: [lines.append((time.monotonic() - t0, ln.rstrip())) for ln in proc.stderr], daemon=True
    )
    reader.start()
    proc.reader = reader
    return proc, lines


def finish(proc: subprocess.Popen, lines: list, timeout: float = 900) -> str:
    proc.wait(timeout=timeout)
    proc.reader.join(timeout=10)
    return "\n".join(ln for _, ln in lines)


def our_jobs(local: LocalSlurm) -> list[str]:
    return local.client("squeue", "-h", "-n", "aestudy-smoke", "-o", "%i").stdout.split()


def runs_json(reports: Path) -> dict:
    return {
        f"{r['stage']}/{r['run_id']}": r
        for r in json.loads((reports / "smoke" / "runs.json").read_text())["runs"]
    }


@pytest.mark.slow
def test_smoke_on_slurm_gives_the_local_tables(slurm_cluster, local_smoke, tmp_path):
    """The COMPARED stages of smoke (7 of its 14 runs: see COMPARED) through 2 SLURM jobs give the
    local pool's tables of those stages, every run in one of the jobs, none left in the queue."""
    env = {**local_smoke["env"], **slurm_cluster.env, "REPORTS_DIR": str(tmp_path / "reports")}
    t0 = time.monotonic()
    proc, lines = start(slurm_command(*COMPARED_ARGS), env)
    err = finish(proc, lines)
    wall = time.monotonic() - t0
    assert proc.returncode == 0, err[-3000:]
    assert_same_tables(tmp_path / "reports" / "smoke", local_smoke["dir"], only=COMPARED)
    runs = runs_json(tmp_path / "reports")
    jobs = {r["where"]["slurm_job_id"] for r in runs.values()}
    assert None not in jobs and len(jobs) == 2, jobs  # every run executed in one of the two jobs
    for name, r in runs.items():  # and its completion record says so too
        record = json.loads((Path(r["dir"]) / "complete.json").read_text())
        assert record["where"]["slurm_job_id"] == r["where"]["slurm_job_id"], name
    done = (slurm_cluster.root / "log" / "jobcomp.log").read_text()  # SLURM's own record of the jobs
    for job in jobs:
        assert f"JobId={job} " in done and "Name=aestudy-smoke" in done
    assert our_jobs(slurm_cluster) == []  # cancelled when the command ended
    assert not (tmp_path / "reports" / "smoke" / cluster.CHECK_DIR).exists()
    print(f"{len(runs)} smoke runs on 2 SLURM jobs: {wall:.1f} s wall")


def _cancel_one_mid_run(local: LocalSlurm, lines: list) -> tuple[str, float]:
    """Once both jobs execute a run (two runs started, none ended since), scancel one of them."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        events = [m.group(1) for _, ln in list(lines) if (m := EVENT.match(ln))]
        busy = sum(e == "start" for e in events) - sum(e in ("ok", "failed", "cached") for e in events)
        jobs = local.client("squeue", "-h", "-n", "aestudy-smoke", "-t", "R", "-o", "%i").stdout.split()
        if busy >= 2 and len(jobs) == 2 and sum(e == "ok" for e in events) >= 1:
            local.client("scancel", jobs[0])
            return jobs[0], time.monotonic()
        time.sleep(0.2)
    raise AssertionError("the two jobs never executed runs at once:\n" + "\n".join(ln for _, ln in lines))


@pytest.mark.slow
def test_a_cancelled_job_fails_its_run_and_the_command_resumes(slurm_cluster, local_smoke, tmp_path):
    env = {**local_smoke["env"], **slurm_cluster.env, "REPORTS_DIR": str(tmp_path / "reports")}
    t0 = time.monotonic()
    proc, lines = start(slurm_command(*PART_ARGS), env)
    job, cancelled = _cancel_one_mid_run(slurm_cluster, lines)
    err = finish(proc, lines)
    assert proc.returncode == 1, err[-3000:]
    lost = [(t, ln) for t, ln in lines if f"worker lost: SLURM job {job} on " in ln]
    assert lost, err[-3000:]
    seconds = t0 + lost[0][0] - cancelled
    assert seconds < 30, (seconds, err[-3000:])  # said within seconds
    runs = runs_json(tmp_path / "reports")
    failed = [n for n, r in runs.items() if r["status"] == "failed"]
    assert len(failed) == 1 and f"SLURM job {job}" in runs[failed[0]]["error"], runs
    skipped = {n for n, r in runs.items() if r["status"] == "skipped"}
    for n in skipped:  # only what uses it, directly or through another skipped run
        up = re.match(r"upstream run (\S+) (failed|skipped)", runs[n]["error"])
        assert up and up.group(1) in skipped | set(failed), runs[n]
    first_ok = {n for n, r in runs.items() if r["status"] == "ok"}
    assert len(first_ok) + len(skipped) + 1 == len(runs) == 5  # the other runs went on
    assert skipped == {"correlate/all"}
    assert our_jobs(slurm_cluster) == []
    print(f"cancelled job {job}: {failed[0]} failed {seconds:.1f} s after scancel")

    proc, lines = start(slurm_command(*PART_ARGS), env)  # the same command resumes
    err = finish(proc, lines)
    assert proc.returncode == 0, err[-3000:]
    again = runs_json(tmp_path / "reports")
    assert {n for n, r in again.items() if r["status"] == "cached"} == first_ok  # nothing complete redone
    assert {n for n, r in again.items() if r["status"] == "ok"} == set(failed) | skipped
    assert_same_tables(tmp_path / "reports" / "smoke", local_smoke["dir"], only=PART)
    assert our_jobs(slurm_cluster) == []


@pytest.mark.slow
def test_a_cancelled_job_is_replaced_and_its_run_retried(slurm_cluster, local_smoke, tmp_path):
    env = {**local_smoke["env"], **slurm_cluster.env, "REPORTS_DIR": str(tmp_path / "reports")}
    proc, lines = start(slurm_command("--retries", "1", *PART_ARGS), env)
    job, _ = _cancel_one_mid_run(slurm_cluster, lines)
    err = finish(proc, lines)
    assert proc.returncode == 0, err[-3000:]
    assert f"worker lost: SLURM job {job} on " in err and "executing it again (1 of 1)" in err
    runs = runs_json(tmp_path / "reports")
    assert {r["status"] for r in runs.values()} == {"ok"}
    name = next(ln for _, ln in lines if f"worker lost: SLURM job {job} on " in ln).split(":")[0]
    assert runs[name]["attempts"] == 2 and runs[name]["where"]["slurm_job_id"] != job  # again, in another job
    assert f"{name} (2 attempts)" in err
    assert_same_tables(tmp_path / "reports" / "smoke", local_smoke["dir"], only=PART)
    assert our_jobs(slurm_cluster) == []


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_command_stopped_with_ctrl_c_or_sigterm_exits_130_and_leaves_no_job(
    slurm_cluster, mnist_dir, tmp_path, sig
):
    """Ctrl-C (SIGINT, which dask_jobqueue's import would turn into sys.exit(): exit 0) and SIGTERM
    alike: exit 130, the "interrupted" line last, runs.json written (the runs not finished marked
    so), and every job cancelled before the command ends."""
    env = {
        **os.environ,
        **slurm_cluster.env,
        "REPORTS_DIR": str(tmp_path / "reports"),
        "DATA_DIR": str(mnist_dir),
    }
    proc, lines = start(slurm_command(), env)
    deadline = time.monotonic() + 300
    while not any(" start " in ln for _, ln in list(lines)) and time.monotonic() < deadline:
        time.sleep(0.2)
    running = slurm_cluster.client(
        "squeue", "-h", "-n", "aestudy-smoke", "-t", "R", "-o", "%i"
    ).stdout.split()
    assert running, "no job was running"
    proc.send_signal(sig)
    err = finish(proc, lines, timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert err.splitlines()[-1].startswith("interrupted: completed runs are kept"), err[-3000:]
    record = json.loads((tmp_path / "reports" / "smoke" / "runs.json").read_text())
    assert record["interrupted"] is True and record["executor"] == "slurm"
    assert "interrupted" in {r["status"] for r in record["runs"]}  # stopped before the sweep ended
    assert our_jobs(slurm_cluster) == []  # cancelled before the command ended


@pytest.mark.slow
def test_the_prologue_runs_before_the_worker_and_runs_json_counts_the_jobs(
    slurm_cluster, mnist_dir, tmp_path
):
    """cluster.prologue in the parameter file: a variable it exports is seen by the worker and the
    kernels of its runs (a sitecustomize on the PYTHONPATH the prologue extends writes it down);
    runs.json says 2 workers for a sweep of 2 runs on 2 jobs (theory for seeds 0 and 1: the cheapest
    runs, seconds each; reference's classifier took three times as long)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import os, pathlib\n"
        "if os.environ.get('AE_PROLOGUE'):\n"
        f"    pathlib.Path({str(tmp_path)!r}, 'seen-' + str(os.getpid())).write_text("
        "os.environ['AE_PROLOGUE'] + ' ' + os.environ.get('SLURM_JOB_ID', ''))\n"
    )
    params = tmp_path / "smoke.yaml"
    theory = "  theory:\n    params: {seed: 0, n_samples: 2001}\n"
    assert theory in SMOKE.read_text()
    params.write_text(
        SMOKE.read_text().replace(
            theory, "  theory:\n    grid: {seed: [0, 1]}\n    params: {n_samples: 2001}\n"
        )
        + "cluster:\n  prologue:\n    - export AE_PROLOGUE=from-the-prologue\n"
        f"    - export PYTHONPATH=$PYTHONPATH:{site}\n"
    )
    env = {
        **os.environ,
        **slurm_cluster.env,
        "REPORTS_DIR": str(tmp_path / "reports"),
        "DATA_DIR": str(mnist_dir),
    }
    env.pop("AE_PROLOGUE", None)
    cmd = [str(params) if a == str(SMOKE) else a for a in slurm_command("--stage", "theory")]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((tmp_path / "reports" / "smoke" / "runs.json").read_text())
    assert record["workers"] == 2, record["workers"]
    assert sorted(f"{r['stage']}/{r['run_id']}" for r in record["runs"]) == ["theory/s0", "theory/s1"]
    jobs = {r["where"]["slurm_job_id"] for r in record["runs"]}
    seen = [f.read_text().split() for f in tmp_path.glob("seen-*")]
    assert seen and all(value == "from-the-prologue" for value, *_ in seen), seen
    assert jobs <= {job for _, *job in seen for job in job}  # in every job that executed a run
    assert our_jobs(slurm_cluster) == []


@pytest.mark.slow
def test_a_worker_without_the_shared_filesystem_stops_the_command(slurm_cluster, mnist_dir, tmp_path):
    """The command runs in a mount namespace of its own where a tmpfs covers `hidden/`: its
    reports/ are there, and the jobs (started by slurmd, outside it) find `hidden/` empty. The
    checkout and the interpreter stay visible to the jobs wherever they lie (a private /tmp per job
    hid them too when the checkout was under /tmp)."""
    if (
        not shutil.which("unshare")
        or subprocess.run(
            ["unshare", "--mount", "sh", "-c", f"mount -t tmpfs probe {tmp_path}"], capture_output=True
        ).returncode
    ):
        pytest.skip("cannot mount a tmpfs in a mount namespace of our own (needs root and unshare)")
    hidden = tmp_path / "hidden"
    reports = hidden / "reports"
    (reports / "smoke" / slurm.LOG_DIR).mkdir(
        parents=True
    )  # seen by the jobs: where SLURM writes their output
    env = {**os.environ, **slurm_cluster.env, "REPORTS_DIR": str(reports), "DATA_DIR": str(mnist_dir)}
    cmd = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t tmpfs aestudy-hidden "$0" && exec "$@"',
        str(hidden),
        *slurm_command(),
    ]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: worker on ") and f"cannot see {reports / 'smoke'}" in last, proc.stderr
    assert not (reports / "smoke" / "runs").exists()  # no worker executed a run (they write where they see)
    assert our_jobs(slurm_cluster) == []


# fast: the parts that need no SLURM


def test_options_override_the_cluster_section():
    import argparse

    parser = argparse.ArgumentParser()
    add_options(parser)
    args = parser.parse_args(
        [
            "--max-jobs",
            "8",
            "--sbatch=--gres=gpu:1",
            "--sbatch=--account=x",
            "--job-prologue",
            "module load cuda",
        ]
    )
    merged = from_args(
        args, {"partition": "gpu", "max_jobs": 2, "prologue": ["ignored: the option wins"]}, "p.yaml"
    )
    assert merged == {
        **ClusterParams().model_dump(),
        "partition": "gpu",
        "max_jobs": 8,
        "directives": ["--gres=gpu:1", "--account=x"],
        "prologue": ["module load cuda"],
    }
    with pytest.raises(ParamsError, match=r"^p.yaml: cluster.memory: "):
        from_args(parser.parse_args([]), {"memory": "lots"}, "p.yaml")
    with pytest.raises(ParamsError, match=r"^p.yaml: cluster.nodes: unknown key"):
        from_args(parser.parse_args([]), {"nodes": 2}, "p.yaml")
    with pytest.raises(ParamsError, match=r"^--job-memory: .*\(got 'lots'\)"):  # the option, not the section
        from_args(parser.parse_args(["--job-memory", "lots"]), {}, "p.yaml")
    with pytest.raises(ParamsError, match=r"^--partition: String should have at least 1 character"):
        from_args(parser.parse_args(["--partition", ""]), {"partition": "gpu"}, "p.yaml")
    with pytest.raises(ParamsError, match=r"^p.yaml: cluster.directives.0: String should have at least 1"):
        from_args(parser.parse_args([]), {"directives": [""]}, "p.yaml")  # an empty #SBATCH line


def test_the_cluster_section_is_checked_with_the_parameter_file(tmp_path):
    from aestudy.runner.paramfile import load_study

    bad = tmp_path / "p.yaml"
    for walltime in ("soon", "99:99", "01:60:00"):  # 99:99 reached sbatch, whose error named no option
        bad.write_text(SMOKE.read_text() + f"cluster: {{walltime: '{walltime}'}}\n")
        with pytest.raises(ParamsError, match=rf"^{bad}: cluster.walltime: "):
            load_study(bad)
    for walltime in ("30", "90:00", "01:00:00", "2-12:00:00", "2-12"):  # SLURM's forms
        bad.write_text(SMOKE.read_text() + f"cluster: {{walltime: '{walltime}'}}\n")
        assert load_study(bad).spec.cluster["walltime"] == walltime


def test_the_job_runs_this_checkout_with_our_data(monkeypatch):
    monkeypatch.setenv("DATA_DIR", "/data with space")
    lines = [ln for ln in slurm.job_script_prologue() if not ln.startswith("#")]
    assert lines[0] == f"cd {REPO_ROOT}"
    assert lines[1].startswith(f"export PYTHONPATH={REPO_ROOT / 'lib'}")
    assert "export DATA_DIR='/data with space'" in lines


def test_the_job_script_states_its_export_policy_runs_the_prologue_and_one_thread(tmp_path):
    """The script SLURM gets: #SBATCH --export=ALL stated (a user's --export wins), the job's
    cores booked with --cpus-per-task while its worker says --nthreads 1 once, the memory booked,
    and cluster.prologue's lines after the runner's exports, before the worker starts."""
    SLURMCluster = slurm._slurm_cluster_class()
    params = ClusterParams(
        cores=2,
        memory="4GB",
        interface="lo",
        prologue=["module load python/3.11", "source .venv/bin/activate"],
    )
    with SLURMCluster(**slurm.cluster_options(params, tmp_path / "smoke")) as made:
        script = made.job_script()
    lines = script.splitlines()
    worker = next(i for i, ln in enumerate(lines) if "distributed.cli.dask_worker" in ln)
    assert lines[worker].count("--nthreads") == 1 and " --nthreads 1 " in lines[worker]
    assert "--memory-limit 3.73GiB" in lines[worker]  # 4GB = 4e9 bytes
    assert "#SBATCH --cpus-per-task=2" in lines and "#SBATCH --mem=4G" in lines
    assert "#SBATCH --export=ALL" in lines
    at = lines.index("module load python/3.11")
    assert lines[at + 1] == "source .venv/bin/activate" and lines.index(f"cd {REPO_ROOT}") < at < worker
    assert slurm.directives(ClusterParams(directives=["--export=NONE", "--account=x"])) == [
        "--export=NONE",
        "--account=x",
    ]


def test_a_worker_that_cannot_see_the_token_is_named_with_the_path(tmp_path):
    import socket

    check = cluster.write_token(tmp_path / "smoke")
    assert cluster.problem(check) == ""
    cluster.verify(check)
    moved = {**check, "token": "f" * 32, "path": str(tmp_path / "elsewhere" / cluster.CHECK_DIR / ("f" * 32))}
    why = cluster.problem(moved)
    assert why.startswith(f"worker on {socket.gethostname()} cannot see {tmp_path / 'elsewhere'} ")
    assert "\n" not in why
    with pytest.raises(cluster.NotShared):
        cluster.verify(moved)
    other = {**check, "package": "/elsewhere/lib/aestudy"}
    assert "imports aestudy from" in cluster.problem(other)
    cluster.remove_token(check)
    assert not (tmp_path / "smoke" / cluster.CHECK_DIR).exists()
