# The obvious targets: `make report` runs the whole study, `make test` the tests.
# Both create .venv (unless a virtual or conda environment is active) and install exactly
# requirements-lock.txt, then the project (`make setup`; `make lock` after editing pyproject.toml).
PARAMS ?= params/default.yaml
# runs side by side; each gets cores / WORKERS torch threads (on 2 cores, 1 each: no thread contention)
WORKERS ?= 2
ARGS ?=
VENV ?= .venv

ifneq ($(VIRTUAL_ENV)$(CONDA_PREFIX),)
PYTHON := python
STAMP := .venv-active.compiled.stamp
else
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-compiled
endif

# Offline machines of this project keep MNIST in ../shared/data; elsewhere torchvision
# downloads it into data/ on first use. An explicit DATA_DIR always wins.
ifeq ($(DATA_DIR),)
ifneq ($(wildcard ../shared/data/MNIST/raw/train-images-idx3-ubyte),)
export DATA_DIR := $(abspath ../shared/data)
endif
endif

.PHONY: setup lock report render smoke test test-fast lint format lab bench clean

# The environment is requirements-lock.txt: every package pinned with its sha256, resolved from
# pyproject.toml for CPython 3.11.5+ (see docs/environment.md). `make setup` installs exactly it,
# with uv when it can (seconds from a warm cache), else with pip.
LOCK := requirements-lock.txt
UV_VERSION := 0.13.9
# uv looks only at PyPI unless told; UV_INDEXES hands it the extra indexes pip is configured with
# (pip.conf, PIP_EXTRA_INDEX_URL), so that both installers see the same files (the lock's hashes decide).
UV_INDEXES = eval "$$(python3 -m pip config list 2>/dev/null | \
	sed -n "s/^[^=]*\.extra-index-url=/export UV_INDEX_STRATEGY=unsafe-best-match UV_INDEX=/p")"
UV = $(PYTHON) -m uv pip install -q --python $(PYTHON)

setup: $(STAMP)

# A new .venv starts without pip (ensurepip alone costs 10-15 s here); uv (pinned, installed into
# it by the system's pip) installs the lock, pip itself and the project. Without uv: pip does.
# Then every installed module is compiled to bytecode (compileall skips what is up to date; a file that
# does not parse, such as a package's test data, is left as it is): where PYTHONDONTWRITEBYTECODE is
# set, as on this project's machines, Python never writes a .pyc itself, so each process (the runner,
# each notebook kernel) would compile torch, pandas, scipy and seaborn from source again: about 6 s
# of every kernel's start. (The stamp's name changed with this step, so an older .venv gets it once.)
SITE_PACKAGES = $$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
$(STAMP): pyproject.toml $(LOCK)
ifeq ($(VIRTUAL_ENV)$(CONDA_PREFIX),)
	test -x $(PYTHON) || python3 -m venv --without-pip $(VENV)
endif
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || python3 -m pip --python $(PYTHON) install -q uv==$(UV_VERSION) \
	  || echo "uv not available: installing with pip (slower)"
	if $(PYTHON) -m uv --version >/dev/null 2>&1; then \
	  $(UV_INDEXES) && $(UV) --require-hashes -r $(LOCK) && $(UV) pip && \
	  $(UV) --no-deps --no-build-isolation -e . ; \
	else \
	  { $(PYTHON) -m pip --version >/dev/null 2>&1 || $(PYTHON) -m ensurepip -q; } && \
	  $(PYTHON) -m pip install -q --require-hashes --no-deps -r $(LOCK) && \
	  $(PYTHON) -m pip install -q --no-deps --no-build-isolation -e . ; \
	fi
	$(PYTHON) -m compileall -q -j 0 "$(SITE_PACKAGES)" >/dev/null 2>&1 || true
	touch $@

lock:                  ## re-resolve requirements-lock.txt from pyproject.toml (UPGRADE=1: newest versions allowed)
	$(PYTHON) -m uv pip compile pyproject.toml --extra test --universal --python-version 3.11.5 \
	  --generate-hashes --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) \
	  $(if $(LOCK_CONSTRAINTS),-c $(LOCK_CONSTRAINTS)) -o $(LOCK)

report: setup          ## the whole study on its defaults, rendered to reports/default/
	$(PYTHON) -m lib run $(PARAMS) --workers $(WORKERS) $(ARGS)

render: setup          ## re-render reports/<profile>/report.{html,pdf} from the runs on disk
	$(PYTHON) -m lib render $(PARAMS)

smoke: setup           ## the whole pipeline at toy size (seconds per run)
	$(PYTHON) -m lib run params/smoke.yaml --workers $(WORKERS) $(ARGS)

# The suite on TEST_WORKERS processes (pytest-xdist): its sweeps wait on kernel start-ups, sleeps
# and SLURM about a third of the time, so 2 processes on 2 cores take about three quarters of the
# time of 1; 3 processes are slower again (10 min 44 s against 9 min 58 s, `time make test`, 2026-12-06).
# Whole files go to one process (`loadfile`): a module's fixtures (the SLURM cluster)
# and the order of its tests stay as they are. TEST_WORKERS=0: one process, as plain pytest.
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --dist loadfile)

test: setup            ## the test suite (TEST_WORKERS processes; ARGS: pytest's options)
	$(PYTHON) -m pytest -q $(XDIST) $(ARGS)

test-fast: setup       ## the fast tier: every test not marked slow (one smoke sweep and its report, shared)
	$(PYTHON) -m pytest -q -m "not slow" $(XDIST) $(ARGS)

lint: setup            ## ruff: the layout the formatter gives and the lint rules (pyproject.toml's [tool.ruff])
	$(PYTHON) -m ruff format --check --quiet lib tests benchmarks notebooks
	$(PYTHON) -m ruff check --quiet lib tests benchmarks notebooks

format: setup          ## ruff: apply the formatter and the safe lint fixes
	$(PYTHON) -m ruff format --quiet lib tests benchmarks notebooks
	$(PYTHON) -m ruff check --quiet --fix lib tests benchmarks notebooks

lab: setup             ## JupyterLab on the notebooks
	$(PYTHON) -m jupyter lab notebooks/

bench: setup           ## the benchmarks (figures printed, never asserted)
	$(PYTHON) benchmarks/train_throughput.py

clean:                 ## remove everything runs produced (never the data)
	rm -rf reports/*/ .pytest_cache
