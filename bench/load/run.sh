#!/usr/bin/env bash
# Bounded memory under load (issue 15): starts a local cluster (one shard, the oracle, no
# workers; deploy/local/up.sh), submits a small job so status calls have one to look at, and
# drives it with bench/load/load_bench for --seconds: lookups, writes, gradient pushes, status
# polls and `augur top` scrapes from --clients threads. Prints load_bench's JSON lines (per kind
# every 30 s: calls/s, errors, p50/p99; the shard's and oracle's RSS) and its summary. Never a
# test.
#
#   bench/load/run.sh [--clients 64] [--seconds 600] [--profile ssd|memory] [--mix KINDS]
#
# ssd (default) keeps the rows on disk, so a shard's RSS is bounded by its block cache and
# memtables (256 + 256 MB on ssd) and must plateau; on memory the rows themselves live in RAM
# and RSS grows with the rows written until every row of the bench's tables exists.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
die() { echo "load/run.sh: $*" >&2; exit 1; }
clients=64 seconds=600 profile=ssd mix=lookup,write,grad,status,top every=30
bin=${AUGUR_BIN_DIR:-$root/build/bin} bench_bin=$root/build/bench
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case "$1" in
    --clients) clients=$2 ;;
    --seconds) seconds=$2 ;;
    --profile) profile=$2 ;;
    --mix) mix=$2 ;;
    --report-every) every=$2 ;;
    *) die "unknown argument '$1'" ;;
  esac
  shift 2
done
for b in "$bin/augur" "$bin/augur-oracle" "$bin/augur-shard" "$bench_bin/load_bench"; do
  [ -x "$b" ] || die "$b is missing: build first (cmake --build build)"
done
work=$(mktemp -d "${TMPDIR:-/tmp}/augur-load-bench.XXXXXX")
cleanup() {
  "$root/deploy/local/down.sh" --run-dir "$work/run" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$bin/augur" data gen --profile criteo-kaggle --samples 20000 --seed 1 --out "$work/data" >/dev/null
cat >"$work/job.yaml" <<JOB
name: load-bench-status
data: {train: $work/data}
model: {preset: kaggle}
training: {batch_size: 256, epochs: 1}
cache: {policy: oracle, capacity: 65536}
cluster: {workers: 1}
JOB
"$root/deploy/local/up.sh" --shards 1 --workers 0 --profile "$profile" --run-dir "$work/run" >/dev/null
"$bin/augur" submit "$work/job.yaml" --cluster "$work/run/cluster.yaml" >/dev/null
"$bench_bin/load_bench" --cluster "$work/run/cluster.yaml" --clients "$clients" \
  --seconds "$seconds" --report-every "$every" --mix "$mix"
