"""Faults outside a run's code: a kernel that dies, a run past its time limit, and retries.

Each is told apart from a run whose own code raised (`failed.json`'s "kind"), keeps what the
notebook executed until then, lets the other runs go on, and makes the command exit 1.
The slow tests execute small stand-in `theory` notebooks written here (monkeypatched
config.NOTEBOOKS; the serial executor runs them in this process).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from aestudy import cli, config
from aestudy.runner import execute, plan, records, sweep
from aestudy.runner import watch as watch_module
from aestudy.runner.paramfile import load_study
from aestudy.runner.watch import Watch

PARAMS = "seed = 0\nn_samples = 101\nout_dir = None"
WRITE_METRICS = (
    "import json, pathlib\n(pathlib.Path(out_dir) / 'metrics.json').write_text(json.dumps({'seed': seed}))"
)


def stand_in(nb_dir: Path, *cells: str) -> None:
    """notebooks/theory.ipynb: the parameter cell, `cells`, then a cell writing metrics.json."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        *(nbformat.v4.new_code_cell(textwrap.dedent(c)) for c in cells),
        nbformat.v4.new_code_cell(WRITE_METRICS),
    ]
    nb_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, nb_dir / "theory.ipynb")


def params_file(tmp_path: Path, seeds, top: str = "", stage: str = "") -> Path:
    p = tmp_path / "faults.yaml"
    p.write_text(
        f"profile: faults\n{top}stages:\n  theory:\n    grid: {{seed: {list(seeds)}}}\n"
        f"    params: {{n_samples: 101}}\n{stage}"
    )
    return p


@pytest.fixture
def notebooks(tmp_path, tmp_reports, one_thread_kernels, monkeypatch) -> Path:
    nb_dir = tmp_path / "notebooks"
    monkeypatch.setattr(config, "NOTEBOOKS", nb_dir)
    return nb_dir


def run_cli(argv, capsys) -> tuple[int, str, dict]:
    code = cli.main([str(a) for a in argv])
    runs_json = config.profile_dir("faults") / "runs.json"
    runs = json.loads(runs_json.read_text())["runs"] if runs_json.exists() else []
    return code, capsys.readouterr().err, {r["run_id"]: r for r in runs}


def run_files(run_id: str) -> tuple[dict, str]:
    """(failed.json, the kept notebook's cells as text) of a run."""
    d = config.profile_dir("faults") / "runs" / "theory" / run_id
    cells = nbformat.read(d / "theory.ipynb", as_version=4).cells
    return json.loads((d / records.FAILED).read_text()), json.dumps(cells)


# ------------------------------------------------------------------ the parameter file (fast)


def test_timeout_per_stage_or_for_the_file(tmp_path):
    study = load_study(params_file(tmp_path, [0], top="timeout: 30\n"))
    assert study.timeout("theory") == 30
    study = load_study(params_file(tmp_path, [0], top="timeout: 30\n", stage="    timeout: 2.5\n"))
    assert study.timeout("theory") == 2.5
    assert load_study(params_file(tmp_path, [0])).timeout("theory") is None


