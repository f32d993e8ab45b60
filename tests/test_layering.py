"""What each room may know: the on-disk format's paths are spelled in `aestudy.ondisk` alone."""
from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = REPO_ROOT / "lib" / "aestudy"
FILES = {"runs.json", "params.yaml", "metrics.json", "complete.json", "failed.json"}  # under a profile or a run
FOLDERS = {"runs", "tables"}                                                         # under a profile


def _docstrings(tree) -> set[int]:
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]
    return {id(n.body[0].value) for n in nodes if n.body and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)}


def _spelled(tree) -> list[tuple[int, str]]:
    """(line, literal) of every string that names a file or folder of the on-disk format: a record's
    name anywhere, `runs`/`tables` as a path part (`pdir / "runs"`, "tables/.*.tmp")."""
    docs, found = _docstrings(tree), []
    parts = {id(side) for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)
             for side in (n.left, n.right)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or id(node) in docs:
            continue
        text = node.value
        if any(ch.isspace() for ch in text):  # a message or help text that names a file
            continue
        if text in FILES or (text in FOLDERS and id(node) in parts) or \
                any(text.startswith(f"{f}/") or f"/{f}/" in text for f in FOLDERS):
            found.append((node.lineno, text))
    return found


def test_paths_of_the_on_disk_format_are_spelled_in_ondisk_alone():
    spelled = {f"{p.relative_to(PACKAGE)}:{line}": text for p in sorted(PACKAGE.rglob("*.py")) if p.name != "ondisk.py"
               for line, text in _spelled(ast.parse(p.read_text(), str(p)))}
    assert spelled == {}, "use aestudy.ondisk's names (RUNS_JSON, runs_dir(), tables_dir(), ...)"


def test_the_check_finds_what_it_looks_for():
    tree = ast.parse('"""runs.json"""\nx = pdir / "runs"\ny = Path(d) / "metrics.json"\nz = pdir.glob("tables/*.csv")\n'
                     'w = {"runs": []}\nmsg = "no tables/ in x"\n')
    assert _spelled(tree) == [(2, "runs"), (3, "metrics.json"), (4, "tables/*.csv")]

