"""The project's promise, proved end to end: adding an experiment is adding its package, its notebook
and its parameter-file entries, nothing else (ARCHITECTURE.md, "How to add an experiment").

In a copy of the project, a ninth experiment (`coin`: seeded coin flips in numpy, reading no data and
receiving nothing; its `main` sets up and writes as the checklist says, `training.setup` and
`artifacts`) is added by the checklist alone: `lib/aestudy/experiments/coin/` (`__init__`,
`params`, `metrics`, `run`, `main`, `plots`, `thresholds`, `report`), `notebooks/coin.ipynb` and
`params/coin.yaml`. `python -m lib run params/coin.yaml` in the copy then runs it and renders a report
that holds its section, its table and its claim, and no other file of the copy is touched: the
runner, the report's frame, the analyses notebook and the other experiments found it by themselves.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
# what `python -m lib run` needs of a checkout (`cli.checkout_of`: lib/aestudy/ and notebooks/), the
# profiles beside the new one, and the files the records and the report read (`environment.LOCK_FILE`)
COPIED = ("lib", "notebooks", "params", "pyproject.toml", "requirements-lock.txt")
PACKAGE = Path("lib/aestudy/experiments/coin")
NOTEBOOK = Path("notebooks/coin.ipynb")
PARAMS = Path("params/coin.yaml")

TITLE = "Experiment 9: coin flips"
NARRATIVE = (
    "Each run flips a seeded coin n_flips times and counts the heads; the seeds replicate the experiment."
)
CAPTION = "Heads and the fraction of heads of each coin-flip run, one row per seed."
CONCLUSION = "The coin is fair"
VERDICT_ROW = f"{CONCLUSION}: its fraction of heads is within 0.05 of one half"  # coin_margin's default

SOURCES = {
    "__init__.py": '''
        """Experiment 9: coin flips, a stand-in experiment added by tests/test_add_an_experiment.py.

        This module stays light (no torch): the study imports it."""

        from ...stage import Stage
        from .metrics import CoinMetrics
        from .params import CoinParams

        STAGE = Stage(
            "coin",
            CoinParams,
            order=90,
            reads_data=False,
            abbrev={"seed": "s"},
            metrics=CoinMetrics,
            outputs=("flips.png",),
        )
        ''',
    "params.py": '''
        """The coin stage's parameters: its notebook's parameter cell, with types, defaults and rules."""

        from __future__ import annotations

        from pydantic import Field

        from ...schema import Params, Seed


        class CoinParams(Params):
            n_flips: int = Field(1000, ge=1, le=1_000_000)
            p_heads: float = Field(0.5, ge=0, le=1)
            seed: Seed = 0
        ''',
    "metrics.py": '''
        """The coin stage's `metrics.json`: the keys the report reads."""

        from __future__ import annotations

        from ...metrics import Metrics


        class CoinMetrics(Metrics):
            n_flips: int
            heads: int
            fraction_heads: float
        ''',
    "run.py": '''
        """Experiment 9: flip a seeded coin."""

        from __future__ import annotations

        import numpy as np


        def run(n_flips: int, p_heads: float, seed: int) -> dict:
            """`n_flips` flips of a coin that shows heads with probability `p_heads`: the metrics and
            the running fraction of heads."""
            flips = np.random.default_rng(seed).random(n_flips) < p_heads
            heads = int(flips.sum())
            return {
                "metrics": {"n_flips": n_flips, "heads": heads, "fraction_heads": heads / n_flips},
                "running": (np.cumsum(flips) / np.arange(1, n_flips + 1)).tolist(),
            }
        ''',
    "main.py": '''
        """The coin notebook's one call."""

        from __future__ import annotations

        import time
        from dataclasses import dataclass
        from pathlib import Path

        import pandas as pd

        from ...ondisk import METRICS, RESOURCES
        from ...science import artifacts, training
        from . import run as coin


        @dataclass
        class Result:
            metrics: dict
            running: list
            out: Path

            def table(self) -> pd.DataFrame:
                return pd.DataFrame([self.metrics])


        def main(params: dict, *, out_dir=None) -> Result:
            start = time.perf_counter()
            training.setup(params["seed"])
            out = artifacts.output_dir(out_dir, "coin")
            result = coin.run(params["n_flips"], params["p_heads"], params["seed"])
            artifacts.write_json(out / METRICS, result["metrics"])
            artifacts.write_json(
                out / RESOURCES,
                {"seconds": time.perf_counter() - start, "peak_rss_mb": artifacts.peak_rss_mb()},
            )
            print(f"{result['metrics']['heads']} heads in {params['n_flips']} flips")
            return Result(result["metrics"], result["running"], out)
        ''',
    "plots.py": '''
        """The coin run's figure: the running fraction of heads."""

        from __future__ import annotations

        import matplotlib.pyplot as plt

        from ...drawing import show  # noqa: F401 (the notebook's)


        def running_fraction(running: list):
            fig, ax = plt.subplots(figsize=(5, 3))
            ax.plot(range(1, len(running) + 1), running)
            ax.axhline(0.5, color="0.5", ls="--")
            ax.set_xlabel("flips")
            ax.set_ylabel("fraction of heads")
            fig.tight_layout()
            return fig
        ''',
    "thresholds.py": '''
        """Experiment 9's report threshold: the margin of "the coin is fair"."""

        from __future__ import annotations

        from pydantic import Field

        from ...schema import Params


        class Thresholds(Params):
            coin_margin: float = Field(
                0.05, gt=0, lt=0.5, description="equivalence margin of 'the coin is fair', in fraction of heads"
            )
        ''',
    "report.py": f'''
        """Experiment 9, coin flips: its claim, its sentences and its table."""

        from __future__ import annotations

        import pandas as pd

        from ...report import section
        from ...report.claims import NO_RUNS, Claim, Experiment, row
        from ...report.decide import equivalence
        from ...report_params import ReportParams

        STAGE = "coin"
        DEFAULT = ReportParams()
        DIFF = "heads - 1/2"


        def verdict_fair(rows: pd.DataFrame, rules: ReportParams = DEFAULT) -> dict:
            conclusion = f"{CONCLUSION}: its fraction of heads is within {{rules.coin_margin:g}} of one half"
            if rows is None or rows.empty:
                return row("9+", conclusion, NO_RUNS)
            dec = equivalence(pd.DataFrame({{DIFF: rows["fraction_heads"] - 0.5}}), rules.coin_margin, rules.confidence)
            ci = dec["cis"][DIFF]
            numbers = f"{{DIFF}}: {{ci['mean']:+.4f}} [{{ci['lo']:+.4f}}, {{ci['hi']:+.4f}}] over {{len(rows)}} seeds"
            return row("9+", conclusion, numbers, dec, key=f"{{ci['mean'] + 0.5:.3f}} heads")


        def rules_markdown(rules: ReportParams) -> str:
            return f"- *The coin is fair*: TOST at margin {{rules.coin_margin:g}}, each seed a unit.\\n"


        def text(data) -> str:
            rows = data.usable(STAGE)
            return "" if rows.empty else f"{{len(rows)}} seeds flipped {{int(rows['n_flips'].sum()):,}} coins."


        def coin_table(data):
            rows = data.usable(STAGE)
            if rows.empty:
                return pd.DataFrame(), ""
            return rows[["run_id", "seed", "heads", "fraction_heads"]], {CAPTION!r}


        EXPERIMENT = Experiment(
            name=STAGE,
            stages=(STAGE,),
            order=9,
            claims={{"coin_fair": Claim("9+", STAGE, verdict_fair)}},
            rules=rules_markdown,
            title={TITLE!r},
            narrative={NARRATIVE!r},
            text=text,
            sections=(section.table(coin_table, empty="No coin was flipped."),),
        )
        ''',
}

NOTEBOOK_CELLS = [
    ("markdown", f"# {TITLE}\n\n{NARRATIVE}"),
    (
        "parameters",
        "# Parameters (papermill injects the runner's values after this cell)\n"
        "n_flips = 1000             # flips per run\n"
        "p_heads = 0.5              # probability of heads\n"
        "seed = 0                   # the coin's seed\n"
        "out_dir = None             # None: reports/lab/coin",
    ),
    (
        "code",
        "from aestudy.study import check_parameters\n\n"
        'params = check_parameters("coin", globals())  # stops here, in one line, on an unknown name or a bad value',
    ),
    (
        "code",
        "from aestudy.experiments.coin.main import main\n\nresult = main(params, out_dir=out_dir)\nresult.table()",
    ),
    (
        "code",
        "from IPython.display import display\n\nfrom aestudy.experiments.coin import plots\n\n"
        'display(plots.show(plots.running_fraction(result.running), result.out / "flips.png"))',
    ),
]

PARAMETER_FILE = """\
# Experiment 9 alone: three seeds of a fair coin (tests/test_add_an_experiment.py)
profile: coin
stages:
  coin:
    grid: {seed: [0, 1, 2]}
    params: {n_flips: 20000, p_heads: 0.5}
"""


def _digests(root: Path) -> dict[str, str]:
    """sha256 of every file under `root`, by its relative path, less __pycache__ and reports/."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and "__pycache__" not in p.relative_to(root).parts
        and p.relative_to(root).parts[0] != "reports"
    }


def _added(path: str) -> bool:
    return path.startswith(f"{PACKAGE.as_posix()}/") or path in (NOTEBOOK.as_posix(), PARAMS.as_posix())


def _in_copy(copy: Path, *args: str, timeout: float) -> subprocess.CompletedProcess:
    """`python -m lib ARGS` in the copy, its own `lib` first on the import path (as a user types it
    there); no REPORTS_DIR or AESTUDY_ROOT of the test session's leaks into it."""
    env = {k: v for k, v in os.environ.items() if k not in ("REPORTS_DIR", "AESTUDY_ROOT")}
    theirs = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p) != REPO / "lib"]
    env["PYTHONPATH"] = os.pathsep.join([str(copy / "lib"), *theirs])
    env["CHROMIUM"] = str(
        copy / "no-chromium"
    )  # the HTML is what is read here: no PDF (a warning), seconds saved
    return subprocess.run(
        [sys.executable, "-m", "lib", *args],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _add_the_experiment(copy: Path) -> None:
    """The checklist's steps 1, 2 and 4, and nothing else."""
    package = copy / PACKAGE
    package.mkdir()
    for name, source in SOURCES.items():
        (package / name).write_text(textwrap.dedent(source).lstrip())
    nb = nbformat.v4.new_notebook()
    for kind, source in NOTEBOOK_CELLS:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            cell = nbformat.v4.new_code_cell(source)
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
            nb.cells.append(cell)
    nbformat.write(nb, copy / NOTEBOOK)
    tidy = _in_copy(copy, "tidy-notebooks", NOTEBOOK.as_posix(), timeout=60)
    assert tidy.returncode == 0, tidy.stderr[-2000:]
    (copy / PARAMS).write_text(PARAMETER_FILE)


@pytest.mark.slow
def test_an_experiment_added_as_its_package_notebook_and_parameter_file_runs_and_joins_the_report(tmp_path):
    copy = tmp_path / "project"
    copy.mkdir()
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(
                src, copy / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
            )
        else:
            shutil.copy2(src, copy / name)
    before = _digests(copy)
    assert not any(_added(p) for p in before), "the copy already holds a coin experiment"

    _add_the_experiment(copy)
    proc = _in_copy(copy, "run", PARAMS.as_posix(), "--workers", "1", "--no-pdf", timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]

    profile = copy / "reports" / "coin"
    for seed in range(3):  # every planned run kept its contract (metrics.json, flips.png) and is complete
        assert (profile / "runs" / "coin" / f"s{seed}" / "complete.json").is_file(), proc.stderr[-3000:]
    html = (profile / "report.html").read_text()
    headings = [(m.start(), m[1]) for m in re.finditer(r"<h2[^>]*>([^<]*)", html)]
    at = {title: start for start, title in headings}
    assert TITLE in at, f"the experiment's heading is not in the report: {[t for _, t in headings]}"
    # its section stands where its `order` puts it: after the original's four, before the closing choices
    transfer = next(start for start, title in headings if title.startswith("Experiment 4:"))
    assert transfer < at[TITLE] < at["Choices and limitations"], [t for _, t in headings]
    section = html[at[TITLE] : at["Choices and limitations"]]
    assert NARRATIVE in section and "3 seeds flipped 60,000 coins." in section  # `narrative`, `text`
    table = section[section.index(CAPTION) :]  # its table under its caption (numbered by the frame)
    assert all(f"<td>s{seed}</td>" in table for seed in range(3)), table[:2000]
    # its claim joined the verdict table (decided on its own threshold, `coin_margin`)
    assert f'<td class="col-conclusion">{VERDICT_ROW}</td>' in html

    after = _digests(copy)
    assert {p for p in after if _added(p)} >= {
        *(f"{PACKAGE.as_posix()}/{name}" for name in SOURCES),
        NOTEBOOK.as_posix(),
        PARAMS.as_posix(),
    }
    changed = sorted(
        p for p in before.keys() | after.keys() if not _added(p) and before.get(p) != after.get(p)
    )
    assert changed == [], f"files outside the new experiment were changed, added or removed: {changed}"
