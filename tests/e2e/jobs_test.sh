#!/usr/bin/env bash
# Jobs own their tables, all real processes: deploy/local/up.sh starts 2 shards on disk (ssd
# profile), the oracle and a worker. On that one cluster a job with seed 1, then one with seed 2
# (which used to fail: "table id 0 already holds 'C1' with a different spec"), then the seed-1
# job again all SUCCEED; the repeated job's export equals the first one's and the seed-2 job's
# export equals the same job's on a fresh cluster, file for file (bitwise). `augur delete`
# refuses a running job, then drops an ended job's tables on every shard: its store directory
# is gone and the shards' data dirs shrink. Stops exactly the pids it started.
#   tests/e2e/jobs_test.sh [BIN_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin_dir=${1:-${AUGUR_BIN_DIR:-$root/build/bin}}
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_init "$bin_dir" jobs "$root/deploy/local/down.sh"
fresh=$tmp/fresh
stop_fresh() { "$root/deploy/local/down.sh" --run-dir "$fresh" >/dev/null 2>&1 || true; }
trap 'rc=$?; stop_fresh; (exit $rc); e2e_cleanup' EXIT

augur() { "$bin_dir/augur" "$@"; }
augur data gen --profile criteo-kaggle --samples 4096 --seed 1 --out "$tmp/train" >/dev/null
job_yaml() {  # job_yaml FILE SEED ITERATIONS
  cat >"$1" <<YAML
name: e2e-jobs-seed-$2
seed: $2
model: {preset: custom, dim: 8, bottom: [16, 8], top: [16, 1]}
data: {train: $tmp/train}
training:
  batch_size: 64
  iterations: $3
  threads: 1
  embedding_optimizer: {kind: adagrad, lr: 0.05}
cache: {policy: oracle, capacity: 65536, lookahead: 8, prefetch_distance: 2}
cluster: {workers: 1}
YAML
}
job_yaml "$tmp/seed1.yaml" 1 20
job_yaml "$tmp/seed2.yaml" 2 20
job_yaml "$tmp/long.yaml" 3 1000000

up() {
  "$root/deploy/local/up.sh" --shards 2 --workers 1 --profile ssd --run-dir "$1" \
    --bin-dir "$bin_dir" --timeout 30 >/dev/null
}
submit() {  # submit CLUSTER_DIR YAML WANT_ID
  local out
  out=$(timeout 120 "$bin_dir/augur" submit "$2" --cluster "$1/cluster.yaml" --follow \
    --interval 0.2 2>&1) || fail "submit $2 failed: $out"
  grep -q "^$3 SUCCEEDED" <<<"$out" || fail "$3 did not succeed: $out"
}
# same_export DIR_A DIR_B: every .npy file is byte-identical (manifest.json names the job id).
same_export() {
  local n=0 f
  for f in "$1"/*.npy; do
    cmp -s "$f" "$2/$(basename "$f")" || fail "$(basename "$f") differs between $1 and $2"
    n=$((n + 1))
  done
  [ "$n" -gt 26 ] || fail "only $n .npy files in $1"
  [ "$(ls "$1"/*.npy | wc -l)" = "$(ls "$2"/*.npy | wc -l)" ] || fail "$1 and $2 differ in files"
}

up "$cluster"
submit "$cluster" "$tmp/seed1.yaml" job-1
submit "$cluster" "$tmp/seed2.yaml" job-2
submit "$cluster" "$tmp/seed1.yaml" job-3
for j in 1 2 3; do
  augur export "job-$j" --out "$tmp/export-$j" --cluster "$cluster/cluster.yaml" >/dev/null
done
same_export "$tmp/export-1" "$tmp/export-3"
cmp -s "$tmp/export-1/bottom_0_weight.npy" "$tmp/export-2/bottom_0_weight.npy" &&
  fail "seed 1 and seed 2 trained the same dense weights"

up "$fresh"
submit "$fresh" "$tmp/seed2.yaml" job-1
augur export job-1 --out "$tmp/export-fresh" --cluster "$fresh/cluster.yaml" >/dev/null
same_export "$tmp/export-2" "$tmp/export-fresh"
stop_fresh
echo "ok: three jobs on one cluster; job-3 = job-1 and job-2 = a fresh cluster's run, bitwise"

# Delete: a running job is refused, an ended one loses its tables on every shard.
bytes() { du -sb "$@" | awk '{ s += $1 } END { print s + 0 }'; }
for s in 0 1; do
  [ -d "$cluster/shard-$s/data/jobs/job-1" ] || fail "shard $s has no store for job-1"
done
before=$(bytes "$cluster"/shard-*/data)
job1=$(bytes "$cluster"/shard-*/data/jobs/job-1)
out=$(augur submit "$tmp/long.yaml" --cluster "$cluster/cluster.yaml")
[ "$out" = job-4 ] || fail "long job got id '$out', want job-4"
for _ in $(seq 100); do
  augur status job-4 --cluster "$cluster/cluster.yaml" | grep -q 'RUNNING' && break
  sleep 0.2
done
set +e
err=$(augur delete job-4 --cluster "$cluster/cluster.yaml" 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || fail "deleting a running job exited $rc: $err"
grep -q "cancel it first" <<<"$err" || fail "deleting a running job said: $err"
augur cancel job-4 --cluster "$cluster/cluster.yaml" >/dev/null
for _ in $(seq 100); do
  augur status job-4 --cluster "$cluster/cluster.yaml" | grep -q 'CANCELLED' && break
  sleep 0.2
done
# CANCELLED is reported as soon as the worker flushed; the oracle lets go of the job a moment
# later (until then a delete is still refused).
for i in $(seq 25); do
  augur delete job-4 --cluster "$cluster/cluster.yaml" >/dev/null 2>&1 && break
  [ "$i" -lt 25 ] || fail "delete job-4 failed after it was cancelled"
  sleep 0.2
done
augur delete job-1 --cluster "$cluster/cluster.yaml" | grep -q "job-1: deleted" ||
  fail "delete job-1 did not say so"
for s in 0 1; do
  for j in job-1 job-4; do
    [ ! -e "$cluster/shard-$s/data/jobs/$j" ] || fail "shard $s still has $j's store"
  done
  [ -d "$cluster/shard-$s/data/jobs/job-2" ] || fail "shard $s lost job-2's store"
done
after=$(bytes "$cluster"/shard-*/data)
[ "$after" -lt "$before" ] || fail "shard data dirs did not shrink: $before -> $after bytes"
list=$(augur list --cluster "$cluster/cluster.yaml")
grep -q 'job-1 ' <<<"$list" && fail "augur list still shows job-1: $list"
grep -q 'job-2 ' <<<"$list" || fail "augur list lost job-2: $list"
set +e
err=$(augur export job-1 --out "$tmp/gone" --cluster "$cluster/cluster.yaml" 2>&1)
rc=$?
set -e
[ "$rc" != 0 ] || fail "export of a deleted job succeeded"
echo "ok: delete refused a running job; job-1 ($job1 bytes of shard data) deleted:" \
  "shard data $before -> $after bytes"
echo "PASS: jobs own their tables; delete frees them"
