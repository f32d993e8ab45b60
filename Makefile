# The obvious targets: `make report` runs the whole study, `make test` the tests.
# Both create .venv (unless a virtual or conda environment is active) and install the project.
PARAMS ?= params/default.yaml
# runs side by side; each gets cores / WORKERS torch threads (on 2 cores, 1 each: no thread contention)
WORKERS ?= 2
ARGS ?=
VENV ?= .venv

ifneq ($(VIRTUAL_ENV)$(CONDA_PREFIX),)
PYTHON := python
STAMP := .venv-active.stamp
else
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
endif

# Offline machines of this project keep MNIST in ../shared/data; elsewhere torchvision
# downloads it into data/ on first use. An explicit DATA_DIR always wins.
ifeq ($(DATA_DIR),)
ifneq ($(wildcard ../shared/data/MNIST/raw/train-images-idx3-ubyte),)
export DATA_DIR := $(abspath ../shared/data)
endif
endif

.PHONY: setup report render smoke test test-fast lab bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
ifeq ($(VIRTUAL_ENV)$(CONDA_PREFIX),)
	test -x $(PYTHON) || python3 -m venv $(VENV)
endif
	$(PYTHON) -m pip install --upgrade pip >/dev/null
	$(PYTHON) -m pip install -e ".[test]"
	touch $@

report: setup          ## the whole study on its defaults, rendered to reports/default/
	$(PYTHON) -m lib run $(PARAMS) --workers $(WORKERS) $(ARGS)

render: setup          ## re-render reports/<profile>/report.{html,pdf} from the runs on disk
	$(PYTHON) -m lib render $(PARAMS)

smoke: setup           ## the whole pipeline at toy size (seconds per run)
	$(PYTHON) -m lib run params/smoke.yaml --workers $(WORKERS) $(ARGS)

test: setup            ## the test suite
	$(PYTHON) -m pytest -q $(ARGS)

test-fast: setup       ## the fast tier: every test not marked slow (no notebook, no sweep)
	$(PYTHON) -m pytest -q -m "not slow" $(ARGS)

lab: setup             ## JupyterLab on the notebooks
	$(PYTHON) -m jupyter lab notebooks/

bench: setup           ## the benchmarks (figures printed, never asserted)
	$(PYTHON) benchmarks/train_throughput.py

clean:                 ## remove everything runs produced (never the data)
	rm -rf reports/*/ .pytest_cache
