"""What third-party packages cost at import, and what we do about it.

jsonschema (imported by nbformat, so by papermill, nbclient and nbconvert) imports `rfc3987_syntax`
when it is imported, to check the "iri" and "iri-reference" formats, and that module builds 38 Earley
parsers as it loads: 1.3-1.7 s of every process that executes or renders a notebook (the runner, each
pool or Dask worker, each SLURM job, the report), for two formats that no notebook schema uses
(python-jsonschema/jsonschema#1428). `defer_iri_parser` makes that module load on its first use
instead; jsonschema checks those formats exactly as before.
"""

from __future__ import annotations

import importlib.util
import sys
import threading

IRI_MODULE = "rfc3987_syntax"


def defer_iri_parser() -> None:
    """Stand a not-yet-executed `rfc3987_syntax` in sys.modules whose `is_valid_syntax` executes the
    real module on its first call. Nothing to do when jsonschema or that module is already imported,
    or when it is not installed."""
    if IRI_MODULE in sys.modules or "jsonschema" in sys.modules:
        return
    spec = importlib.util.find_spec(IRI_MODULE)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    lock, loaded = threading.Lock(), []

    def is_valid_syntax(term: str, value: str) -> bool:
        with lock:
            if not loaded:
                spec.loader.exec_module(module)  # the real module: its parsers, its is_valid_syntax
                loaded.append(module.is_valid_syntax)
        return loaded[0](term, value)

    module.is_valid_syntax = is_valid_syntax
    sys.modules[IRI_MODULE] = module
