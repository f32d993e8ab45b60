#!/usr/bin/env bash
# The full profile on a lent GPU within a time limit, bringing back what `compare` and the README
# need (tables, records, metrics, figures; no checkpoints or notebooks):
#   bash benchmarks/gpu_full_profile.sh [SECONDS] [PARAMS] [run args...]    (default 470 s, params/full.yaml)
# Runs past the limit are stopped; the tables are then written from the runs that completed.
set -uo pipefail
LIMIT=${1:-470}; PARAMS=${2:-params/full.yaml}; shift 2 2>/dev/null || shift $#
FINAL=${OUT:-/tmp/gpu_final}
export OUT=/tmp/gpu_out
timeout -k 20 --signal=INT "$LIMIT" bash benchmarks/gpu_run.sh "$PARAMS" --workers 8 "$@"
echo "gpu_run exit status: $?"
export PYTHONPATH=/tmp/site:$PWD/lib JUPYTER_PATH=/tmp/kernel/share/jupyter DATA_DIR=/tmp/data REPORTS_DIR=$OUT/reports
python -m lib run "$PARAMS" --no-retrain --no-render 2>&1 | tail -3   # tables from the completed runs
python -m lib status "$PARAMS" | awk '{print $2}' | sort | uniq -c
mkdir -p "$FINAL"
cp "$OUT"/summary.txt "$OUT"/gpu.txt "$OUT"/gpu_util.csv "$OUT"/run.log "$FINAL"/ 2>/dev/null
tar czf "$FINAL/profile.tgz" --exclude='*.pt' --exclude='*.ipynb' --exclude='kernel.log' -C "$OUT/reports" .
ls -la "$FINAL"
