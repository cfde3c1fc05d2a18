#!/usr/bin/env bash
# The oracle's whole service path against its planner alone, on the same job and data: a real
# augur-oracle (data reading, planning, plan encoding, gRPC streaming, flow control) with one
# memory shard, serving W plan-consuming clients (bench/oracle/plan_client: register, stream
# plans, report progress, train nothing), and `augur-oracle --plan-only` on the same job spec.
# Prints the two JSON lines and one with `service_vs_plan_only` (goal: >= 0.75). The service's
# clock starts when the job is submitted (plans are made from then on), plan-only's when planning
# starts; both include reading the data. Never a test.
#
#   bench/oracle/service_run.sh [--dataset DIR | --samples N] [--workers 4] [--batch 4096]
#                               [--capacity 262144] [--lookahead 200] [--planner-threads 1]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
die() { echo "service_run.sh: $*" >&2; exit 1; }
dataset="" samples=3000000 workers=4 batch=4096 capacity=262144 lookahead=200 threads=1
bin=${AUGUR_BIN_DIR:-$root/build/bin} bench_bin=$root/build/bench
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case "$1" in
    --dataset) dataset=$(realpath "$2") ;;
    --samples) samples=$2 ;;
    --workers) workers=$2 ;;
    --batch) batch=$2 ;;
    --capacity) capacity=$2 ;;
    --lookahead) lookahead=$2 ;;
    --planner-threads) threads=$2 ;;
    *) die "unknown argument '$1'" ;;
  esac
  shift 2
done
command -v jq >/dev/null || die "jq is needed to assemble the JSON lines"
for b in "$bin/augur" "$bin/augur-oracle" "$bin/augur-shard" "$bench_bin/plan_client"; do
  [ -x "$b" ] || die "$b is missing: build first (cmake --build build)"
done
work=$(mktemp -d "${TMPDIR:-/tmp}/augur-service-bench.XXXXXX")
cleanup() {
  "$root/deploy/local/down.sh" --run-dir "$work/run" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$dataset" ]; then
  dataset=$work/data
  "$bin/augur" data gen --profile criteo-kaggle --samples "$samples" --seed 1 --out "$dataset" >/dev/null
fi
cat >"$work/job.yaml" <<JOB
name: service-bench
data: {train: $dataset}
model: {preset: kaggle}
training: {batch_size: $batch, epochs: 1}
cache: {policy: oracle, capacity: $capacity, lookahead: $lookahead, prefetch_distance: 8,
        plans_in_flight: 64}
cluster: {workers: $workers}
JOB

plan_only=$("$bin/augur-oracle" --plan-only --job "$work/job.yaml" --planner-threads "$threads")
echo "$plan_only" | jq -c '{bench: "oracle_plan_only", workers, batch, planner_threads,
  iterations, samples_per_s, hit_ratio}'

"$root/deploy/local/up.sh" --shards 1 --workers 0 --run-dir "$work/run" \
  --planner-threads "$threads" >/dev/null
oracle=$(grep -oE '^oracle: \{grpc: [^,]+' "$work/run/cluster.yaml" | awk '{print $3}' | tr -d '"')
"$bin/augur" submit "$work/job.yaml" --cluster "$work/run/cluster.yaml" >/dev/null
service=$("$bench_bin/plan_client" --oracle "$oracle" --workers "$workers")
echo "$service" | jq -c --argjson b "$batch" --argjson t "$threads" \
  '{bench: "oracle_service", workers, batch: $b, planner_threads: $t, samples, seconds,
    samples_per_s, first_plan_seconds}'
jq -cn --argjson p "$plan_only" --argjson s "$service" '{bench: "oracle_service_vs_plan_only",
  workers: $p.workers, planner_threads: $p.planner_threads,
  plan_only_samples_per_s: $p.samples_per_s, service_samples_per_s: $s.samples_per_s,
  service_vs_plan_only: ($s.samples_per_s / $p.samples_per_s)}'
