"""benchmarks/verdict_calibration.py (how often the verdicts' rules decide null claims) keeps
running against the report's estimators as they are: every setting prints its row. Its figures
are the benchmark's, never asserted here beyond what a few replicates can show."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_calibration_benchmark_runs_every_setting_on_the_current_estimators():
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "verdict_calibration.py"),
            "--reps",
            "40",
            "--workers",
            "1",
            "--welch",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if re.search(r"\s\d+\.\d\s+\d+\.\d\s+\d+\.\d", line)]
    names = " ".join(rows)
    assert "yardstick" in names and "autoencode SDs" in names and "correlate SDs" in names
    # the design seeding every model for its own cell would give, decided on cell means (--welch)
    assert (
        "autoencode SDs, per-cell seeds, Welch" in names and "correlate SDs, per-cell seeds, Welch" in names
    )
    # three seed shares each, and the Welch mean over cells of independent units (--welch)
    assert (
        names.count("interpolate (3 num_conv x 4)") == 4 and names.count("transfer (4 latent_dim x 4)") == 4
    )
    assert "interpolate (3 num_conv x 4), Welch, SDs 1-4x" in names
    assert "aestudy from " + str(ROOT / "lib" / "aestudy") in done.stdout  # the checkout's own estimators
