"""aestudy.import_costs: the runner and the report import papermill, nbformat and nbconvert without
building rfc3987_syntax's parsers (1.3-1.7 s a process), and jsonschema still checks the "iri"
formats as it does without the deferral. Each case in a fresh interpreter: this one has imported
jsonschema long ago."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib"
VALUES = ["http://example.com/ä", "http://[bad", "relative/path", "urn:isbn:0451450523", "", "a b"]

CHECK = """\
import json, sys
{first}
import jsonschema
built_before_use = "rfc3987_syntax.syntax_helpers" in sys.modules
checker = jsonschema.Draft7Validator.FORMAT_CHECKER
verdicts = [[checker.conforms(v, "iri"), checker.conforms(v, "iri-reference")] for v in {values!r}]
print(json.dumps({{"built_before_use": built_before_use, "verdicts": verdicts}}))
"""


def _fresh(first: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(LIB), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", CHECK.format(first=first, values=VALUES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "first",
    ["import aestudy.runner, papermill", "import aestudy.report, nbformat, nbconvert"],
    ids=["runner-papermill", "report-nbconvert"],
)
def test_the_iri_parser_is_built_on_first_use_not_at_import(first):
    deferred, plain = _fresh(first), _fresh("")
    assert deferred["built_before_use"] is False
    assert plain["built_before_use"] is True  # what the deferral saves: the module exists, and loads eagerly
    assert deferred["verdicts"] == plain["verdicts"]
    assert [True, True] in plain["verdicts"] and [False, False] in plain["verdicts"]  # both answers occur
