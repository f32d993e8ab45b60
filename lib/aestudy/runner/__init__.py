"""The runner: parameter files, the plan, cache keys, execution, tables and status.
It knows the study only through `aestudy.study` and never imports the report's analyses."""

from ..import_costs import defer_iri_parser

defer_iri_parser()  # before papermill or nbformat is imported: 1.3-1.7 s of every process that runs
