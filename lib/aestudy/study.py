"""The study declaration: which stages exist, what each produces, and how runs are named.

The runner knows the study only through `STAGES`: it plans, keys, executes and tabulates any
list of `Stage`s, and names no model parameter. Each experiment package declares its own `STAGE`
(`aestudy.experiments.<name>/__init__.py`); `STAGES` is every one found there, in their order. A stage is one notebook, executed once per
grid point (and, with `for_each` in the parameter file, once per selected upstream run).

How a downstream run selects upstream runs is said by the parameter file: `uses: {STAGE:
{param: value(s)}}` selects upstream runs by their parameters; a run receives the selected runs'
products (`Stage.produces`) as a list in its parameter `Stage.receives` (one parameter for
every upstream stage, or a parameter per upstream stage: `{"autoencode": "checkpoints", ...}`);
`for_each: STAGE` makes
one run per selected upstream run instead of one run that takes them all.
"""

from __future__ import annotations

import importlib
import pkgutil

from . import experiments, schema
from .schema import ParamsError
from .stage import OUT_DIR, Stage  # noqa: F401 (OUT_DIR: the runner reads it from the declaration)


def discover(package: str = experiments.__name__, path=experiments.__path__) -> tuple[Stage, ...]:
    """The `STAGE` of every experiment package in `path` (`aestudy.experiments`), in the order each
    declares (`Stage.order`, then its name). The package is named by its stage: one name for the
    stage, the package, the notebook and the run ids."""
    found = []
    for m in pkgutil.iter_modules(path):
        st = getattr(importlib.import_module(f"{package}.{m.name}"), "STAGE", None) if m.ispkg else None
        if st is None:
            continue
        if st.name != m.name:
            raise ValueError(
                f"{package}.{m.name}: its STAGE is named {st.name!r}; a stage is named by its package"
            )
        found.append(st)
    return tuple(sorted(found, key=lambda st: (st.order, st.name)))


STAGES: dict[str, Stage]  # every stage, discovered at first use (`__getattr__`)


def __getattr__(name: str):
    """`STAGES`, discovered when first asked for: a run's kernel checks its parameters here
    (`check_parameters`) and so imports its own experiment's package alone. Had it discovered every
    experiment, each run's cache key would hold every experiment's parameter and metrics modules,
    and editing one experiment would make the runs of every other stale."""
    if name == "STAGES":
        stages = {s.name: s for s in discover()}
        globals()["STAGES"] = stages
        return stages
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def stage_named(name: str) -> Stage:
    """The stage `name`, importing only its experiment's package (`STAGES` where already
    discovered, or where `name` is no experiment package of its own: discovery says why)."""
    if "STAGES" in globals():
        return globals()["STAGES"][name]
    if name in {m.name for m in pkgutil.iter_modules(experiments.__path__) if m.ispkg}:
        st = getattr(importlib.import_module(f"{experiments.__name__}.{name}"), "STAGE", None)
        if st is not None and st.name == name:
            return st
    return __getattr__("STAGES")[name]


def check_parameters(stage: str, namespace: dict) -> dict:
    """Called by a run notebook right after its parameter cell (and papermill's injected cell):
    stops the notebook with the runner's one-line message on an unknown name or an invalid value,
    before any work. Returns the validated values. Imports only `stage`'s experiment package
    (`stage_named`), so that its run's cache key holds no other experiment's code."""
    st = stage_named(stage)
    fields = st.notebook_fields()
    where = f"{st.notebook}: parameters"
    for key in injected_names(namespace):
        if key not in fields:
            raise schema.unknown_key(where, key, tuple(fields))
    given = {k: namespace[k] for k in fields if k in namespace}
    values = schema.validate(
        st.params, {k: v for k, v in given.items() if k in st.params.model_fields}, where
    )
    if st.reads_data:
        data = schema.validate(
            schema.DataParams,
            {k: v for k, v in given.items() if k in schema.DataParams.model_fields},
            where,
        )
        schema.check_data(st.params(**values), data, where)
        values.update(data)
    for name in st.receivers:
        received = given.get(name, [])
        if not (isinstance(received, (list, tuple)) and all(isinstance(p, str) for p in received)):
            raise ParamsError(f"{where}.{name}: must be a list of file paths (got {received!r})")
    return values


PAPERMILL_HEADER = "# Parameters"  # the first line of the cell papermill injects


def injected_names(namespace: dict) -> list[str]:
    """Names assigned by papermill's injected cell(s), read from the kernel's input history."""
    import ast

    names = []
    for source in namespace.get("In", []) or []:
        if source.splitlines()[:1] == [PAPERMILL_HEADER]:
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            names += [
                t.id
                for node in tree.body
                if isinstance(node, ast.Assign)
                for t in node.targets
                if isinstance(t, ast.Name)
            ]
    return list(dict.fromkeys(names))
