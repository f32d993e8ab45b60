#!/usr/bin/env bash
# Run the study on a lent GPU machine (no internet, Python 3.12 with torch but no Jupyter stack).
#
#   bash benchmarks/gpu_run.sh PARAMS_FILE [extra `python -m lib run` args, e.g. --workers 4]
# Sets up with benchmarks/gpu_env.sh (the kit .gpu_kit/ carried with the device tool).
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

source "$ROOT/benchmarks/gpu_env.sh"

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
