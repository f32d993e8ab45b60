"""Cache keys follow what a run imports: on the smoke profile, an edit of report-only code makes
no run stale, an edit of the transfer code only the runs that import it (protocol, transfer), an edit of the model code every
run that imports it; and `python -m lib status` says why, in seconds, executing nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aestudy.runner import records, sweep
from aestudy.runner.paramfile import load_study

REPO = Path(__file__).resolve().parents[2]


def _states_after_editing(smoke_profile, monkeypatch, edited: str) -> dict:
    """Every run's (state, reason) as if the module `edited`, and nothing else, had changed since
    the smoke sweep (other modules read as recorded: this tree may be edited meanwhile)."""
    monkeypatch.setenv("REPORTS_DIR", smoke_profile["env"]["REPORTS_DIR"])
    recorded = {
        m: d
        for c in (smoke_profile["dir"] / "runs").glob("*/*/complete.json")
        for m, d in records.read_json(c)["modules"].items()
    }
    monkeypatch.setattr(records, "_module_sha", lambda p: ("edited",) if p == edited else (recorded.get(p),))
    return {r["run"]: (r["state"], r["reason"]) for r in sweep.status(load_study(smoke_profile["params"]))}


@pytest.mark.slow
def test_every_run_records_the_modules_it_imported(smoke_profile):
    seen = {}
    for complete in (smoke_profile["dir"] / "runs").glob("*/*/complete.json"):
        record = records.read_json(complete)
        seen[record["stage"]] = set(record["modules"])
        assert all(m.startswith("lib/aestudy/") and len(d) == 64 for m, d in record["modules"].items())
    assert "lib/aestudy/science/models.py" in seen["autoencode"] & seen["transfer"] & seen["correlate"]
    assert "lib/aestudy/experiments/transfer/run.py" in seen["transfer"]
    assert not any("transfer.py" in m for s in ("autoencode", "correlate", "interpolate") for m in seen[s])
    assert "lib/aestudy/experiments/reference/run.py" in seen["reference"] & seen["interpolate"]
    assert not any(
        "experiments/reference/run.py" in m for s in ("autoencode", "correlate", "transfer") for m in seen[s]
    )
    assert not any(
        m.startswith(("lib/aestudy/report/", "lib/aestudy/runner/")) for s in seen.values() for m in s
    )
    assert "lib/aestudy/science/models.py" not in seen["theory"]


@pytest.mark.slow
def test_editing_report_code_makes_no_run_stale(smoke_profile, monkeypatch):
    states = _states_after_editing(smoke_profile, monkeypatch, "lib/aestudy/report/verdicts.py")
    assert {s for s, _ in states.values()} == {"complete"}


@pytest.mark.slow
def test_editing_transfer_code_makes_only_the_runs_that_import_it_stale(smoke_profile, monkeypatch):
    states = _states_after_editing(smoke_profile, monkeypatch, "lib/aestudy/experiments/transfer/run.py")
    stale = {r for r, (s, _) in states.items() if s == "stale"}
    assert stale == {r for r in states if r.startswith(("transfer/", "protocol/", "semisup/"))} and stale
    assert states["protocol/all"] == ("stale", "module lib/aestudy/experiments/transfer/run.py changed")
    # the transfer and semisup runs import it too, and their protocol upstream is stale first
    assert all(
        why.startswith("upstream protocol/all")
        for r, (_, why) in states.items()
        if r.startswith(("transfer/", "semisup/"))
    )


@pytest.mark.slow
def test_editing_the_protocol_search_makes_the_transfer_runs_stale_through_their_upstream(
    smoke_profile, monkeypatch
):
    states = _states_after_editing(smoke_profile, monkeypatch, "lib/aestudy/experiments/protocol/run.py")
    stale = {r for r, (s, _) in states.items() if s == "stale"}
    assert stale == {r for r in states if r.startswith(("transfer/", "protocol/", "semisup/"))}
    assert states["protocol/all"] == ("stale", "module lib/aestudy/experiments/protocol/run.py changed")
    assert all(
        why.startswith("upstream protocol/all") for r, (_, why) in states.items() if r.startswith("transfer/")
    )


@pytest.mark.slow
def test_editing_one_experiments_parameters_leaves_the_other_experiments_runs_complete(
    smoke_profile, monkeypatch
):
    """A run's kernel checks its parameters through `study.check_parameters`, which imports its own
    experiment's package alone: editing the protocol's parameter model staled all 14 runs when every
    kernel discovered every experiment."""
    states = _states_after_editing(smoke_profile, monkeypatch, "lib/aestudy/experiments/protocol/params.py")
    stale = {r for r, (s, _) in states.items() if s == "stale"}
    assert stale == {r for r in states if r.startswith(("transfer/", "protocol/", "semisup/"))} and stale
    for complete in (smoke_profile["dir"] / "runs").glob("autoencode/*/complete.json"):
        packages = {m.split("/")[3] for m in records.read_json(complete)["modules"] if "/experiments/" in m}
        assert packages <= {"autoencode", "__init__.py"}, packages


@pytest.mark.slow
def test_editing_the_semi_supervised_recipe_makes_only_its_run_stale(smoke_profile, monkeypatch):
    states = _states_after_editing(smoke_profile, monkeypatch, "lib/aestudy/experiments/semisup/run.py")
    assert {r for r, (s, _) in states.items() if s == "stale"} == {"semisup/all"}
    assert states["semisup/all"] == ("stale", "module lib/aestudy/experiments/semisup/run.py changed")


@pytest.mark.slow
def test_editing_the_reference_classifier_makes_only_experiment_2_stale(smoke_profile, monkeypatch):
    """The reference stage is an upstream of interpolate beside the autoencoders: its code (and so
    its key) changes only the reference run and the interpolate run that receives its classifier."""
    states = _states_after_editing(smoke_profile, monkeypatch, "lib/aestudy/experiments/reference/run.py")
    assert {r for r, (s, _) in states.items() if s == "stale"} == {"reference/all", "interpolate/all"}
    assert states["reference/all"] == ("stale", "module lib/aestudy/experiments/reference/run.py changed")


@pytest.mark.slow
def test_editing_model_code_makes_every_run_that_imports_it_stale(smoke_profile, monkeypatch):
    states = _states_after_editing(smoke_profile, monkeypatch, "lib/aestudy/science/models.py")
    # the theory and the reference classifier (a CNN of its own) use no autoencoder
    assert {r for r, (s, _) in states.items() if s != "stale"} == {"theory/all", "reference/all"}
    ae = [r for r in states if r.startswith("autoencode/")]
    assert all(states[r] == ("stale", "module lib/aestudy/science/models.py changed") for r in ae)
    # downstream runs import the model code too; their upstream is not complete any more either
    assert states["correlate/all"][1].startswith("upstream autoencode/")


@pytest.mark.slow
def test_status_command_prints_one_line_per_run_and_executes_nothing(smoke_profile, tmp_path):
    params = tmp_path / "smoke.yaml"
    text = Path(smoke_profile["params"]).read_text()
    assert "label_seeds: [0, 1], n_labels: 20" in text
    params.write_text(text.replace("label_seeds: [0, 1], n_labels: 20", "label_seeds: [0, 1], n_labels: 30"))
    before = sorted(p.stat().st_mtime_ns for p in smoke_profile["dir"].rglob("*") if p.is_file())
    proc = subprocess.run(
        [sys.executable, "-m", "lib", "status", str(params)],
        cwd=REPO,
        env=smoke_profile["env"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    runs = [r.name for r in __import__("aestudy.runner.plan", fromlist=["plan"]).plan(load_study(params))]
    assert [ln.split()[0] for ln in lines] == runs
    for ln in lines:
        run, state, *reason = ln.split(maxsplit=2)
        if run.startswith("transfer/"):
            assert state == "stale" and reason == ["parameter n_labels: 20 -> 30"], ln
        else:
            assert state == "complete" and not reason, ln
    assert sorted(p.stat().st_mtime_ns for p in smoke_profile["dir"].rglob("*") if p.is_file()) == before


def test_a_comment_a_docstring_or_the_layout_leaves_a_module_digest_as_it_was(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""What it holds."""\n\ndef f(x):\n    """Why."""\n    return x * 2  # doubled\n')
    before = records.code_digest(module)
    module.write_text(
        '"""What it holds, said better."""\n\n\n# a comment\ndef f(x):\n    """Why, at length."""\n\n'
        "    return (\n        x * 2\n    )\n"
    )
    assert records.code_digest(module) == before
    module.write_text('"""What it holds."""\n\ndef f(x):\n    """Why."""\n    return x * 3\n')
    assert records.code_digest(module) != before  # a change to the code itself


