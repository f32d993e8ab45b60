"""aestudy: an MNIST autoencoder study as parameterised notebooks, and the pipeline that runs it.

Three rooms, each knowing only what it must:
- `aestudy.science`: what a run computes (data, models, training, the experiments' measurements,
  theory checks); imported by the run notebooks.
- `aestudy.runner`: reading a parameter file, planning runs from the study declaration
  (`aestudy.study`), cache keys, execution, tables, status.
- `aestudy.report`: reading what runs wrote, statistics, verdicts, figures, HTML and PDF.
"""
