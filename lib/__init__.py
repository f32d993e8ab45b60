"""The study's library: data, models, training, analysis, and the papermill pipeline.

Notebooks import the pieces they need (`from lib import data, models, train`); the
pipeline runs as `python -m lib run PARAMS_FILE` / `python -m lib render PARAMS_FILE`.
"""
