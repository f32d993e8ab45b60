"""Project hygiene: dependency lists agree, notebooks are committed clean, README commands."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import pytest
import tomllib
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


def _norm(req: str) -> str:
    return re.sub(r"\s+", "", req).lower()


def _pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


LOCK = REPO_ROOT / "requirements-lock.txt"


def _locked() -> dict:
    """{name: (version, marker, [packages it is there for])} of requirements-lock.txt."""
    from packaging.requirements import Requirement

    pins, current = {}, None
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            req = Requirement(line.rstrip(" \\"))
            (spec,) = req.specifier
            assert spec.operator == "==", line
            current = pins[req.name.lower()] = (spec.version, req.marker, [])
        elif current is not None and line.strip().startswith("#") and line.strip() != "# via":
            current[2].append(line.strip(" #").removeprefix("via ").strip())
    return pins


def test_the_lock_is_up_to_date_with_pyproject():
    """requirements-lock.txt pins every dependency of pyproject.toml (test extra included) at a
    version its bounds allow, with a hash, and pins no other package for the project itself:
    after editing the dependencies, `make lock` brings it up to date."""
    from packaging.requirements import Requirement

    project = _pyproject()["project"]
    wanted = {Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    pins = _locked()
    missing = sorted(r.name for r in wanted if r.name.lower() not in pins)
    assert not missing, f"not in {LOCK.name} (run `make lock`): {missing}"
    outside = [
        f"{r.name}=={pins[r.name.lower()][0]} (pyproject.toml: {r})"
        for r in wanted
        if not r.specifier.contains(pins[r.name.lower()][0], prereleases=True)
    ]
    assert not outside, f"{LOCK.name} pins versions pyproject.toml excludes (run `make lock`): {outside}"
    direct = {n for n, (_, _, via) in pins.items() if "ae-study (pyproject.toml)" in via}
    assert direct == {r.name.lower() for r in wanted}, (
        f"{LOCK.name} was locked from other dependencies (run `make lock`): {sorted(direct ^ {r.name.lower() for r in wanted})}"
    )
    lines = LOCK.read_text().splitlines()
    unhashed = [
        ln
        for ln, nxt in zip(lines, lines[1:] + [""])
        if ln and not ln.startswith((" ", "#")) and not nxt.strip().startswith("--hash=sha256:")
    ]
    assert not unhashed, f"{LOCK.name}: pins without a hash: {unhashed}"


def test_environment_yml_installs_the_lock():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip_lists = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert pip_lists == [[f"-r {LOCK.name}"]], (
        "environment.yml's pip section should install the lock, nothing else"
    )
    conda = [_norm(d) for d in deps if isinstance(d, str)]
    assert "pip" in conda
    python = next(d for d in conda if d.startswith("python"))
    from packaging.specifiers import SpecifierSet

    assert SpecifierSet(python.removeprefix("python")).contains("3.11.5")  # the lock's floor
    assert not SpecifierSet(python.removeprefix("python")).contains("3.11.4")


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_committed_clean(nb_path):
    nb = json.loads(nb_path.read_text())
    assert nb.get("nbformat") == 4
    spec = nb["metadata"].get("kernelspec", {})
    assert spec.get("name") == "python3" and spec.get("language") == "python", spec
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{nb_path.name}: {len(tagged)} code cells tagged 'parameters'"
    assert not [
        c
        for c in nb["cells"]
        if c["cell_type"] != "code" and "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, f"{nb_path.name}: cells {dirty} hold outputs or execution counts"
    # papermill injects after the parameters cell: it must assign names only, and out_dir among them
    src = "".join(tagged[0]["source"])
    body = ast.parse(src, nb_path.name).body
    not_assign = [
        ast.unparse(n).splitlines()[0] for n in body if not isinstance(n, (ast.Assign, ast.AnnAssign))
    ]
    assert not not_assign, f"{nb_path.name}: the parameters cell does more than assign names: {not_assign}"
    names = [
        t.id
        for n in body
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name)
    ]
    assert len(names) == len(body), f"{nb_path.name}: a parameter is assigned to something other than a name"
    assert "out_dir" in names or nb_path.stem == "analyses", f"{nb_path.name}: no out_dir parameter"


def test_there_are_notebooks():
    assert (REPO_ROOT / "notebooks" / "autoencode.ipynb") in NOTEBOOKS


def _readme_commands(text: str) -> list[str]:
    """Command lines of the fenced code blocks, in order (comments, prompts and blanks dropped)."""
    commands = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line.strip().removeprefix("$ ")).strip()  # trailing comment
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def test_readme_first_commands_are_make_report_and_make_test():
    readme = REPO_ROOT / "README.md"
    if not readme.exists():
        pytest.skip("no README.md yet")
    commands = _readme_commands(readme.read_text())
    assert commands[:2] == ["make report", "make test"], commands[:4]


def test_makefile_has_report_and_test_targets():
    text = (REPO_ROOT / "Makefile").read_text()
    for target in ("report", "test"):
        assert re.search(rf"^{target}:", text, flags=re.M), target


def test_the_parameter_file_page_points_at_the_default_profile_and_names_only_real_keys():
    """docs/parameters.md links params/default.yaml (no copy to drift); every `key:` it names exists."""
    page = (REPO_ROOT / "docs" / "parameters.md").read_text()
    assert "(../params/default.yaml)" in page
    default = (REPO_ROOT / "params" / "default.yaml").read_text()
    named = set(re.findall(r"`(\w+): ", page))
    assert named and all(
        re.search(rf"\b{k}:", default + (REPO_ROOT / "params" / "full.yaml").read_text())
        for k in named - {"timeout", "cluster"}
    ), named


def _import_graph() -> dict:
    """module -> the project modules it imports (at any depth of the file, functions included)."""
    import ast

    root = REPO_ROOT / "lib"
    mods = {}
    for f in (root / "aestudy").rglob("*.py"):
        rel = f.relative_to(root).with_suffix("")
        mods[".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)] = f
    graph = {}
    for name, f in mods.items():
        pkg = name if f.name == "__init__.py" else name.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                deps |= {f"{target}.{a.name}" if f"{target}.{a.name}" in mods else target for a in node.names}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
        graph[name] = {d for d in deps if d in mods and d != name and not name.startswith(d + ".")}
    return graph


EXPERIMENTS_PKG = "aestudy.experiments"


def _in(module: str, *rooms: str) -> bool:
    """Whether `module` is one of `rooms` or inside one (aestudy.report, not aestudy.report_params)."""
    return any(module == r or module.startswith(r + ".") for r in rooms)


def _experiment_side(module: str) -> str | None:
    """'run' or 'report' for a module of an experiment package (by the entry point it serves: a
    module the package's `run` reaches is on the run side, one its `report` reaches on the report
    side), 'declaration' for its __init__, params, metrics and thresholds; None outside the packages."""
    parts = module.split(".")
    if parts[:2] != EXPERIMENTS_PKG.split(".") or len(parts) < 3:
        return None
    return "declaration" if len(parts) == 3 or parts[3] in ("params", "metrics", "thresholds") else parts[3]


def test_no_import_cycles_and_each_room_imports_only_what_it_may():
    graph = _import_graph()

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for d in graph[todo.pop()] - seen:
                seen.add(d)
                todo.append(d)
        return seen

    assert [m for m in graph if m in reach(m)] == []
    packages = {m.split(".")[2] for m in graph if _experiment_side(m)}
    assert packages, "no experiment package found"
    runs = {f"{EXPERIMENTS_PKG}.{p}.run" for p in packages if f"{EXPERIMENTS_PKG}.{p}.run" in graph}
    plots = {f"{EXPERIMENTS_PKG}.{p}.plots" for p in packages if f"{EXPERIMENTS_PKG}.{p}.plots" in graph}
    reports = {f"{EXPERIMENTS_PKG}.{p}.report" for p in packages if f"{EXPERIMENTS_PKG}.{p}.report" in graph}
    run_side = set().union(*(reach(r) | {r} for r in runs | plots))  # what a run notebook imports
    report_side = set().union(
        *(reach(r) | {r} for r in reports | {m for m in graph if _in(m, "aestudy.report")})
    )
    for m, deps in graph.items():
        if m.startswith("aestudy.science"):  # the shared science knows no runner, no report and no experiment
            assert not [d for d in deps if _in(d, "aestudy.runner", "aestudy.report", EXPERIMENTS_PKG)], m
        if m.startswith(
            "aestudy.runner"
        ):  # the runner never imports the report, and knows stages only through aestudy.study
            assert not [d for d in deps if _in(d, "aestudy.report", EXPERIMENTS_PKG)], m
        if (
            _experiment_side(m) == "declaration"
        ):  # a stage's declaration is light: no science, no run, no report
            assert not [
                d
                for d in reach(m)
                if _in(d, "aestudy.science", "aestudy.runner", "aestudy.report")
                or _experiment_side(d) not in (None, "declaration")
            ], m
    # what a run computes never imports the report or the runner; the report (its frame and every
    # experiment's section, with all they reach) never imports the science side, the runner or a run
    assert (
        sorted(
            m
            for m in run_side
            if _in(m, "aestudy.report", "aestudy.runner") or _experiment_side(m) == "report"
        )
        == []
    )
    assert (
        sorted(m for m in report_side if _in(m, "aestudy.science", "aestudy.runner") or m in runs | plots)
        == []
    )


def test_the_report_and_every_experiment_section_import_no_torch():
    """`aestudy compare` and the report's frame never pay torch's import: the registry with every
    experiment's report section, imported in a fresh interpreter, loads neither torch nor any module
    of the science side or the runner."""
    code = """
