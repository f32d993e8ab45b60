#!/usr/bin/env bash
# Issue 25 on a lent GPU in one call (device tool, carry .gpu_kit), within SECONDS (default 540):
#
#   bash benchmarks/gpu_semisup.sh [SECONDS] [PARAMS]   (PARAMS default params/full.yaml)
#   DRY=1 [PY=.venv/bin/python] bash benchmarks/gpu_semisup.sh 300   here, on the CPU, at a tiny
#         budget: checks the script itself before device time is spent on it
#
# 1. set-up (benchmarks/gpu_env.sh: wheels, MNIST);
# 2. PARAMS' semisup recipe (full.yaml: the levers of benchmarks/README.md, "Issue 25") on the 5
#    label draws 100-104, which no profile evaluates, trained together as one vmapped network, from
#    the d=10, num_conv=2 encoder trained first at PARAMS' fidelity on the 50,000 pool images;
#    10,000 steps, the accuracy every 1,000 on 10,000 held-out *training* images (never the test set);
# 3. the same recipe on the larger Conv-Small network, with the time left.
# Every point of every curve is printed (and appended to semisup_gpu.txt) the moment it is measured,
# and appended to levers.points.jsonl: a call stopped at its limit still returns the curves so far.
# Brings back under $OUT: semisup_gpu.txt (every line printed), levers.points.jsonl (the curves as
# they grew, one line a point) and levers.jsonl (each finished draw's curve and accuracy).
set -uo pipefail
LIMIT=${1:-540}
PARAMS=${2:-params/full.yaml}
DRY=${DRY:-}
START=$(date +%s)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
FINAL=${OUT:-/tmp/gpu_semisup}
mkdir -p "$FINAL"
LOG=$FINAL/semisup_gpu.txt
left() { echo $(( LIMIT - ($(date +%s) - START) )); }
if [ -n "$DRY" ]; then
    PY=${PY:-$ROOT/.venv/bin/python}; ARGS=(--steps 20 --every 10 --val 500 --ae-epochs 1 --unlabelled-batch 32)
    export DATA_DIR=${DATA_DIR:-$ROOT/../shared/data}
else
    export OUT=/tmp/gpu_out
    source "$ROOT/benchmarks/gpu_env.sh" > "$FINAL/setup.log" 2>&1
    ARGS=(--every 1000 --steps 10000)   # half the profile's 20,000: the curve shows the trend within ~10 min
fi
echo "== set-up done after $(( $(date +%s) - START )) s" | tee -a "$LOG"
ENC=/tmp/gpu_semisup_encoder/encoder.pt
COMMON=(--params "$PARAMS" --label-seeds 100 101 102 103 104 --together --out "$FINAL/levers.jsonl"
        --save-encoder "$ENC" "${ARGS[@]}")

echo "== 2. $PARAMS's recipe, the study's network ($(left) s left)" | tee -a "$LOG"
timeout -k 10 $(( $(left) * 6 / 10 )) "$PY" -u benchmarks/semisup_levers.py "${COMMON[@]}" --levers base 2>&1 | tee -a "$LOG"

echo "== 3. the same recipe, the larger Conv-Small network ($(left) s left)" | tee -a "$LOG"
timeout -k 10 $(( $(left) - 15 )) "$PY" -u benchmarks/semisup_levers.py "${COMMON[@]}" --levers conv-small \
    --encoder "$ENC" 2>&1 | tee -a "$LOG"
echo "== done after $(( $(date +%s) - START )) s" | tee -a "$LOG"
