"""aestudy: an MNIST autoencoder study as parameterised notebooks, and the pipeline that runs it.

Four rooms, each knowing only what it must:
- `aestudy.experiments.<name>`: one package per experiment, named by its stage: its parameters,
  its metrics, its stage declaration, its run (what the notebook calls) and its report section.
- `aestudy.science`: what runs share (data, models, training steps, fitting, artifacts, figures);
  imported by the run notebooks and the experiments' runs.
- `aestudy.runner`: reading a parameter file, planning runs from the study declaration
  (`aestudy.study`), cache keys, execution, tables, status.
- `aestudy.report`: reading what runs wrote, statistics, verdicts, figures, HTML and PDF; with the
  experiments' report sections, never the science side (no torch).
"""
