"""The run-to-report contract (aestudy.metrics): a run that misses a declared product or a metrics
key the report reads fails with one line naming the file and the key; extra keys are allowed."""

import json

import pytest

from aestudy import metrics
from aestudy.study import STAGES

AUTOENCODE = {
    "final_test_error": 0.02,
    "final_train_error": 0.019,
    "final_val_error": 0.021,
    "val_change": None,
    "pca_test_error": 0.034,
    "mean_image_test_error": 0.067,
    "n_parameters": 1000,
    "dead_encoder_hidden": 0.0,
    "dead_units": {"encoder.fc.2": 0.0},
    "history": {"epoch": [1], "train_error": [0.019], "test_error": [0.02]},
}


def _run_dir(tmp_path, metrics_dict, files=("model.pt", "reconstructions.png")):
    for f in files:
        (tmp_path / f).write_bytes(b"x")
    (tmp_path / "metrics.json").write_text(json.dumps(metrics_dict))
    return tmp_path


def test_complete_autoencode_run_passes_and_keeps_extra_keys(tmp_path):
    st = STAGES["autoencode"]
    metrics.check_run(_run_dir(tmp_path, {**AUTOENCODE, "new_measure": 1.0}), st.products, st.metrics)


def test_renamed_metrics_key_fails_naming_file_and_key(tmp_path):
    st = STAGES["autoencode"]
    broken = {("final_test_mse" if k == "final_test_error" else k): v for k, v in AUTOENCODE.items()}
    with pytest.raises(metrics.ContractBroken, match=r"run/metrics.json: final_test_error: field required"):
        metrics.check_run(_run_dir(tmp_path, broken), st.products, st.metrics, shown="run")


def test_nested_key_of_wrong_type_is_named_by_its_path(tmp_path):
    st = STAGES["autoencode"]
    broken = {**AUTOENCODE, "history": {**AUTOENCODE["history"], "test_error": ["n/a"]}}
    with pytest.raises(metrics.ContractBroken, match=r"history\.test_error\.0"):
        metrics.check_run(_run_dir(tmp_path, broken), st.products, st.metrics)


def test_missing_declared_product_fails(tmp_path):
    st = STAGES["autoencode"]
    with pytest.raises(metrics.ContractBroken, match=r"model.pt: declared product missing"):
        metrics.check_run(
            _run_dir(tmp_path, AUTOENCODE, files=("reconstructions.png",)), st.products, st.metrics
        )


def test_transfer_records_need_mode_and_accuracy(tmp_path):
    st = STAGES["transfer"]
    bad = {"n_test": 10, "records": [{"mode": "frozen", "acc": 0.5}]}
    with pytest.raises(metrics.ContractBroken, match=r"records\.0\.accuracy: field required"):
        metrics.check_run(_run_dir(tmp_path, bad, files=()), st.products, st.metrics)


def test_every_stage_that_feeds_a_table_declares_its_metrics():
    for name, st in STAGES.items():
        if name != "theory":
            assert st.metrics is not None and "metrics.json" in st.products, name
    assert STAGES["autoencode"].products[0] == "model.pt"


@pytest.mark.parametrize("stage", list(STAGES.values()), ids=lambda s: s.name)
def test_every_stage_notebook_calls_the_run_of_its_experiment(stage):
    """One name per experiment: stage, package, notebook. The notebook imports its experiment's
    `aestudy.experiments.<stage>.main` and calls `main(...)`, which calls the experiment's `run(...)`
    for a stage whose runs write metrics (semisup calls `choose` first, so that no test image is
    read before its recipe is fixed; autoencode calls `together.fit`, which calls `run` for a model
    trained alone). The theory chapter, whose cells are its answers, imports `run` itself."""
    import importlib
    import inspect
    import re

    import nbformat

    module = importlib.import_module(f"aestudy.experiments.{stage.name}.run")
    code = "\n".join(
        c.source for c in nbformat.read(stage.notebook_path(), as_version=4).cells if c.cell_type == "code"
    )
    if re.search(rf"^from aestudy\.experiments\.{stage.name}\.main import main$", code, flags=re.M):
        assert "main(" in code.replace("import main", ""), f"{stage.notebook} never calls main(...)"
        code = inspect.getsource(importlib.import_module(f"aestudy.experiments.{stage.name}.main"))
        pattern = r"^from \. import (?:.*, )?run as (\w+)"
    else:  # a chapter of the report (theory): its cells are its answers, calling `run` in place
        assert stage.in_report, f"{stage.notebook} never imports aestudy.experiments.{stage.name}.main"
        pattern = rf"^from aestudy\.experiments\.{stage.name} import (?:.*, )?run as (\w+)"
    found = re.search(pattern, code, flags=re.M)
    assert found, f"{stage.notebook} never imports aestudy.experiments.{stage.name}.run"
    if stage.metrics is not None:
        assert callable(getattr(module, "run", None)), f"aestudy.experiments.{stage.name}.run has no run()"
        if stage.name == "autoencode" and "together.fit(" in code:  # one model: train.run; a cell: together
            from aestudy.experiments.autoencode import together

            assert "train.run(" in inspect.getsource(together.fit)
        else:
            assert f"{found[1]}.run(" in code, f"{stage.notebook} never calls {found[1]}.run(...)"


RUN_NOTEBOOK_CELL_LINES = (
    8  # a call into lib/ and what it shows: more is logic, which belongs in lib/ under tests
)


@pytest.mark.parametrize("stage", [s for s in STAGES.values() if not s.in_report], ids=lambda s: s.name)
def test_a_run_notebook_stays_thin_its_code_cells_call_into_lib(stage):
    """Narrative, one call of its experiment's `main`, its figures: no code cell but the parameters
    cell longer than a few lines (the theory chapter's cells are its answers, checked in place)."""
    import nbformat

    cells = nbformat.read(stage.notebook_path(), as_version=4).cells
    code = [c for c in cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])]
    long = {
        i: n
        for i, c in enumerate(code)
        if (n := sum(bool(line.strip()) for line in c.source.splitlines())) > RUN_NOTEBOOK_CELL_LINES
    }
    assert not long, f"{stage.notebook}: code cells over {RUN_NOTEBOOK_CELL_LINES} lines: {long}"
