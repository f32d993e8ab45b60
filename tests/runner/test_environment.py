"""The environment in the record: every completion record names the lock's digest and the
versions of Python, torch and numpy; a run made under another torch or numpy is stale, saying
which; the report's provenance line names what differs from the lock."""

from __future__ import annotations

import sys

from aestudy import environment
from aestudy.report import provenance
from aestudy.runner import records


def completed_run(tmp_path, env=None):
    run_dir = tmp_path / "runs" / "theory" / "all"
    run_dir.mkdir(parents=True)
    (run_dir / "metrics.json").write_text("{}")
    run_inputs = {"notebook": "n", "params": {}, "data": "", "upstream": {}}
    record = {"status": "ok", "key": "k", "inputs": run_inputs, "modules": {}}
    if env is not None:
        record["environment"] = env
    records.write_completion(run_dir, record)
    return run_dir, run_inputs


def test_every_completion_record_names_the_lock_and_the_versions(tmp_path):
    run_dir, run_inputs = completed_run(tmp_path)
    record, why = records.verify_completion(run_dir)
    assert record is not None, why
    env = record["environment"]
    assert env == environment.snapshot()
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert env["torch"] == environment.version("torch") != "not installed"
    assert env["numpy"] == environment.version("numpy") != "not installed"
    assert env["lock"] == environment.lock_digest() and len(env["lock"]) == 64
    assert records.state(run_dir, run_inputs)[:2] == ("complete", "")


def test_a_run_made_under_another_torch_or_numpy_is_stale_and_says_which(tmp_path):
    then = {**environment.snapshot(), "torch": "2.0.0", "numpy": "1.24.0"}
    run_dir, run_inputs = completed_run(tmp_path, then)
    state, reason, _ = records.state(run_dir, run_inputs)
    assert state == "stale"
    assert f"made under torch 2.0.0, now {environment.version('torch')}" in reason
    assert f"made under numpy 1.24.0, now {environment.version('numpy')}" in reason


def test_another_lock_or_python_alone_leaves_a_run_complete_and_an_unrecorded_environment_says_nothing(
    tmp_path,
):
    then = {**environment.snapshot(), "lock": "0" * 64, "python": "3.12.0"}
    run_dir, run_inputs = completed_run(tmp_path, then)
    assert records.state(run_dir, run_inputs)[0] == "complete"
    assert environment.changed(None) == [] and environment.changed({}) == []


def test_lock_differences_name_each_package_not_as_locked(tmp_path):
    numpy = environment.version("numpy")
    (tmp_path / environment.LOCK_FILE).write_text(
        "# header\n"
        f"numpy=={numpy} \\\n    --hash=sha256:{'a' * 64}\n"
        "pytest==0.0.1 \\\n    --hash=sha256:" + "b" * 64 + "\n    # via ae-study (pyproject.toml)\n"
        "no-such-package-here==1.0 \\\n    --hash=sha256:" + "c" * 64 + "\n"
        "pywin32==306 ; sys_platform == 'win32' \\\n    --hash=sha256:" + "d" * 64 + "\n"
    )
    assert environment.locked(tmp_path) == {"numpy": numpy, "pytest": "0.0.1", "no-such-package-here": "1.0"}
    assert environment.lock_differences(tmp_path) == [
        "no-such-package-here not installed (locked 1.0)",
        f"pytest {environment.version('pytest')} (locked 0.0.1)",
    ]
    assert environment.lock_differences(tmp_path / "nowhere") == []
    assert environment.lock_digest(tmp_path / "nowhere") is None


def test_the_provenance_line_names_the_lock_the_versions_and_what_differs():
    info = provenance.environment_info()
    assert info["lock"] == environment.lock_digest()
    line = provenance.environment_line(info)
    assert line.startswith(
        f"requirements-lock.txt sha256 {info['lock'][:12]}; torch {info['versions']['torch']}, "
        f"numpy {info['versions']['numpy']}, Python {info['python']}"
    )
    assert "\n" not in line
    differs = provenance.environment_line(
        {**info, "lock_differs": ["numpy 2.3.0 (locked 2.4.6)"]},
        runs=[{"torch": "2.0.0", "numpy": info["versions"]["numpy"]}, None],
    )
    assert differs.endswith(
        "; differs from the lock: numpy 2.3.0 (locked 2.4.6); some runs were made under torch 2.0.0"
    )
    assert provenance.environment_line({**info, "lock_differs": []}).endswith("; as locked")
    assert provenance.environment_line({**info, "lock": None}).startswith("no lock file; torch")