@pytest.mark.parametrize(
    "top,stage,where",
    [
        ("timeout: 0\n", "", "faults.yaml: timeout: must be a positive number of seconds (got 0)"),
        ("", "    timeout: -3\n", "stages.theory.timeout: must be a positive number of seconds (got -3)"),
        (
            "",
            "    timeout: soon\n",
            "stages.theory.timeout: must be a positive number of seconds (got 'soon')",
        ),
        ("", "    timeout: true\n", "stages.theory.timeout: must be a positive number of seconds (got True)"),
        ("", "    timout: 5\n", "stages.theory.timout: unknown key 'timout'; did you mean 'timeout'?"),
        ("timout: 5\n", "", "faults.yaml: timout: unknown key 'timout'; did you mean 'timeout'?"),
    ],
)
def test_a_bad_timeout_is_one_line_and_exit_2(tmp_path, capsys, tmp_reports, top, stage, where):
    code, err, _ = run_cli(["run", params_file(tmp_path, [0], top, stage)], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and where in err, err


def test_negative_retries_is_exit_2(tmp_path, capsys, tmp_reports):
    code, err, _ = run_cli(["run", params_file(tmp_path, [0]), "--retries", "-1"], capsys)
    assert code == 2 and "--retries must be >= 0, got -1" in err


def test_the_time_limit_is_not_an_input_of_a_run(tmp_path, notebooks):
    stand_in(notebooks)
    a = plan.plan(load_study(params_file(tmp_path, [0])))[0]
    b = plan.plan(load_study(params_file(tmp_path, [0], top="timeout: 5\n", stage="    timeout: 9\n")))[0]
    assert records.inputs(a, {}, "") == records.inputs(b, {}, "")
    assert a.params == b.params and "timeout" not in a.params


# ------------------------------------------------------------------ pieces, without a kernel (fast)


class Ended:
    def __init__(self, code):
        self.code = code

    def poll(self):
        return self.code


def test_how_a_kernel_ended_is_said_in_words():
    watch = Watch()
    assert watch.exit_reason() == ""
    watch.launched(Ended(-signal.SIGKILL))
    assert watch.exit_reason().startswith("signal 9 (SIGKILL")
    watch.launched(Ended(-signal.SIGSEGV))
    assert watch.exit_reason() == "signal 11 (SIGSEGV)"
    watch.launched(Ended(3))
    assert watch.exit_reason() == "exit code 3"


def test_faults_are_told_apart():
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    watch = Watch(timeout=7)
    watch.launched(Ended(-9))
    kind, error = execute._fault(DeadKernelError("Kernel died"), watch, 7)
    assert kind == "kernel died" and error.startswith("kernel died: signal 9 (SIGKILL")
    raised = PapermillExecutionError(2, 3, "boom", "ValueError", "boom", [])
    assert execute._fault(raised, watch, 7) == ("error", "ValueError: boom")
    watch.fired = True  # whatever the watchdog made of it, the run timed out
    assert execute._fault(raised, watch, 7) == ("timeout", "timed out after 7 s")
    assert execute._fault(DeadKernelError("Kernel died"), watch, 7) == ("timeout", "timed out after 7 s")


def test_a_kernel_sigtermed_in_a_slurm_job_is_the_job_ending_and_never_retried_there(tmp_path, monkeypatch):
    """scancel and a job's wall time send SIGTERM to every process of the job: its kernel dying of
    it says the job is ending, so the run is not executed again in that job (it would die with
    it); a Dask worker hands it back to the sweep as a lost worker. Outside a job, or killed by
    another signal, a dead kernel is retried as before."""
    from nbclient.exceptions import DeadKernelError

    watch = Watch()
    watch.launched(Ended(-signal.SIGTERM))
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert execute._fault(DeadKernelError("Kernel died"), watch, None)[0] == "kernel died"
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    kind, error = execute._fault(DeadKernelError("Kernel died"), watch, None)
    assert kind == execute.JOB_ENDING and kind not in execute.RETRYABLE
    assert error == "kernel died: signal 15 (SIGTERM): SLURM job 4242 is ending"
    watch.launched(Ended(-signal.SIGKILL))  # the out-of-memory killer, in a job: retried
    assert execute._fault(DeadKernelError("Kernel died"), watch, None)[0] == "kernel died"


def test_a_dask_worker_whose_job_is_ending_hands_the_run_back_as_lost(monkeypatch):
    """The worker raises instead of returning the failed run, so the sweep says 'worker lost' and
    executes it again in another job under --retries, as when the job's end killed the worker
    first (`DaskExecutor._outcome` reads both the same way)."""
    from aestudy.runner import cluster, executors

    monkeypatch.setattr(cluster, "adopt_data", lambda check: None)
    monkeypatch.setattr(cluster, "verify", lambda check: None)
    monkeypatch.setattr(cluster, "seen_checksum", lambda check: None)
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    failed = {"status": "failed", "error": "kernel died: ...", "job_ending": True}

    def job(item, threads, **kwargs):
        return {"members": [{"status": "ok"}, failed]}

    with pytest.raises(cluster.JobEnding, match=r"^worker lost: SLURM job 4242 on \S+ ended during the run"):
        executors._on_dask_worker({}, job, None, 0, {})
    done = executors._on_dask_worker({}, lambda item, threads: {"status": "ok"}, None, 0, {})
    assert done["status"] == "ok" and done["where"]["slurm_job_id"] == "4242"

    class Raised:  # the future of the run on the sweep's side
        def result(self):
            raise cluster.JobEnding("worker lost: SLURM job 4242 on node1 ended during the run (...)")

    sweep = executors.DaskExecutor.__new__(executors.DaskExecutor)
    sweep.known = {}
    run = plan.Run("theory", "s0", {"seed": 0}, {"seed": 0}, dir="/nonexistent/s0", inputs={})
    lost = {}
    assert sweep._outcome(Raised(), run, lost, retries=1) is None and lost == {run.name: 1}  # again
    last = sweep._outcome(Raised(), run, lost, retries=1)
    assert last["status"] == "failed" and last["error"].startswith("worker lost: SLURM job 4242 on node1")


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except FileNotFoundError:
        return True


def test_the_watchdog_interrupts_then_kills_the_process_group():
    """A process that ignores SIGINT (and a child of it) is killed `grace` seconds after the
    interrupt; the watchdog stops as soon as the execution returns."""
    code = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], start_new_session=True, stdout=subprocess.PIPE, text=True
    )
    child = int(proc.stdout.readline())
    start = time.perf_counter()
    with Watch(timeout=0.5, grace=0.5) as watch:
        watch.launched(proc)
        proc.wait(timeout=20)
    assert watch.fired and proc.returncode == -signal.SIGKILL
    assert time.perf_counter() - start < 10
    for _ in range(100):  # the child, in the same process group, was killed too
        if gone(child):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the kernel's child survived")
    with Watch(timeout=30) as quick:  # returns at once: no signal, no wait for the limit
        pass
    assert not quick.fired