import importlib, json, pkgutil, sys
import aestudy.experiments as pkgs
from aestudy.report import compare, profile, verdicts, prose, choices, experiments
for m in pkgutil.iter_modules(pkgs.__path__):
    try:
        importlib.import_module(f"aestudy.experiments.{m.name}.report")
    except ModuleNotFoundError as exc:
        if exc.name != f"aestudy.experiments.{m.name}.report":
            raise
print(json.dumps({"experiments": [e.name for e in experiments.EXPERIMENTS],
                  "loaded": sorted(n for n in sys.modules if n == "torch" or n.startswith(
                      ("torch.", "aestudy.science", "aestudy.runner")) or n.endswith(".run"))}))
"""
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "lib")},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(found["experiments"]) >= 5 and found["loaded"] == []


def _cited_paths(text: str) -> set[str]:
    """File names a page cites: `code` spans that look like a project path, and link targets."""
    spans = set(re.findall(r"`([^`\s]+)`", text)) | set(re.findall(r"\]\(([^)#\s]+)\)", text))
    return {
        s.rstrip(",.:")
        for s in spans
        if re.fullmatch(r"[\w./-]+", s)
        and not s.startswith(("http", "-", "..", "/"))
        and ("/" in s or re.search(r"\.(py|md|yaml|yml|sh|txt|toml|ipynb)$", s))
    }


@pytest.mark.parametrize(
    "page",
    ["README.md", "benchmarks/README.md", "docs/environment.md", "docs/parameters.md", "docs/running.md"],
)
def test_every_file_a_page_cites_exists(page):
    text = (REPO_ROOT / page).read_text()
    from aestudy.study import STAGES

    generated = (
        "reports/",
        "data/",
        "out.ipynb",
        ".venv/",
        "MNIST/",
        ".gpu_kit/",
    )  # made by commands, not committed
    missing = [
        p
        for p in sorted(_cited_paths(text))
        if not p.startswith(generated)
        and p.split("/")[0] not in STAGES  # <stage>/<run-id>: a run
        and not (REPO_ROOT / p).exists()
        and not ((REPO_ROOT / page).parent / p).exists()
        and not (REPO_ROOT / "lib" / p).exists()
    ]
    assert not missing, f"{page} cites files that do not exist: {missing}"
