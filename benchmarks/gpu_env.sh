#!/usr/bin/env bash
# Sourced by gpu_run.sh and gpu_check.sh on a lent GPU machine (no internet, Python 3.12 with torch
# but no Jupyter stack): installs the kit's wheels into /tmp/site, registers a kernelspec for this
# interpreter, unpacks MNIST into /tmp/data and checks the imports. Expects ROOT (the project) and
# OUT; exports PY, PYTHONPATH, JUPYTER_PATH, DATA_DIR and the Jupyter folders.
#
# Needs the ignored kit folder .gpu_kit/ beside the project (carry it with the device tool):
#   .gpu_kit/wheels/*.whl           papermill, nbclient, ipykernel, ..., pytest, pluggy, iniconfig (py3.12,
#                                   `pip download --only-binary=:all: --no-deps --python-version 3.12`), always installed
#   .gpu_kit/wheels/fallback/*.whl  small deps the image usually has (requests, click, attrs, ...):
#                                   each installed only when the image lacks it or has one too old
#   .gpu_kit/data/MNIST/raw/*.gz    the four MNIST idx files, gzipped
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
minimum = {"typing_extensions": "4.16.0", "attrs": "22.2.0", "packaging": "24", "pygments": "2.15.0",
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
if ! install_wheels "$KIT"/wheels/*.whl; then
    echo "error: installing $KIT/wheels failed (see above): nothing of the kit is importable" >&2
    exit 2
fi
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
# then $SITE's share/jupyter: nbconvert's templates (its `lab` template for the report)
export JUPYTER_PATH=$KERNEL_PREFIX/share/jupyter:$SITE/share/jupyter
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
try:  # render only (gpu_run.sh passes --no-render)
    import os, nbconvert, mathjax  # noqa: F401
    from nbconvert.exporters.templateexporter import TemplateExporter
    lab = any(os.path.isdir(os.path.join(d, "lab")) for d in TemplateExporter().template_paths)
    print("render: nbconvert", nbconvert.__version__, "lab template", "found" if lab else "NOT found")
except Exception as exc:  # noqa: BLE001
    print("render: unavailable:", exc)
PYEOF

