#!/usr/bin/env bash
# CPU training throughput of model_bench against the PyTorch yardstick (torch_dlrm.py) on the
# same workload, same machine, same run. For each preset it alternates REPEATS runs of each
# (interleaved, so machine noise hits both alike), prints every raw JSON line, then one summary
# line per config: {"bench":"model_cpu_vs_pytorch", ..., "augur_median", "pytorch_median",
# "ratio"} where ratio = augur_median / pytorch_median (> 1: model_bench is faster).
#
# Usage: bench/model/compare_cpu.sh [options] [BUILD_DIR] [REPEATS]   (defaults: build 3)
#   --configs "kaggle mlperf"   presets to compare (kaggle, mlperf, dlrmv2)
#   --batch 2048                samples per step
#   --threads N                 CPU threads of both sides (default: nproc)
#   --multi-hot mlperf|LIST     bag sizes per sparse feature (default one id per bag)
# e.g. bench/model/compare_cpu.sh --configs dlrmv2 --batch 1024 --multi-hot mlperf build 3
# PyTorch is an optional yardstick, not a project dependency (Debian: apt install
# python3-torch). PYTHON=... picks the interpreter; by default the first of python3 and
# /usr/bin/python3 that can import torch (a pyenv python3 does not see Debian's packages).
set -euo pipefail

CONFIGS="kaggle mlperf"
BATCH=2048
THREADS="$(nproc)"
MULTI_HOT=""
positional=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --configs) CONFIGS="$2"; shift 2 ;;
    --batch) BATCH="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --multi-hot) MULTI_HOT="$2"; shift 2 ;;
    --*) echo "compare_cpu.sh: unknown option $1" >&2; exit 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
BUILD_DIR="${positional[0]:-build}"
REPEATS="${positional[1]:-3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH="$BUILD_DIR/bin/model_bench"
YARDSTICK="$HERE/torch_dlrm.py"

if ! [[ "$REPEATS" =~ ^[1-9][0-9]*$ ]]; then
  echo "compare_cpu.sh: REPEATS must be a positive integer, got '$REPEATS'" >&2
  exit 2
fi
if [[ ! -x "$BENCH" ]]; then
  echo "compare_cpu.sh: no executable $BENCH (build model_bench first, or pass BUILD_DIR)" >&2
  exit 2
fi

if [[ -z "${PYTHON:-}" ]]; then
  for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import torch' >/dev/null 2>&1; then
      PYTHON="$candidate"
      break
    fi
  done
fi
if [[ -z "${PYTHON:-}" ]] || ! "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
  echo "compare_cpu.sh: python3 cannot import torch. The PyTorch yardstick is optional (not a" \
       "project dependency); to run it: apt install python3-torch (or set PYTHON to an" \
       "interpreter that has torch)." >&2
  exit 2
fi

multi_hot_args=()
if [[ -n "$MULTI_HOT" ]]; then multi_hot_args=(--multi-hot "$MULTI_HOT"); fi
for config in $CONFIGS; do
  augur=()
  pytorch=()
  for ((r = 0; r < REPEATS; ++r)); do
    line="$("$BENCH" --backend cpu --config "$config" --batch "$BATCH" --threads "$THREADS" \
              "${multi_hot_args[@]}" --json)"
    echo "$line"
    augur+=("$line")
    line="$("$PYTHON" "$YARDSTICK" --device cpu --config "$config" --batch "$BATCH" \
              --threads "$THREADS" "${multi_hot_args[@]}" --json)"
    echo "$line"
    pytorch+=("$line")
  done
  {
    printf '%s\n' "${augur[@]}"
    echo "--"
    printf '%s\n' "${pytorch[@]}"
  } | "$PYTHON" -c '
import json, statistics, sys
config, batch, threads, multi_hot = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
text = sys.stdin.read().split("--\n")
sps = [[json.loads(l)["samples_per_s"] for l in part.splitlines() if l.strip()] for part in text]
augur, pytorch = statistics.median(sps[0]), statistics.median(sps[1])
print(json.dumps({"bench": "model_cpu_vs_pytorch", "config": config, "batch": batch,
                  "threads": threads, "multi_hot": multi_hot or "none", "augur_median": augur,
                  "pytorch_median": pytorch, "ratio": augur / pytorch}))
' "$config" "$BATCH" "$THREADS" "$MULTI_HOT"
done
