"""What the command says of a run's state on the console (an audit of its lines): an interrupted
run is not called failed, an upstream run outside a `--stage` sweep is named by its state, and
the interruption line of a `--force` sweep says what running it again does."""

from __future__ import annotations

import json
from pathlib import Path

from aestudy import cli
from aestudy.runner import records, sweep
from aestudy.runner.plan import Run


def _failed(folder: Path, **record) -> Path:
    folder.mkdir(parents=True)
    (folder / "failed.json").write_text(json.dumps(record))
    return folder


def test_a_run_stopped_by_the_command_is_incomplete_not_failed(tmp_path):
    stopped = _failed(
        tmp_path / "a", status="failed", kind="interrupted", error="interrupted: the command was stopped"
    )
    assert records.state(stopped, {})[0] == "incomplete"
    raised = _failed(tmp_path / "b", status="failed", kind="error", error="ValueError: boom")
    assert records.state(raised, {})[:2] == ("failed", "ValueError: boom")


def test_an_upstream_run_outside_the_sweep_is_named_by_its_state(tmp_path):
    """Under --stage, a failed upstream run was said to be 'absent'."""
    root = tmp_path / "reports" / "p" / "runs"
    _failed(root / "autoencode" / "d20-nc1-s0", status="failed", kind="error", error="ValueError: boom")
    down = Run("transfer", "all", {}, {}, ["autoencode/d20-nc1-s0"], dir=str(root / "transfer" / "all"))
    found = sweep._on_disk(down, "autoencode/d20-nc1-s0")
    assert (found["status"], found["error"]) == ("failed", "ValueError: boom")
    assert sweep._on_disk(down, "autoencode/d5-nc1-s0")["status"] == "absent"


def test_the_interruption_line_of_a_forced_sweep_says_what_running_it_again_does(monkeypatch, capsys):
    def stopped(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli._COMMAND_FUNCTIONS, "run", stopped)
    monkeypatch.setattr(cli, "project_root", lambda args: None)
    monkeypatch.setattr(cli, "_leave_at_once_on_a_second_signal", lambda: None)
    assert cli.main(["run", "params/smoke.yaml", "--force"]) == 130
    said = capsys.readouterr().err
    assert "the same command executes every run again (--force)" in said and "to resume" not in said
    assert cli.main(["run", "params/smoke.yaml"]) == 130
    assert "run the same command again to resume" in capsys.readouterr().err


def test_a_run_past_its_loop_with_cells_to_go_reads_finishing_not_eta_zero(tmp_path):
    import io
    import time

    from aestudy.progress_file import write
    from aestudy.runner.progress import CELLS_FILE, KERNEL_FILE, Display

    runs = [
        Run("transfer", f"r{i}", {"i": i}, {}, [], dir=str(tmp_path / "runs" / "transfer" / f"r{i}"))
        for i in range(2)
    ]
    d = Display("p", runs, tmp_path / ".progress", stream=io.StringIO(), live=False, declared={})
    with d:
        d.finished({"stage": "transfer", "run_id": "r0", "status": "ok", "seconds": 100.0})
        folder = d.folder / "transfer" / "r1"
        folder.mkdir(parents=True)
        write(folder / CELLS_FILE, {"done": 6, "total": 12, "unit": "cell"})
        write(folder / KERNEL_FILE, {"done": 3, "total": 3, "unit": "epoch"})
        d.poll()
        with d._lock:
            said = d._overall_words(time.monotonic())
    assert said == "1/2 runs, 1 running, finishing"


def test_an_interrupted_sweeps_summary_counts_the_up_to_date_runs_it_did_not_reach(tmp_path):
    """'p: 4/5 runs in 0:00 (1 ok)': 3 runs found up to date were counted in 4/5 but in no bracket."""
    import io

    from aestudy.runner.progress import Display

    runs = [
        Run("transfer", f"r{i}", {"i": i}, {}, [], dir=str(tmp_path / "runs" / "transfer" / f"r{i}"))
        for i in range(5)
    ]
    out = io.StringIO()
    up = {f"transfer/r{i}" for i in (1, 2, 3)}
    with Display("p", runs, tmp_path / ".progress", stream=out, live=False, declared={}, up_to_date=up) as d:
        d.finished({"stage": "transfer", "run_id": "r0", "status": "ok", "seconds": 1.0})
    last = out.getvalue().strip().splitlines()[-1]
    assert last.startswith("p: 4/5 runs in ") and last.endswith("(1 ok, 3 up to date)"), last


def test_seeds_trained_together_start_under_the_first_seed_that_executes(tmp_path, monkeypatch):
    """With seed 0 of a cell complete and seed 1 to execute, the start line named seed 0."""
    import io
    import time

    import nbformat

    from aestudy.runner import execute, progress
    from aestudy.runner.plan import Job
    from aestudy.runner.progress import Display

    base = tmp_path / "reports" / "p"
    runs = [
        Run(
            "autoencode",
            f"d20-nc1-s{i}",
            {"seed": i},
            {"seed": i},
            [],
            dir=str(base / f"runs/autoencode/d20-nc1-s{i}"),
        )
        for i in range(2)
    ]
    job = Job(runs)
    monkeypatch.setattr(
        records,
        "state",
        lambda d, inp: (
            ("complete", "", {"key": "k0", "seconds": 9})
            if str(d).endswith("s0")
            else ("absent", "never run", None)
        ),
    )
    monkeypatch.setattr(records, "inputs", lambda *a: {})

    def attempt(run, threads, limit, others=()):
        hooks = progress.cell_hooks()
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
        hooks["on_notebook_start"](notebook=nb)
        hooks["on_cell_start"](cell_index=0)
        time.sleep(0.6)  # the display polls meanwhile
        return [{"status": "ok", "seconds": 0.6, "key": "k"} for _ in [run, *others]], ""

    monkeypatch.setattr(execute, "_attempt", attempt)
    monkeypatch.setattr(progress, "POLL_S", 0.1)
    out = io.StringIO()
    with Display("p", runs, base / ".progress", stream=out, live=False) as d:
        done = sweep.run_when_ready(
            job, {}, "", progress_dir=str(d.folder), jobs={job.name: [r.name for r in runs]}
        )
        for r, m in zip(runs, done["members"]):
            d.finished({**m, "stage": r.stage, "run_id": r.run_id})
    starts = [ln for ln in out.getvalue().splitlines() if "] start " in ln]
    assert starts and all("autoencode/d20-nc1-s1" in ln for ln in starts), out.getvalue()
