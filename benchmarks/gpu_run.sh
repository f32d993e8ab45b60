#!/usr/bin/env bash
# Run the study on a lent GPU machine (no internet, Python 3.12 with torch but no Jupyter stack).
#
#   bash benchmarks/gpu_run.sh PARAMS_FILE [extra `python -m lib run` args, e.g. --workers 4]
#
# Needs the ignored kit folder .gpu_kit/ beside the project (carry it with the device tool):
#   .gpu_kit/wheels/*.whl           papermill, nbclient, ipykernel, ... (py3.12, --no-deps), always installed
#   .gpu_kit/wheels/fallback/*.whl  small deps the image usually has (requests, click, attrs, ...):
#                                   each installed only when the image lacks it or has one too old
#   .gpu_kit/data/MNIST/raw/*.gz    the four MNIST idx files, gzipped
# Writes under $OUT (default /tmp/gpu_out): run.log (stderr of the run, with /usr/bin/time -v),
# gpu_util.csv (nvidia-smi every 2 s), reports/ (REPORTS_DIR), summary.txt.
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: bash benchmarks/gpu_run.sh PARAMS_FILE [extra run args]" >&2
    exit 2
fi
PARAMS=$1
shift
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -e "$PARAMS" ]; then PARAMS=$(cd "$(dirname "$PARAMS")" && pwd)/$(basename "$PARAMS"); fi
cd "$ROOT"

KIT=$ROOT/.gpu_kit
SITE=/tmp/site
KERNEL_PREFIX=/tmp/kernel
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"

if [ ! -d "$KIT/wheels" ] || [ ! -d "$KIT/data/MNIST/raw" ]; then
    echo "error: $KIT/wheels or $KIT/data/MNIST/raw is missing (carry .gpu_kit with the run)" >&2
    exit 2
fi

PY=$(command -v python || command -v python3 || true)
if [ -z "$PY" ]; then echo "error: neither python nor python3 is on PATH" >&2; exit 2; fi
echo "== python: $PY ($("$PY" -V 2>&1))"

# Wheel install: pip --target when pip is there, else unpack the wheels the way pip --target lays them out.
install_wheels() {
    if "$PY" -m pip --version >/dev/null 2>&1; then
        PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install -q --no-index --no-deps --no-compile --disable-pip-version-check \
            --target "$SITE" "$@"
    else
        echo "   (no pip: unpacking the wheels directly)"
        "$PY" - "$SITE" "$@" <<'PYEOF'
import os, shutil, sys, zipfile
site, wheels = sys.argv[1], sys.argv[2:]
for whl in wheels:
    with zipfile.ZipFile(whl) as z:
        for name in z.namelist():
            parts = name.split("/")
            dest = name
            if parts[0].endswith(".data") and len(parts) > 2:
                kind, rest = parts[1], "/".join(parts[2:])
                dest = rest if kind in ("purelib", "platlib", "data") else os.path.join("bin", rest) if kind == "scripts" else None
                if dest is None:
                    continue
            if name.endswith("/"):
                continue
            target = os.path.join(site, dest)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(name) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            mode = (z.getinfo(name).external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode)
PYEOF
    fi
}

