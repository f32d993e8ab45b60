"""Completion records, cache keys, and why a run is (not) up to date.

A run counts as complete only when `complete.json`, written last, exists and lists every
artifact with a sha256 that still matches the bytes on disk. The record also holds the run's
*inputs* (its notebook's cells, its keyed parameters, the dataset checksum, its upstream runs'
keys) and the project *modules* its kernel imported, each with the digest of its code (`code_digest`:
comments and docstrings left out), recorded while it ran.
Its key hashes both. A run is up to date when its inputs are the same now, no module it
imported has changed and it was made under the torch and numpy versions installed now (the record's
`environment`: `aestudy.environment`); otherwise `state` says which of them changed.
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

from .. import config, environment
from ..files import CorruptArtifact, read_json, sha256_file, sha256_json, write_json
from ..ondisk import COMPLETE, FAILED, KERNEL_LOG, verify_completion  # noqa: F401 (one source: the on-disk format)
from ..study import STAGES


def notebook_hash(path) -> str:
    """Hash of a notebook's cells (type and source), not of outputs or metadata."""
    nb = json.loads(Path(path).read_text())
    return sha256_json(
        [
            (c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
            for c in nb["cells"]
        ]
    )


def inputs(run, upstream_keys: dict, data_checksum: str) -> dict:
    """Everything known before a run executes that can change its outputs."""
    decl = STAGES[run.stage]
    skip = decl.unkeyed()
    return {
        "notebook": notebook_hash(run.notebook),
        "params": {k: v for k, v in run.params.items() if k not in skip},
        "data": data_checksum if decl.reads_data else "",
        "upstream": dict(upstream_keys),
    }


def key(run_inputs: dict, modules: dict) -> str:
    return sha256_json({"inputs": run_inputs, "modules": modules})[:20]


_CODE: dict[Path, tuple[tuple[int, int], str]] = {}  # path -> ((mtime_ns, size), digest): parsed once


def code_digest(path: Path) -> str:
    """The sha256 of what a module does: its syntax tree with the docstrings left out. A comment, a
    docstring or the formatter's layout changes no number, so editing one leaves the runs that
    imported the module up to date; any change to the code itself makes them stale. (A file that
    does not parse is digested as bytes.)"""
    path = Path(path)
    info = path.stat()
    stamp = (info.st_mtime_ns, info.st_size)
    known = _CODE.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    source = path.read_bytes()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        digest = hashlib.sha256(source).hexdigest()
    else:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.body and _is_docstring(node.body[0]):
                    node.body = node.body[1:] or [ast.Pass()]
        digest = hashlib.sha256(ast.dump(tree).encode()).hexdigest()
    _CODE[path] = (stamp, digest)
    return digest


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


_DIGESTS: dict[str, tuple[str, ...]] = {}  # one command reads each module once


def _module_sha(path: str) -> tuple[str, ...]:
    """The digests under which `path` counts as unchanged: its code digest, and its file's sha256
    (what records written before 2026-12-06 hold); none for a module that is gone."""
    if path not in _DIGESTS:
        f = config.PROJECT_ROOT / path
        _DIGESTS[path] = (code_digest(f), sha256_file(f)) if f.is_file() else ()
    return _DIGESTS[path]


def forget_module_digests() -> None:
    """Read the modules afresh (a long-lived process, such as a test session, may see edits)."""
    _DIGESTS.clear()


def package_digests() -> dict[str, str]:
    """The code digest of every module of the package now: taken just before a run executes."""
    return {
        f.relative_to(config.PROJECT_ROOT).as_posix(): code_digest(f)
        for f in sorted(config.PACKAGE_DIR.rglob("*.py"))
    }


def as_before(modules, before: dict) -> dict:
    """The modules a run imported (the paths its kernel lists at the end), each with its digest
    from before the run. A module edited while the run executed keeps its old digest (None for one that
    did not exist), so the next command finds the run stale: the code that ran was not the code
    that is there now."""
    return {p: before.get(p) for p in modules}


def changed_modules(modules: dict) -> list[str]:
    return [p for p, digest in sorted(modules.items()) if digest not in _module_sha(p)]


def write_completion(run_dir, record: dict) -> Path:
    """List every file in `run_dir` with its sha256, then write the record last, with the
    environment it was made in (the lock's digest, Python, torch and numpy versions)."""
    run_dir = Path(run_dir)
    files = {
        p.relative_to(run_dir).as_posix(): sha256_file(p)
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and p.name not in (COMPLETE, FAILED, KERNEL_LOG) and not p.name.endswith(".tmp")
    }
    return write_json(
        run_dir / COMPLETE, {"environment": environment.snapshot(), **record, "artifacts": files}
    )


def state(run_dir, run_inputs: dict | None) -> tuple[str, str, dict | None]:
    """(state, reason, record): complete | stale | incomplete | failed | absent.
    `run_inputs` None means an upstream run is not complete, so the inputs are not known yet."""
    run_dir = Path(run_dir)
    record, why = verify_completion(run_dir)
    if record is None:
        if not run_dir.exists():
            return "absent", "never run", None
        if (run_dir / FAILED).exists():
            try:
                failed = read_json(run_dir / FAILED)
            except CorruptArtifact as exc:
                return "failed", str(exc), None
            stopped = failed.get("kind") == "interrupted"  # the command was stopped, not the run's fault
            return (
                ("failed" if failed.get("status") == "failed" and not stopped else "incomplete"),
                failed.get("error", ""),
                None,
            )
        return "incomplete", why, None
    if run_inputs is None:
        return "stale", "an upstream run is not complete", record
    reasons = input_changes(record.get("inputs") or {}, run_inputs)
    reasons += [f"module {p} changed" for p in changed_modules(record.get("modules") or {})]
    reasons += environment.changed(record.get("environment"))
    if reasons:
        return "stale", "; ".join(reasons), record
    return "complete", "", record


def input_changes(old: dict, new: dict) -> list[str]:
    """What differs between a record's inputs and today's, in words."""
    out = []
    if old.get("notebook") != new["notebook"]:
        out.append("notebook changed")
    op, np_ = old.get("params") or {}, new["params"]
    for k in sorted(set(op) | set(np_)):
        if op.get(k, "(unset)") != np_.get(k, "(unset)"):
            out.append(f"parameter {k}: {op.get(k, '(unset)')!r} -> {np_.get(k, '(unset)')!r}")
    if old.get("data") != new["data"]:
        out.append("dataset changed")
    ou, nu = old.get("upstream") or {}, new["upstream"]
    for name in sorted(set(ou) | set(nu)):
        if name not in nu:
            out.append(f"upstream {name} no longer used")
        elif name not in ou:
            out.append(f"upstream {name} newly used")
        elif ou[name] != nu[name]:
            out.append(f"upstream {name} changed")
    return out