def test_retries_follow_the_kind_of_fault(tmp_path, monkeypatch):
    """Timeouts and dead kernels are executed again, at most `retries` more times; errors of the
    run's code never (the attempts themselves are faked here)."""
    run = plan.Run("theory", "s0", {"seed": 0}, {"seed": 0}, dir=str(tmp_path / "s0"), inputs={})
    outcomes = []

    def attempt(run, threads, timeout, others=()):
        assert timeout == 4 and not others
        res, kind = outcomes.pop(0)
        return [res], kind  # one result per run it executed

    monkeypatch.setattr(execute, "_attempt", attempt)
    timed_out = ({"status": "failed", "error": "timed out after 4 s", "seconds": 4.0}, "timeout")
    died = ({"status": "failed", "error": "kernel died: signal 9", "seconds": 1.0}, "kernel died")
    raised = ({"status": "failed", "error": "ValueError: x", "seconds": 1.0}, "error")
    ok = ({"status": "ok", "error": "", "seconds": 2.0, "key": "k"}, "")
    cases = [
        ([timed_out, died, ok], 2, "ok", 3),
        ([died, died, died], 2, "failed", 3),
        ([raised, ok], 2, "failed", 1),
        ([died, ok], 0, "failed", 1),
        ([ok], 5, "ok", 1),
    ]
    for given, retries, status, attempts in cases:
        outcomes[:] = given
        res = execute.execute_run(run, timeout=4, retries=retries)
        assert (res["status"], res["attempts"]) == (status, attempts), given
        assert res["stage"] == "theory" and res["run_id"] == "s0"


