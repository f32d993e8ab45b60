#!/usr/bin/env bash
# Every GPU figure of the speed issue in one call on a lent machine (device tool, carry .gpu_kit):
#
#   bash benchmarks/gpu_check.sh [SECONDS] [PARAMS]   (default 450 s, the whole script within it; params/full.yaml)
#   DRY=1 [PY=.venv/bin/python] bash benchmarks/gpu_check.sh 300 params/smoke.yaml   here, on the CPU:
#         checks the script itself before device time is spent on it (no set-up, steps on the CPU,
#         nvidia-smi stubbed)
#
# 1. set-up (benchmarks/gpu_env.sh: wheels, kernelspec, MNIST);
# 2. benchmarks/gpu_steps.py: the K = 5 seeds of one cell trained together against one after
#    another (eager and graphed); the autoencoder step eager against replayed from a CUDA graph, the
#    test error each way; the classifier stages' step (protocol folds, transfer draws, semi-supervised
#    draws with the strong augmentation) one by one / vmapped, each eager / graphed, ms per step; a
#    protocol cross-validation and the semi-supervised recipe one classifier at a time against
#    vmapped; then the CUDA-only tests of tests/test_steps.py, test_batched.py, test_graphed.py and
#    tests/experiments/autoencode/test_together.py;
# 3. the 12-model sweep alone (full.yaml's autoencode stage, seed 0), timed;
# 4. params/full.yaml from nothing, in its own reports folder, with --seeds-together (each cell's
#    5 seeds one job: 12 jobs for its 60 autoencoders) on 4 workers (the card fed by at most 4
#    processes, each step 5 models wide), timed, stopped when the time left runs out (then the
#    status counts say how far it got).
# While 3 and 4 run, nvidia-smi is sampled every 2 s: utilisation, and the device memory of each
# process (how many kernels share the card and the most any one held).
# Every figure is printed and appended to check.txt the moment it exists (each table line of
# gpu_steps.py as it is measured; during 3 and 4 the runs done so far and the utilisation so far
# every TICK seconds, 20), so a call stopped at its limit still returns what it measured.
# Each sweep that finishes prints how far its ETA was from the time really left (at 25, 50 and 75 %
# of its wall time: benchmarks/eta_accuracy.py), its samples in $OUT/<sweep>.eta: the ETA's cost
# prior was measured on this CPU, not on a GPU.
# Brings back under $OUT: check.txt (every figure), the samples, and profile.tgz (the full
# profile's tables, records and metrics for `python -m lib compare`; no checkpoints, no notebooks).
set -uo pipefail
LIMIT=${1:-450}
PARAMS=${2:-params/full.yaml}
DRY=${DRY:-}
START=$(date +%s)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
FINAL=${OUT:-/tmp/gpu_final}
export OUT=/tmp/gpu_out
# "from nothing" means it: an earlier call's profiles (a warm machine, a second DRY run) would be
# stale or cached here, and the samplers append, so both start empty
rm -rf "$OUT"
rm -f "$FINAL"/check.txt "$FINAL"/*.util "$FINAL"/*.procs "$FINAL"/*.log "$FINAL"/profile.tgz
mkdir -p "$FINAL" "$OUT"
LOG=$FINAL/check.txt
left() { echo $(( LIMIT - ($(date +%s) - START) )); }
say() { echo "$*" | tee -a "$LOG"; }

if [ -n "$DRY" ]; then
    PY=${PY:-$ROOT/.venv/bin/python}; STEPS_ARGS=(--device cpu --train 640 --steps 5 --seeds 2)
    export DATA_DIR=${DATA_DIR:-$ROOT/../shared/data}
    nvidia-smi() { case "$*" in *compute-apps*) echo "$$, 0";; *) echo "0, 0";; esac; }
    export -f nvidia-smi
else
    source "$ROOT/benchmarks/gpu_env.sh" > "$FINAL/setup.log" 2>&1
    tail -n 4 "$FINAL/setup.log"
    STEPS_ARGS=(--train 10000 --steps 300 --seeds 5)
fi
say "== set-up done after $(( $(date +%s) - START )) s; $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null)"

sample() {  # utilisation and per-process device memory every 2 s, into $1.util and $1.procs
    while :; do
        t=$(date +%s)
        nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits | sed "s/^/$t, /" >> "$1.util"
        nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits | sed "s/^/$t, /" >> "$1.procs"
        sleep 2
    done
}
summarise() {  # $1: the sample prefix
    awk -F', *' '{ n++; su += $2 } END { if (n) printf "GPU utilisation: mean %.0f %% over %d samples\n", su / n, n }' "$1.util" 2>/dev/null
    awk -F', *' '{ c[$1]++; if ($3 > m[$2]) m[$2] = $3 }
        END { for (t in c) if (c[t] > most) most = c[t]; for (p in m) { if (m[p] > top) top = m[p]; k++ }
              printf "processes on the card: at most %d at once, %d in all; the most device memory one held: %d MiB\n", most, k, top }' \
        "$1.procs" 2>/dev/null
}
counts() {  # $1 name, $2 params: how many runs are in each state
    REPORTS_DIR=$OUT/$1 "$PY" -m lib status "$2" 2>/dev/null | awk '{print $2}' | sort | uniq -c | tr '\n' ' '
}
ticker() {  # $1 name, $2 params: the runs done so far and the utilisation so far, every TICK seconds
    local t0=$(date +%s)
    while sleep "${TICK:-20}"; do
        say "   $1 at $(( $(date +%s) - t0 )) s: $(counts "$1" "$2")$(awk -F', *' '{ n++; s += $2 }
            END { if (n) printf "; GPU utilisation so far %.0f %%", s / n }' "$FINAL/$1.util" 2>/dev/null)"
    done
}
timed_run() {  # $1 name, $2 params, $3 seconds allowed, rest: run args
    local name=$1 params=$2 secs=$3; shift 3
    if [ "$secs" -lt 20 ]; then say "$name: skipped, $secs s left"; return; fi
    sample "$FINAL/$name" & local sampler=$!
    ticker "$name" "$params" & local ticking=$!
    local t0=$(date +%s.%N)
    rm -f "$FINAL/$name.eta"
    AESTUDY_ETA_LOG=$FINAL/$name.eta REPORTS_DIR=$OUT/$name timeout -k 20 --signal=INT "$secs" \
        "$PY" -m lib run "$params" --no-render "$@" > "$FINAL/$name.log" 2>&1
    local rc=$?
    local t1=$(date +%s.%N)
    kill $sampler $ticking 2>/dev/null; wait $sampler $ticking 2>/dev/null
    say "$(awk -v a="$t0" -v b="$t1" -v n="$name" -v rc="$rc" 'BEGIN { printf "%s: %.1f s wall, exit status %s%s\n", n, b - a, rc, rc == 124 ? " (stopped at the time limit)" : "" }')"
    say "$(summarise "$FINAL/$name")"
    say "$(counts "$name" "$params")"
    # the ETA the display showed against the time really left (a sweep stopped at the limit has no
    # true time left: its samples come back in $name.eta all the same)
    if [ "$rc" -eq 0 ]; then
        "$PY" benchmarks/eta_accuracy.py --log "$FINAL/$name.eta" 2>&1 | sed "s/^/   $name ETA: /" | tee -a "$LOG"
    fi
}

say "== 2. steps: the seeds of a cell together, CUDA graphs and vmapped classifiers against the eager path"
# each phase gets its share of the time left, so that the profile (4) always has the larger part
share() { local s=$(( $(left) * $1 / 100 )); echo $(( s < $2 ? s : $2 )); }
timeout "$(share 45 240)" "$PY" -u benchmarks/gpu_steps.py "${STEPS_ARGS[@]}" --parts seeds ae classifiers cv semisup 2>&1 | tee -a "$LOG"

say "== 2b. the CUDA-only tests (graphed against eager within 2 %, a refused capture trains eagerly)"
timeout "$(share 25 90)" "$PY" -m pytest -q -p no:cacheprovider tests/test_steps.py tests/test_batched.py \
    tests/test_graphed.py tests/experiments/autoencode/test_together.py 2>&1 | tail -n 5 | tee -a "$LOG"

say "== 3. the 12-model sweep ($PARAMS, autoencode, seed 0), --workers 6"
"$PY" - "$PARAMS" <<'PYEOF'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
p["profile"] = p["profile"] + "_sweep"
p["stages"] = {"autoencode": p["stages"]["autoencode"]}
p["stages"]["autoencode"]["grid"]["seed"] = [0]
yaml.safe_dump(p, open("/tmp/full_sweep.yaml", "w"), sort_keys=False)
PYEOF
timed_run sweep /tmp/full_sweep.yaml $(( $(left) > 300 ? 150 : $(left) / 3 )) --workers 6

say "== 4. $PARAMS from nothing, --workers 4 --seeds-together ($(left) s left)"
timed_run full "$PARAMS" $(( $(left) - 40 )) --workers 4 --seeds-together
REPORTS_DIR=$OUT/full "$PY" -m lib run "$PARAMS" --no-retrain --no-render > "$FINAL/full_tables.log" 2>&1
tar czf "$FINAL/profile.tgz" --exclude='*.pt' --exclude='*.ipynb' --exclude='kernel.log' -C "$OUT/full" . 2>/dev/null
say "== done after $(( $(date +%s) - START )) s"
ls -la "$FINAL"
