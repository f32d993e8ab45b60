#!/usr/bin/env bash
# `make setup` on a fresh clone, with a cold and then a warm package cache (figures printed, never
# asserted). Cold: empty pip and uv caches of its own (PIP_CACHE_DIR, UV_CACHE_DIR under the
# scratch folder; the user's caches are never touched). Warm: .venv removed, the caches the cold
# run filled kept. Needs about 6 GB free in the scratch folder (torch's CUDA build).
#   bash benchmarks/setup_time.sh [COMMIT] [SCRATCH]     (default: HEAD, a new folder under /tmp)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
commit="${1:-HEAD}"
scratch="${2:-$(mktemp -d /tmp/setup-time.XXXX)}"
git clone -q "$repo" "$scratch/clone"
git -C "$scratch/clone" checkout -q "$commit"
cd "$scratch/clone"
unset VIRTUAL_ENV CONDA_PREFIX
export PIP_CACHE_DIR="$scratch/pip-cache" UV_CACHE_DIR="$scratch/uv-cache"
for cache in cold warm; do
  rm -rf .venv
  start=$(date +%s.%N)
  make setup > "$scratch/$cache.log" 2>&1
  end=$(date +%s.%N)
  printf 'make setup, %s cache: %.1f s (load average %s)\n' "$cache" "$(echo "$end - $start" | bc)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "logs in $scratch; remove it when done: rm -rf $scratch"