def test_the_summary_shows_attempts():
    results = [
        {"stage": "theory", "run_id": "s0", "dir": "/x/s0", "status": "ok", "error": "", "attempts": 2},
        {
            "stage": "theory",
            "run_id": "s1",
            "dir": "/x/s1",
            "status": "failed",
            "attempts": 3,
            "error": "kernel died: signal 9 (SIGKILL)",
        },
        {"stage": "theory", "run_id": "s2", "dir": "/x/s2", "status": "cached", "error": "", "attempts": 0},
    ]
    text = sweep.summary(results)
    assert text.splitlines()[0] == "2 retried"  # the counts are the display's last line
    assert sweep.summary([results[-1]]) == ""
    assert "  ok: theory/s0 (2 attempts)" in text
    assert "failed: theory/s1: kernel died: signal 9 (SIGKILL) (3 attempts)" in text
    assert "s2" not in text


# ------------------------------------------------------------------ with kernels (slow)


@pytest.mark.slow
def test_a_dead_kernel_fails_its_run_fast_and_the_others_go_on(tmp_path, notebooks, capsys):
    stand_in(
        notebooks,
        "print('before the crash')",
        "import os, signal\nif seed == 1:\n    os.kill(os.getpid(), signal.SIGKILL)",
    )
    # the limit is only a safety net here: a hang would show as "timed out", not as a hung test
    start = time.perf_counter()
    code, err, runs = run_cli(
        ["run", params_file(tmp_path, [0, 1, 2], top="timeout: 60\n"), "--no-render"], capsys
    )
    elapsed = time.perf_counter() - start
    assert code == 1
    assert [runs[r]["status"] for r in ("s0", "s1", "s2")] == ["ok", "failed", "ok"]
    dead = runs["s1"]
    assert dead["error"].startswith("kernel died: signal 9 (SIGKILL"), dead["error"]
    assert dead["attempts"] == 1 and dead["seconds"] < 20, dead
    assert elapsed < 50
    assert "failed: theory/s1: kernel died: signal 9" in err
    failed, notebook = run_files("s1")
    assert failed["kind"] == "kernel died" and failed["status"] == "failed"
    assert "before the crash" in notebook  # what executed before the kernel died is kept
    assert "Run stopped: kernel died" in notebook and execute.MODULES_TAG not in notebook
    assert "metrics.json" not in [p.name for p in Path(dead["dir"]).iterdir()]
    assert sweep.status_lines(sweep.status(load_study(params_file(tmp_path, [0, 1, 2])))).count("failed") == 1


@pytest.mark.slow
def test_a_run_past_its_time_limit_is_stopped_and_keeps_its_notebook(
    tmp_path, notebooks, capsys, monkeypatch
):
    monkeypatch.setattr(watch_module, "TIMEOUT_GRACE_S", 1.0)
    stand_in(
        notebooks,
        "print('started', flush=True)",
        """\
             import signal, time
             if seed == 2:  # deaf to the interrupt: killed after the grace period
                 signal.signal(signal.SIGINT, signal.SIG_IGN)
             if seed:
                 time.sleep(300)
             """,
    )
    limit = 4
    code, err, runs = run_cli(
        [
            "run",
            params_file(tmp_path, [0, 1, 2], top="timeout: 1000\n", stage=f"    timeout: {limit}\n"),
            "--no-render",
        ],
        capsys,
    )
    assert code == 1
    assert runs["s0"]["status"] == "ok"
    for run_id, most in (("s1", limit + 6), ("s2", limit + 2 + 6)):
        res = runs[run_id]
        assert res["status"] == "failed" and res["error"] == f"timed out after {limit} s", res
        assert limit <= res["seconds"] < most, res
        failed, notebook = run_files(run_id)
        assert failed["kind"] == "timeout"
        assert "started" in notebook and f"Run stopped: timed out after {limit} s" in notebook
    assert "KeyboardInterrupt" in run_files("s1")[1]  # interrupted inside its cell: the traceback is kept
    assert f"failed: theory/s1: timed out after {limit} s" in err


