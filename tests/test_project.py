"""Project hygiene: dependency lists agree, notebooks are committed clean, README commands."""
from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


def _norm(req: str) -> str:
    return re.sub(r"\s+", "", req).lower()


def _pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def test_environment_yml_matches_pyproject():
    project = _pyproject()["project"]
    wanted = {_norm(r) for r in project["dependencies"]}
    wanted |= {_norm(r) for r in project.get("optional-dependencies", {}).get("test", [])}
    assert any(r.startswith("pytest") for r in wanted)

    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip_lists = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "environment.yml should hold one pip: section"
    listed = [_norm(r) for r in pip_lists[0]]
    assert len(listed) == len(set(listed)), "duplicate entries in environment.yml"
    assert set(listed) == wanted, (f"only in environment.yml: {sorted(set(listed) - wanted)}; "
                                   f"only in pyproject.toml: {sorted(wanted - set(listed))}")
    # the conda part pins the same Python as requires-python, and provides pip
    conda = [_norm(d) for d in deps if isinstance(d, str)]
    assert "pip" in conda
    assert f"python{_norm(project['requires-python'])}" in conda


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_committed_clean(nb_path):
    nb = json.loads(nb_path.read_text())
    assert nb.get("nbformat") == 4
    spec = nb["metadata"].get("kernelspec", {})
    assert spec.get("name") == "python3" and spec.get("language") == "python", spec
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{nb_path.name}: {len(tagged)} code cells tagged 'parameters'"
    assert not [c for c in nb["cells"] if c["cell_type"] != "code"
                and "parameters" in c.get("metadata", {}).get("tags", [])]
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{nb_path.name}: cells {dirty} hold outputs or execution counts"
    # papermill injects after the parameters cell: it must assign names only, and out_dir among them
    src = "".join(tagged[0]["source"])
    body = ast.parse(src, nb_path.name).body
    not_assign = [ast.unparse(n).splitlines()[0] for n in body if not isinstance(n, (ast.Assign, ast.AnnAssign))]
    assert not not_assign, f"{nb_path.name}: the parameters cell does more than assign names: {not_assign}"
    names = [t.id for n in body for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
             if isinstance(t, ast.Name)]
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


def test_readme_parameter_example_is_the_real_default_profile():
    readme = (REPO_ROOT / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in readme.split("```yaml\n")[1:]]
    assert (REPO_ROOT / "params" / "default.yaml").read_text() in [b for b in blocks], \
        "README's parameter-file example must be params/default.yaml as committed"


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
                base = pkg.split(".")[:len(pkg.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                deps |= {f"{target}.{a.name}" if f"{target}.{a.name}" in mods else target for a in node.names}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
        graph[name] = {d for d in deps if d in mods and d != name and not name.startswith(d + ".")}
    return graph


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
    for m, deps in graph.items():
        if m.startswith("aestudy.science"):  # what a run computes knows no runner and no report
            assert not [d for d in deps if d.startswith(("aestudy.runner", "aestudy.report."))], m
        if m.startswith("aestudy.runner"):   # the runner never imports the report
            assert not [d for d in deps if d.startswith("aestudy.report.")], m


def test_no_module_is_longer_than_about_400_lines():
    long = {p.relative_to(REPO_ROOT).as_posix(): n for p in (REPO_ROOT / "lib").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 420}
    assert long == {}
