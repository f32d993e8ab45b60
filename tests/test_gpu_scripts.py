"""The GPU scripts of benchmarks/, checked without a GPU: shell syntax, and the kit builder's DRY=1
mode (prints each step, checks the lock pins every wheel and DATA_DIR holds MNIST, writes nothing)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO_ROOT

SCRIPTS = sorted((REPO_ROOT / "benchmarks").glob("gpu_*.sh"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_gpu_scripts_parse(script):
    subprocess.run(["bash", "-n", str(script)], check=True)


def _kit(tmp_path, data_dir):
    env = {"DRY": "1", "PY": sys.executable, "DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        ["bash", str(REPO_ROOT / "benchmarks" / "gpu_kit.sh"), str(tmp_path / "kit")],
        env=env,
        capture_output=True,
        text=True,
    )


def test_the_kit_builder_dry_run_checks_the_lock_and_the_data_and_writes_nothing(tmp_path, fake_mnist):
    out = _kit(tmp_path, fake_mnist)
    assert out.returncode == 0, out.stderr
    assert "--python-version 3.12" in out.stdout and "--only-binary=:all:" in out.stdout
    assert "papermill==" in out.stdout and "pydantic==" in out.stdout and "torch==" not in out.stdout
    assert out.stdout.count("gzip -9c") == 4
    assert not (tmp_path / "kit").exists()
    missing = _kit(tmp_path, tmp_path / "nowhere")
    assert missing.returncode == 1 and "train-images-idx3-ubyte is missing" in missing.stderr
