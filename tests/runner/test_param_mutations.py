"""Every leaf of a shipped parameter file, mutated: the runner's reading of the file (validation, then
the plan) either accepts it or refuses it in one line naming the file, never with a traceback, and
within seconds. This sweep found a num_conv of 10**12 that hung its own error message, a rule that
pydantic skipped on a default (a traceback), `true` selecting num_conv 1 and a grid value `[]`."""

from __future__ import annotations

import copy
import signal

import pytest
import yaml

from aestudy.config import PROJECT_ROOT
from aestudy.runner.paramfile import load_study
from aestudy.runner.plan import plan
from aestudy.schema import ParamsError

VALUES = (None, -1, 0, 0.5, "abc", [], {}, 10**12, 1e12, True, [1, "x"], {"zz": 1}, "")
SECONDS = 10  # one case's limit: a case validates in milliseconds


def leaves(node, path=()):
    if path:
        yield path
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, inner in items:
        yield from leaves(inner, (*path, key))


def mutations(base: dict):
    """(what, mutated file) for every leaf: each of VALUES in its place, the leaf removed, and a key renamed."""
    for path in leaves(base):
        for value in (*VALUES, "delete", "rename"):
            doc = copy.deepcopy(base)
            parent = doc
            for key in path[:-1]:
                parent = parent[key]
            last = path[-1]
            if value == "delete":
                del parent[last]
            elif value == "rename":
                if not isinstance(last, str):
                    continue
                parent[last + "x"] = parent.pop(last)
            else:
                parent[last] = value
            yield f"{'.'.join(map(str, path))} <- {value!r}", doc


def _too_long(signum, frame):
    raise TimeoutError(f"over {SECONDS} s")


@pytest.mark.slow
def test_every_mutated_leaf_of_the_smoke_file_is_read_or_refused_in_one_line_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    base = yaml.safe_load((PROJECT_ROOT / "params" / "smoke.yaml").read_text())
    f = tmp_path / "mutated.yaml"
    previous = signal.signal(signal.SIGALRM, _too_long)
    wrong, cases = [], 0
    try:
        for what, doc in mutations(base):
            cases += 1
            f.write_text(yaml.safe_dump(doc))
            signal.alarm(SECONDS)
            try:
                plan(load_study(f))
            except ParamsError as exc:
                line = str(exc)
                if "\n" in line or str(f) not in line:
                    wrong.append(f"{what}: {line!r}")
            except Exception as exc:  # a traceback (or a hang) where one line belongs
                wrong.append(f"{what}: {type(exc).__name__}: {exc}")
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert cases > 1000
    assert not wrong, "\n".join(wrong[:20])
