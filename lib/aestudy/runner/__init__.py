"""The runner: parameter files, the plan, cache keys, execution, tables and status.
It knows the study only through `aestudy.study` and never imports the report's analyses."""
