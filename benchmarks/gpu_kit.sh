#!/usr/bin/env bash
# Builds the kit a lent GPU machine needs (no internet there): the ignored folder .gpu_kit/ that
# benchmarks/gpu_env.sh installs from, carried with the device tool (`carry: [".gpu_kit"]`).
#
#   bash benchmarks/gpu_kit.sh [KIT]          (default .gpu_kit; needs the network for the wheels)
#   DRY=1 bash benchmarks/gpu_kit.sh [KIT]    prints every step and checks what it can offline:
#         each package pinned in requirements-lock.txt, MNIST's four idx files under $DATA_DIR;
#         downloads nothing, writes nothing
#
#   KIT/wheels/*.whl           what the GPU image lacks (../shared/notes/gpu.md): the Jupyter stack
#                              papermill runs on, pydantic, dask, pytest, nbconvert and MathJax (to
#                              render there too), ...; always installed --no-deps
#   KIT/wheels/fallback/*.whl  small dependencies the image usually has, installed only where it
#                              lacks them or has one too old (gpu_env.sh decides)
#   KIT/data/MNIST/raw/*.gz    the four MNIST idx files from $DATA_DIR, gzipped (53 MB raw, 11 MB gzipped)
# Each wheel is the version pinned in requirements-lock.txt, for the device's Python (PYVER, 3.12):
# `pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux...`.
# torch, numpy and the rest of the scientific stack are the image's own (torch 2.11 there, 2.14 in the lock).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KIT=${1:-$ROOT/.gpu_kit}
PYVER=${PYVER:-3.12}
PY=${PY:-$ROOT/.venv/bin/python}
DRY=${DRY:-}
LOCK=$ROOT/requirements-lock.txt
DATA=${DATA_DIR:-$ROOT/data}

MAIN=(papermill nbclient nbformat jupyter-client jupyter-core ipykernel ipython ipython-pygments-lexers
      jedi parso prompt-toolkit wcwidth stack-data executing asttokens pure-eval pexpect ptyprocess comm
      debugpy matplotlib-inline nest-asyncio2 traitlets pyzmq tornado platformdirs pydantic pydantic-core
      annotated-types typing-inspection fastjsonschema jsonschema jsonschema-specifications referencing
      rpds-py tenacity entrypoints dask distributed cloudpickle partd locket toolz zict tblib msgpack
      sortedcontainers dask-jobqueue filelock pytest pluggy iniconfig
      nbconvert mistune bleach tinycss2 webencodings defusedxml pandocfilters jupyterlab-pygments
      beautifulsoup4 soupsieve django-static-mathjax)
# render (`python -m lib render`, or `run` without --no-render): nbconvert and its dependencies, and
# MathJax (django-static-mathjax, 10 MB) that the report inlines; in MAIN, not a second pip call, so
# that nbconvert's share/jupyter/nbconvert/templates is laid out beside ipykernel's share/jupyter
case "$PYVER" in  # dask imports importlib_metadata below Python 3.12 (the lock pins it with that marker)
    3.9|3.9.*|3.10|3.10.*|3.11|3.11.*) MAIN+=(importlib-metadata zipp lazy-importer) ;;
esac
FALLBACK=(requests click attrs packaging pygments psutil python-dateutil urllib3 charset-normalizer idna
          certifi typing-extensions six)
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
           --platform any)

run() {  # prints the step; runs it unless DRY
    echo "+ $*"
    [ -n "$DRY" ] || "$@"
}
pinned() {  # name==version from the lock, or nothing
    grep -iE "^$1==" "$LOCK" | head -n 1 | sed 's/ .*//'
}

missing=0
download() {  # $1 folder, rest: package names
    local dest=$1; shift
    local specs=()
    for name in "$@"; do
        local spec
        spec=$(pinned "$name")
        if [ -z "$spec" ]; then echo "error: $name is not pinned in requirements-lock.txt" >&2; missing=1; continue; fi
        specs+=("$spec")
    done
    run mkdir -p "$dest"
    run "$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version "$PYVER" \
        --implementation cp "${PLATFORMS[@]}" --dest "$dest" "${specs[@]}"
}

echo "== kit for Python $PYVER into $KIT${DRY:+ (DRY: nothing is downloaded or written)}"
download "$KIT/wheels" "${MAIN[@]}"
download "$KIT/wheels/fallback" "${FALLBACK[@]}"

echo "== MNIST from $DATA/MNIST/raw, gzipped"
run mkdir -p "$KIT/data/MNIST/raw"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    if [ ! -f "$DATA/MNIST/raw/$f" ]; then echo "error: $DATA/MNIST/raw/$f is missing (set DATA_DIR)" >&2; missing=1; continue; fi
    echo "+ gzip -9c $DATA/MNIST/raw/$f > $KIT/data/MNIST/raw/$f.gz"
    [ -n "$DRY" ] || gzip -9c "$DATA/MNIST/raw/$f" > "$KIT/data/MNIST/raw/$f.gz"
done
if [ "$missing" -ne 0 ]; then echo "== kit incomplete (see the errors above)" >&2; exit 1; fi
if [ -z "$DRY" ]; then
    echo "== kit: $(ls "$KIT"/wheels/*.whl | wc -l) wheels, $(ls "$KIT"/wheels/fallback/*.whl | wc -l) fallback, $(du -sh "$KIT" | cut -f1)"
else
    echo "== DRY: ${#MAIN[@]} + ${#FALLBACK[@]} pinned packages and MNIST found; run without DRY (with the network) to build it"
fi
