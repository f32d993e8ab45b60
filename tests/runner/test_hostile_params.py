"""Parameter files written to hurt: each is refused with exit 2 and one short line, at once.

A billion-laughs YAML inside a key the schema accepts, nesting deep enough to exhaust Python's
recursion, a file of megabytes, a value of a megabyte: `aestudy.bounded_yaml` refuses aliases,
nesting past 20 levels and files over 1 MB before anything is built, and `aestudy.messages` quotes
at most 80 characters of a value. Each file runs through the real command in a process of its own;
the 20 s timeout only catches an expansion (before the bounds, these took minutes and gigabytes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from aestudy import bounded_yaml, messages, schema
from aestudy.runner.paramfile import load_study
from aestudy.schema import ParamsError

REPO = Path(__file__).resolve().parents[2]
THEORY = "stages:\n  theory:\n    params: {n_samples: 101}\n"


def laughs(levels: int = 9) -> str:
    """A flow list whose last element is 9**levels 'lol's when aliases are expanded (a few hundred bytes)."""
    nodes = ["&a0 [" + ", ".join(["lol"] * 9) + "]"]
    nodes += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "[" + ", ".join(nodes) + "]"


HOSTILE = {
    "laughs in report.confidence": lambda: f"profile: h\nreport:\n  confidence: {laughs()}\n{THEORY}",
    "laughs in cluster.directives": lambda: f"profile: h\ncluster:\n  directives: {laughs()}\n{THEORY}",
    "laughs in data.data_seed": lambda: f"profile: h\ndata: {{data_seed: {laughs()}}}\n{THEORY}",
    "laughs in theory.grid.seed": lambda: f"profile: h\nstages:\n  theory:\n    grid: {{seed: {laughs()}}}\n",
    "laughs in protocol.params.space.steps": lambda: (
        "profile: h\nstages:\n  autoencode: {}\n  protocol:\n    uses: {autoencode: {}}\n"
        f"    params:\n      space: {{steps: {laughs()}}}\n"
    ),
    "100k [": lambda: "profile: h\nstages: " + "[" * 100_000 + "\n",
    "3000-level block map": lambda: (
        "profile: h\nreport:\n" + "".join(" " * (i + 1) + "k:\n" for i in range(3000)) + " " * 3001 + "v: 1\n"
    ),
    "1000-level block map under 1 MB": lambda: (
        "profile: h\nreport:\n" + "".join(" " * (i + 1) + "k:\n" for i in range(1000)) + " " * 1001 + "v: 1\n"
    ),
    "3000-level block sequence": lambda: "profile: h\nreport:\n  confidence:\n    " + "- " * 3000 + "x\n",
    "2 MB file": lambda: "profile: h\n" + THEORY + "# padding\n" * 200_000,
    "a 900 kB value": lambda: f"profile: h\nreport:\n  confidence: '{'x' * 900_000}'\n{THEORY}",
    "a 900 kB stage name": lambda: f"profile: h\nstages:\n  ? '{'x' * 900_000}'\n  : {{}}\n",
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_parameter_file_exits_2_with_one_short_line(case, tmp_path):
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE[case]())
    proc = subprocess.run(
        [sys.executable, "-m", "lib", "run", str(path), "--no-render"],
        cwd=REPO,
        env={**os.environ, "REPORTS_DIR": str(tmp_path / "reports")},
        capture_output=True,
        text=True,
        timeout=20,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-2000:]
    assert out.count("\n") == 1 and out.startswith(f"error: {path}: "), out[:2000]
    assert len(out) <= 300, out
    assert not (tmp_path / "reports").exists()  # nothing ran, nothing was written


@pytest.mark.parametrize(
    "case",
    ["laughs in report.confidence", "100k [", "1000-level block map under 1 MB", "3000-level block sequence"],
)
def test_the_pure_python_parser_is_bounded_too(case, tmp_path, monkeypatch):
    """Without libyaml (PyYAML's C extension), the same checks run on PyYAML's own parser."""
    monkeypatch.setattr(bounded_yaml, "_LOADER", yaml.SafeLoader)
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE[case]())
    with pytest.raises(ParamsError) as caught:
        load_study(path)
    assert str(caught.value).startswith(f"{path}: line ") and len(str(caught.value)) <= 300


def test_the_committed_profiles_read_as_plain_yaml_reads_them():
    for path in sorted((REPO / "params").glob("*.yaml")):
        text = path.read_text()
        assert bounded_yaml.parse(text, path) == yaml.safe_load(text)


def test_an_alias_is_named_with_its_line_and_an_anchor_alone_is_harmless(tmp_path):
    path = tmp_path / "alias.yaml"
    path.write_text("profile: &name a\nstages:\n  theory:\n    params: {n_samples: 101}\n")
    assert load_study(path).profile == "a"
    path.write_text("profile: a\nx: &n 101\nstages:\n  theory:\n    params: {n_samples: *n}\n")
    with pytest.raises(
        ParamsError, match=r"alias.yaml: line 5, column 25: YAML alias '\*n': aliases are not"
    ):
        load_study(path)


def test_a_short_value_is_quoted_whole_as_the_schema_quotes_it():
    err = {
        "type": "greater_than",
        "loc": ("confidence",),
        "msg": "Input should be greater than 0.5",
        "input": 0.1,
    }
    assert messages.error_line("f: report.confidence", err) == schema.error_line("f: report.confidence", err)
    assert (
        messages.shown("x" * 100).endswith("... (100 characters)") and len(messages.shown("x" * 10**6)) < 110
    )
    assert messages.clip("a\nb") == "a\\nb"  # one line


@pytest.mark.parametrize(
    "text, line",
    [
        (
            "profile: h\ndata: {train_size: 300}\ndata: {train_size: 50}\n" + THEORY,
            "line 3, column 1: duplicate key 'data'",
        ),
        ("profile: h\n" + THEORY + "stages:\n  autoencode: {}\n", "line 5, column 1: duplicate key 'stages'"),
        (
            "profile: h\nstages:\n  theory:\n    params: {seed: 0, seed: 1}\n",
            "line 4, column 23: duplicate key 'seed'",
        ),
    ],
    ids=["data", "stages", "a flow mapping's key"],
)
def test_a_key_given_twice_is_refused_not_silently_replaced(text, line, tmp_path):
    """YAML keeps the last of two equal keys: a second `stages:` silently dropped every stage of
    the first (and a render then overwrote the profile's report with what was left)."""
    path = tmp_path / "twice.yaml"
    path.write_text(text)
    with pytest.raises(ParamsError) as err:
        load_study(path)
    assert str(err.value).startswith(f"{path}: {line}"), str(err.value)
    same_key_elsewhere = "profile: h\ndata: {data_seed: 0}\nstages:\n  theory:\n    params: {seed: 0}\n"
    path.write_text(same_key_elsewhere)  # the same key in two mappings, and in a list's mappings: fine
    assert load_study(path).profile == "h"
    assert bounded_yaml.parse("l: [{a: 1}, {a: 1}]\n", "x") == {"l": [{"a": 1}, {"a": 1}]}


def test_a_file_without_stages_or_profile(tmp_path):
    """No stage at all is refused (it ran nothing and re-rendered the profile's report); a file
    without `profile:` keeps its runs under its own name, never under another file's folder."""
    path = tmp_path / "my_try.yaml"
    path.write_text("profile: h\nstages: {}\n")
    with pytest.raises(ParamsError, match=r"stages: none given \(allowed: autoencode, "):
        load_study(path)
    path.write_text(THEORY)
    assert load_study(path).profile == "my_try"