@pytest.mark.slow
def test_retries_redo_kernel_deaths_but_not_errors_of_the_code(tmp_path, notebooks, capsys):
    marker = tmp_path / "died-once"
    stand_in(
        notebooks,
        f"""\
             import os, pathlib, signal
             if seed == 0 and not pathlib.Path({str(marker)!r}).exists():  # dies on its first attempt only
                 pathlib.Path({str(marker)!r}).touch()
                 os.kill(os.getpid(), signal.SIGKILL)
             if seed == 1:
                 raise ValueError("a bug of the run's own")
             """,
    )
    code, err, runs = run_cli(["run", params_file(tmp_path, [0, 1]), "--no-render", "--retries", "2"], capsys)
    assert code == 1 and marker.exists()
    assert runs["s0"]["status"] == "ok" and runs["s0"]["attempts"] == 2
    assert runs["s1"]["status"] == "failed" and runs["s1"]["attempts"] == 1  # its own code raised: no retry
    assert "ValueError: a bug of the run's own" in runs["s1"]["error"]
    assert run_files("s1")[0]["kind"] == "error"
    d = Path(runs["s0"]["dir"])
    assert (d / records.COMPLETE).exists() and not (d / records.FAILED).exists()
    assert "(1 ok, 1 failed)" in err and "\n1 retried\n" in err and "ok: theory/s0 (2 attempts)" in err
    # the next command finds s0 complete: a retried run is cached like any other
    code, err, runs = run_cli(["run", params_file(tmp_path, [0, 1]), "--no-render"], capsys)
    assert runs["s0"]["status"] == "cached" and runs["s0"]["attempts"] == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "workers, ctrl_c, ignored",
    # Ctrl-C on a command started with SIGINT ignored: the command takes the default handler back
    # (cli), then it is plain Ctrl-C, so this one case pins both (a plain Ctrl-C case cost 16-19 s more)
    [(1, False, False), (2, False, False), (2, True, True)],
    ids=["serial-sigterm", "pool-sigterm", "pool-ctrl-c-started-ignoring-it"],
)
def test_sigterm_stops_a_local_sweep_as_ctrl_c_does(mnist_dir, tmp_path, workers, ctrl_c, ignored):
    """SIGTERM (to the command alone, as a scheduler or `kill` sends it) stops the local executors
    as Ctrl-C (SIGINT to the whole process group, kernels included) does: exit 130 with the
    "interrupted" line, runs.json written with the runs it did not finish marked interrupted (never
    "failed KeyboardInterrupt": the run's code did nothing wrong), completed runs kept. Also when the
    command was started with SIGINT ignored (a shell script's `cmd &` does that; Python then never
    raises KeyboardInterrupt): the command takes it back. Stopped mid-cell, it prints no traceback
    after that line."""
    import os
    import threading

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "REPORTS_DIR": str(tmp_path / "reports"), "DATA_DIR": str(mnist_dir)}
    cmd = [sys.executable, "-m", "lib", "run", str(repo / "params" / "smoke.yaml"), "--workers", str(workers)]
    proc = subprocess.Popen(
        cmd,
        cwd=repo,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN if ignored else signal.SIG_DFL),
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(ln.rstrip() for ln in proc.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + 300
    while sum(" ok " in ln for ln in list(lines)) < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # the next run mid-cell
    if ctrl_c:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    reader.join(timeout=10)
    err = "\n".join(lines)
    assert proc.returncode == 130, err[-3000:]
    assert err.splitlines()[-1].startswith("interrupted: completed runs are kept"), err[-3000:]
    assert "Task exception was never retrieved" not in err, err[-3000:]  # nbclient's abandoned cell
    record = json.loads((tmp_path / "reports" / "smoke" / "runs.json").read_text())
    statuses = [r["status"] for r in record["runs"]]
    assert record["interrupted"] is True and "interrupted" in statuses and "failed" not in statuses, statuses
    assert "ok" in statuses  # the run that completed before the signal is kept
