#!/usr/bin/env bash
# Smoke test of the real binaries end to end: generates a tiny criteo-kaggle dataset, starts
# 2 shards, the oracle and 2 workers as processes on loopback (deploy/netns/up.sh --loopback),
# trains one tiny job with an eval set, and checks through the oracle's JobStatus RPC
# (build/bin/e2e_bench) that it SUCCEEDED with a finite training loss and eval AUC / logloss.
# Stops exactly the pids it started on any exit. Runs in well under 60 s.
#   tests/e2e/smoke_test.sh [BIN_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin_dir=${1:-${AUGUR_BIN_DIR:-$root/build/bin}}
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
[ -x "$bin_dir/e2e_bench" ] || fail "$bin_dir/e2e_bench is missing (build all targets first)"
e2e_init "$bin_dir" smoke "$root/deploy/netns/down.sh" --grace 5

"$bin_dir/augur" data gen --profile criteo-kaggle --samples 8192 --seed 1 --out "$tmp/train" >/dev/null
"$bin_dir/augur" data gen --profile criteo-kaggle --samples 1024 --seed 2 --out "$tmp/eval" >/dev/null
cat >"$tmp/job.yaml" <<YAML
name: e2e-smoke
seed: 1
model: {preset: kaggle}
data: {train: $tmp/train, eval: $tmp/eval}
training: {batch_size: 128, iterations: 24, eval_samples: 1024, threads: 1}
cache: {policy: oracle, capacity: 65536, lookahead: 16, prefetch_distance: 4, plans_in_flight: 16}
cluster: {workers: 2}
YAML

"$root/deploy/netns/up.sh" --loopback --shards 2 --workers 2 --run-dir "$cluster" \
  --bin-dir "$bin_dir" --job "$tmp/job.yaml" --timeout 30 >/dev/null
oracle=$(grep -oE '^oracle: \{grpc: [^,]+' "$cluster/cluster.yaml" | awk '{print $3}')
[ -n "$oracle" ] || fail "no oracle address in $cluster/cluster.yaml"
case "$oracle" in 127.0.0.1:*) ;; *) fail "oracle bound $oracle, not loopback" ;; esac

set +e
out=$("$bin_dir/e2e_bench" --oracle "$oracle" --timeout 45)
rc=$?
set -e
echo "$out"
[ "$rc" = 0 ] || fail "job did not succeed (e2e_bench exit $rc): $out"

field() { grep -oE "\"$1\":[^,}]+" <<<"$out" | head -n 1 | cut -d: -f2-; }
[ "$(field state)" = '"SUCCEEDED"' ] || fail "state is $(field state)"
[ "$(field iterations)" = 24 ] || fail "iterations is $(field iterations), want 24"
for f in loss eval_auc eval_logloss samples_per_s; do
  v=$(field "$f")
  [ -n "$v" ] || fail "JobStatus has no $f: $out"
  awk -v v="$v" 'BEGIN { exit !(v + 0 == v && v > 0 && v < 1e300) }' || fail "$f is not a positive finite number: $v"
done
awk -v v="$(field eval_auc)" 'BEGIN { exit !(v >= 0 && v <= 1) }' || fail "eval_auc out of [0,1]"
grep -q "SUCCEEDED after 24 iterations" "$cluster/logs/oracle.log" || fail "oracle log does not say SUCCEEDED"
for w in 0 1; do
  grep -q "worker $w: job-1 done" "$cluster/logs/worker-$w.log" || fail "worker $w did not finish job-1"
done
echo "PASS: 2 shards, oracle, 2 workers trained job-1 to SUCCEEDED (loss $(field loss), eval auc $(field eval_auc))"