def test_a_record_with_the_file_digest_of_before_stays_up_to_date_until_the_code_changes(
    tmp_path, monkeypatch
):
    """Records written before code digests hold each module's file sha256: still accepted."""
    monkeypatch.setattr(records.config, "PROJECT_ROOT", tmp_path)
    module = tmp_path / "lib" / "m.py"
    module.parent.mkdir()
    module.write_text("X = 1\n")
    old_record = {"lib/m.py": records.sha256_file(module)}
    new_record = {"lib/m.py": records.code_digest(module)}
    records.forget_module_digests()
    assert records.changed_modules(old_record) == records.changed_modules(new_record) == []
    module.write_text("X = 2\n")
    records.forget_module_digests()
    assert records.changed_modules(old_record) == records.changed_modules(new_record) == ["lib/m.py"]
    records.forget_module_digests()


def test_status_ends_with_the_counts_and_what_the_next_run_executes():
    """Below the one line per run (stdout), one line on stderr: the counts by state and what
    `aestudy run` would execute; unplanned folders are counted but not planned."""
    from types import SimpleNamespace

    from aestudy import config
    from aestudy.runner.sweep import status_summary

    study = SimpleNamespace(profile="p", path=config.PROJECT_ROOT / "params" / "p.yaml")
    rows = [
        {"run": f"a/{i}", "state": s, "reason": ""}
        for i, s in enumerate(["complete", "stale", "complete", "absent"])
    ]
    assert status_summary(study, rows) == (
        "p: 4 runs planned: 2 complete, 1 stale, 1 absent; `aestudy run params/p.yaml` executes those 2"
    )
    done = [r | {"state": "complete"} for r in rows] + [{"run": "a/old", "state": "unplanned", "reason": ""}]
    assert status_summary(study, done) == "p: 4 runs planned: 4 complete; all up to date; 1 unplanned folder"
    one = [rows[0], rows[1]]
    assert status_summary(study, one).endswith("`aestudy run params/p.yaml` executes it")
    kept = [rows[0], rows[1], rows[2] | {"state": "kept"}, rows[3] | {"state": "kept"}]
    assert status_summary(study, kept).endswith(
        "`aestudy run params/p.yaml` executes it and puts back the 2 kept"
    )
    unknown = [r | {"state": "unknown"} for r in rows]
    assert status_summary(study, unknown) == "p: 4 runs planned: 4 unknown"
