"""aestudy.ondisk and the records it reads: a record that is valid JSON of the wrong shape (a list
where an object belongs, a field that is no mapping) reads as damaged, named by its file, never as
a traceback in `status`, `run` or `render`."""

from __future__ import annotations

import json

import pytest

from aestudy import ondisk
from aestudy.files import CorruptArtifact, read_json, sha256_file
from aestudy.report.profile import read_profile
from aestudy.runner import records


def _write(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return path


@pytest.mark.parametrize("value", [[], [1, 2], 3, "x", None])
def test_json_of_another_shape_than_an_object_is_a_corrupt_artifact_naming_the_file(tmp_path, value):
    path = _write(tmp_path / "complete.json", value)
    with pytest.raises(
        CorruptArtifact, match=rf"complete\.json: not a JSON object \(a {type(value).__name__}\)"
    ):
        read_json(path)


@pytest.mark.parametrize(
    "record, said",
    [
        ([], "not a JSON object (a list)"),
        ({"artifacts": ["model.pt"]}, "not a completion record (artifacts: not a mapping)"),
        ({"artifacts": {}, "inputs": [1], "modules": "x"}, "(inputs, modules: not a mapping)"),
    ],
)
def test_a_completion_record_of_the_wrong_shape_makes_its_run_incomplete(tmp_path, record, said):
    run = tmp_path / "runs" / "autoencode" / "d10"
    _write(run / ondisk.COMPLETE, record)
    found, reason = ondisk.verify_completion(run)
    assert found is None and said in reason and "complete.json" in reason
    assert ondisk.run_status(run)["status"] == "incomplete"
    assert records.state(run, {})[:2] == ("incomplete", reason)


def test_a_failure_record_of_the_wrong_shape_is_a_failed_run_with_its_file_named(tmp_path):
    run = tmp_path / "runs" / "autoencode" / "d10"
    _write(run / ondisk.FAILED, ["boom"])
    row = ondisk.run_status(run)
    assert row["status"] == "failed" and "failed.json: not a JSON object" in row["error"]
    state, reason, _ = records.state(run, {})
    assert state == "failed" and "failed.json: not a JSON object" in reason


def test_a_damaged_resources_file_leaves_a_complete_run_complete_with_no_peak_memory(tmp_path):
    run = tmp_path / "runs" / "autoencode" / "d10"
    model = run / "model.pt"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"weights")
    _write(run / ondisk.COMPLETE, {"artifacts": {"model.pt": sha256_file(model)}, "seconds": 2.0})
    _write(run / ondisk.RESOURCES, [1, 2])
    row = ondisk.run_status(run)
    assert (row["status"], row["seconds"], row["peak_rss_mb"]) == ("ok", 2.0, None)


@pytest.mark.parametrize("value", [[], {"runs": {"a": 1}}, {"runs": [1, {"status": "ok"}]}])
def test_a_runs_json_of_the_wrong_shape_keeps_only_the_entries_that_are_runs(tmp_path, value):
    pdir = tmp_path / "reports" / "p"
    _write(pdir / ondisk.RUNS_JSON, value)
    runs = read_profile(pdir).runs
    assert runs == ([{"status": "ok"}] if value == {"runs": [1, {"status": "ok"}]} else [])
