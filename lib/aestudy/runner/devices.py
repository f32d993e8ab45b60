"""A `device` named outright (cuda, cuda:N, mps) must be on the machine that runs it.

For the runs executed here (the local executor) the runner checks that before any run starts, so a
wrong device is one line naming the parameter file and the field (exit 2), not every run failing
with the same line and its dependants skipped. The runner imports no torch: a child Python asks
`science.training.pick_device`, the check every run makes itself, about each device named. Under
the Dask and SLURM executors each worker makes the same check before it gets a run (the worker
may hold the GPU this machine lacks): `required` is what the sweep hands it, and a worker without
the device is the same line, said by the worker on its host (`runner.cluster`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .. import config
from ..messages import ParamsError

NEEDS_NO_CHECK = ("auto", "cpu")
LIB = Path(__file__).resolve().parents[2]  # the folder that holds the aestudy package
PROBE = """
import json, sys
from aestudy.science.training import DeviceMissing, pick_device
said = {}
for device in sys.argv[1:]:
    try:
        pick_device(device)
        said[device] = ""
    except DeviceMissing as exc:
        said[device] = str(exc)
print(json.dumps(said))
"""


def named_devices(runs) -> dict[str, tuple[str, str]]:
    """{device: (stage, section)} of the first run naming each device other than auto and cpu
    (section: 'grid' where the grid sets it, else 'params')."""
    named: dict[str, tuple[str, str]] = {}
    for run in runs:
        device = run.params.get("device")
        if isinstance(device, str) and device not in NEEDS_NO_CHECK:
            named.setdefault(device, (run.stage, "grid" if "device" in run.grid else "params"))
    return named


def probe(devices) -> dict[str, str]:
    """{device: '' where this machine has it, else pick_device's one line}; {} where the child
    Python could not say (the runs then check for themselves)."""
    path = [str(LIB), *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}  # no empty entry: it would mean the cwd
    try:
        out = subprocess.run(
            [sys.executable, "-c", PROBE, *devices], capture_output=True, text=True, env=env, timeout=300
        )
        said = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {}
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return {}
    return said if isinstance(said, dict) else {}


def required(study, runs) -> dict[str, str]:
    """{device: 'FILE: stages.STAGE.SECTION'} of every device the runs name outright: where the
    one line about a machine that lacks it points."""
    return {
        device: f"{config.relative(study.path)}: stages.{stage}.{section}"
        for device, (stage, section) in named_devices(runs).items()
    }


def missing(named: dict[str, str], ask=probe) -> str:
    """The one line about the first device of `named` (`required`) this machine lacks, else ''
    (also where the child Python could not say: the runs then check for themselves)."""
    if not named:
        return ""
    said = ask(list(named))
    return next((f"{where}.{said[device]}" for device, where in named.items() if said.get(device)), "")


def check_devices(study, runs, ask=probe) -> None:
    """ParamsError (one line: the file, the stage's field, what this machine has) when a run
    executed here names a device this machine lacks."""
    words = missing(required(study, runs), ask)
    if words:
        raise ParamsError(words)
