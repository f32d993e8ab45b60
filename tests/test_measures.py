"""The shared data seed that makes replicates exchangeable: every data-reading stage's notebook draws
its images by `data_seed`. (The experiments' own measures are tested in tests/experiments/.)"""

from __future__ import annotations

import ast
import json

import pytest

from aestudy import config
from aestudy.study import STAGES

# ------------------------------------------------------------------ exchangeable replicates


def _sources(stage: str):
    """The code a stage's notebook runs: its cells after the parameter cell, and its experiment's
    `main` module where the notebook calls `main` (tests/test_contract.py)."""
    import importlib
    import inspect

    nb = json.loads((config.NOTEBOOKS / f"{stage}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or "parameters" in cell["metadata"].get("tags", []):
            continue
        source = "".join(cell["source"])
        yield source
        if f"from aestudy.experiments.{stage}.main import main" in source:
            yield inspect.getsource(importlib.import_module(f"aestudy.experiments.{stage}.main"))


def _load_split_calls(stage: str):
    for source in _sources(stage):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in (
                "load_split",
                "split_of",
                "sample_images",
            ):
                yield node


def _names_read(node) -> set[str]:
    """The names an expression reads: variables, and the keys of `params["..."]` (a `main`'s)."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return {node.slice.value}
    if isinstance(node, ast.Name):
        return {node.id}
    return set().union(*(_names_read(child) for child in ast.iter_child_nodes(node)))


@pytest.mark.parametrize("stage", [s for s, st in STAGES.items() if st.reads_data])
def test_every_stage_draws_its_images_with_the_shared_data_seed(stage):
    """A model's seed never chooses images: every subset of a split is drawn by `data_seed`, the
    same for every model seed and every stage (correlate then picks its images among them)."""
    calls = list(_load_split_calls(stage))
    assert calls, f"{stage} loads no split"
    for call in calls:
        seed = [k.value for k in call.keywords if k.arg == "seed"] or call.args[2:3]
        names = _names_read(seed[0]) if seed else set()
        if call.func.attr == "split_of":  # the run's `data` section, drawn by its data_seed (test_data)
            assert not call.keywords or [k.arg for k in call.keywords] == ["train"], (
                f"{stage}: {ast.unparse(call)}"
            )
        elif call.func.attr == "sample_images":  # picks among the shared images, never by the model's seed
            assert names in ({"data_seed"}, {"image_seed"}), f"{stage}: {ast.unparse(call)}"
        else:
            assert names == {"data_seed"}, f"{stage}: {ast.unparse(call)}"