echo "== installing wheels into $SITE"
rm -rf "$SITE" "$KERNEL_PREFIX"
mkdir -p "$SITE"
# Fallback wheels: only those the image lacks, or has older than the kit's wheels require
# (checked against the image itself, before PYTHONPATH changes).
FALLBACK=()
if compgen -G "$KIT/wheels/fallback/*.whl" >/dev/null; then
    mapfile -t FALLBACK < <("$PY" - "$KIT"/wheels/fallback/*.whl <<'PYEOF'
import importlib.metadata as md, importlib.util, os, re, sys
modules = {"python_dateutil": "dateutil"}
# lowest versions the main wheels require (Requires-Dist of pydantic, jupyter_client, ipython, ...)
minimum = {"typing_extensions": "4.16.0", "attrs": "22.2.0", "packaging": "22", "pygments": "2.14.0",
           "psutil": "7", "python_dateutil": "2.8.2", "urllib3": "1.26", "charset_normalizer": "2",
           "idna": "2.5", "certifi": "2023.5.7"}
maximum = {"urllib3": "3", "charset_normalizer": "4", "idna": "4"}
def key(v):
    return tuple(int(x) for x in re.findall(r"\d+", v)[:4])
for whl in sys.argv[1:]:
    dist = os.path.basename(whl).split("-")[0].lower()
    if importlib.util.find_spec(modules.get(dist, dist)) is None:
        print(whl)
        continue
    try:
        have = md.version(dist)
    except md.PackageNotFoundError:
        continue
    if (dist in minimum and key(have) < key(minimum[dist])) or (dist in maximum and key(have) >= key(maximum[dist])):
        print(whl)
PYEOF
    )
fi
install_wheels "$KIT"/wheels/*.whl
if [ ${#FALLBACK[@]} -gt 0 ]; then
    echo "   image lacks (or has too old): $(for w in "${FALLBACK[@]}"; do basename "$w" | cut -d- -f1; done | tr '\n' ' ')"
    install_wheels "${FALLBACK[@]}"
fi
export PYTHONPATH=$SITE:$ROOT/lib${PYTHONPATH:+:$PYTHONPATH}

# Kernelspec: ipykernel installed with --target registers none that points at this interpreter.
mkdir -p "$KERNEL_PREFIX/share/jupyter/kernels/python3"
"$PY" - "$KERNEL_PREFIX/share/jupyter/kernels/python3/kernel.json" <<'PYEOF'
import json, sys
json.dump({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
           "display_name": "Python 3 (ipykernel)", "language": "python",
           "metadata": {"debugger": False}}, open(sys.argv[1], "w"), indent=1)
PYEOF
export JUPYTER_PATH=$KERNEL_PREFIX/share/jupyter
export JUPYTER_PLATFORM_DIRS=1
export JUPYTER_RUNTIME_DIR=/tmp/jupyter_runtime
export IPYTHONDIR=/tmp/ipython
export MPLCONFIGDIR=/tmp/mplconfig
export PYDEVD_DISABLE_FILE_VALIDATION=1
mkdir -p "$JUPYTER_RUNTIME_DIR" "$IPYTHONDIR" "$MPLCONFIGDIR"

# Data: unpack the gzipped MNIST idx files where torchvision looks for them.
echo "== unpacking MNIST into /tmp/data/MNIST/raw"
mkdir -p /tmp/data/MNIST/raw
for gz in "$KIT"/data/MNIST/raw/*.gz; do
    gzip -dc "$gz" > "/tmp/data/MNIST/raw/$(basename "$gz" .gz)"
done
export DATA_DIR=/tmp/data

echo "== preflight"
"$PY" - <<'PYEOF'
import importlib.metadata as md
import papermill, nbclient, nbformat, jupyter_client, ipykernel, IPython, zmq, pydantic, filelock, tenacity  # noqa: F401
from jupyter_client.kernelspec import KernelSpecManager
import torch
spec = KernelSpecManager().get_kernel_spec("python3")
print("kernelspec python3:", spec.resource_dir, spec.argv[0])
print(" ".join(f"{d}={md.version(d)}" for d in ("papermill", "nbclient", "jupyter_client", "ipykernel", "ipython", "pyzmq", "pydantic")))
print(f"torch={torch.__version__} cuda={torch.version.cuda} available={torch.cuda.is_available()}")
PYEOF

SAMPLER=
cleanup() { if [ -n "$SAMPLER" ]; then kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; fi; }
trap cleanup EXIT
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"
    nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader -l 2 > "$OUT/gpu_util.csv" &
    SAMPLER=$!
else
    echo "warning: nvidia-smi not found: no GPU utilisation samples" >&2
fi

TIME=()
if [ -x /usr/bin/time ]; then TIME=(/usr/bin/time -v); fi
echo "== python -m lib run $PARAMS --no-render $*"
START=$(date +%s.%N)
set +e
{
    REPORTS_DIR="$OUT/reports" ${TIME[@]+"${TIME[@]}"} "$PY" -m lib run "$PARAMS" --no-render "$@" 2>&1 1>&3 3>&- \
        | tee "$OUT/run.log" >&2 3>&-
    RC=${PIPESTATUS[0]}
} 3>&1
set -e
END=$(date +%s.%N)
cleanup
SAMPLER=

{
    echo "== summary"
    echo "params: $PARAMS $*"
    echo "exit status: $RC"
    awk -v s="$START" -v e="$END" 'BEGIN { printf "wall time: %.1f s\n", e - s }'
    if [ -s "$OUT/run.log" ]; then
        grep -E "Elapsed \(wall clock\)|Maximum resident set size|Percent of CPU" "$OUT/run.log" | sed 's/^[[:space:]]*/time -v: /' || true
    fi
    if [ -s "$OUT/gpu_util.csv" ]; then
        awk -F', *' '{ u = $1 + 0; m = $2 + 0; n++; su += u; if (u > 0) busy++; if (m > mm) mm = m }
            END { if (n) printf "GPU utilisation: mean %.1f %% over %d samples (every 2 s), non-zero in %d; peak memory used %d MiB\n", su / n, n, busy, mm }' \
            "$OUT/gpu_util.csv"
    fi
} | tee "$OUT/summary.txt"
exit "$RC"
