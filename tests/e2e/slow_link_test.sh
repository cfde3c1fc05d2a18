#!/usr/bin/env bash
# A 1M-row cache over a 1 Mbit/s shard link, all real processes (deploy/local/up.sh: one shard
# whose link is emulated at 125,000 bytes/s, the oracle, one worker): the job's fills and its
# final flush (megabytes each, longer than one RPC's 10 s deadline on that link) and then
# `augur export` (a scan of every stored row) finish without a deadline error. Before bulk
# transfers were cut and flow-controlled, the flush's requests all went at once and missed their
# deadlines. Stops exactly the pids it started.
#   tests/e2e/slow_link_test.sh [BIN_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin_dir=${1:-${AUGUR_BIN_DIR:-$root/build/bin}}
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_init "$bin_dir" slow-link "$root/deploy/local/down.sh"

"$bin_dir/augur" data gen --profile criteo-kaggle --samples 8192 --seed 1 --out "$tmp/train" >/dev/null
cat >"$tmp/job.yaml" <<YAML
name: e2e-slow-link
seed: 1
model: {preset: custom, dim: 8, bottom: [16, 8], top: [16, 1]}
data: {train: $tmp/train}
training: {batch_size: 128, iterations: 40, threads: 1}
cache: {policy: oracle, capacity: 1048576, lookahead: 8, prefetch_distance: 2}
cluster: {workers: 1}
YAML
"$root/deploy/local/up.sh" --shards 1 --workers 1 --run-dir "$cluster" --bin-dir "$bin_dir" \
  --timeout 30 --no-state --shard-flag --emulate-link-bytes-per-s=125000 >/dev/null
start=$(date +%s)
out=$(timeout 400 "$bin_dir/augur" submit "$tmp/job.yaml" --cluster "$cluster/cluster.yaml" \
  --follow --interval 1 2>&1) || fail "the job failed: $out"
grep -q 'SUCCEEDED' <<<"$out" || fail "the job did not succeed: $out"
id=$(grep -oE 'job-[0-9]+' <<<"$out" | head -1)
status=$("$bin_dir/augur" status "$id" --cluster "$cluster/cluster.yaml")
fetched=$(awk '/bytes fetched|fetched/ { print; exit }' <<<"$status")
echo "ok: $id SUCCEEDED in $(($(date +%s) - start)) s over the 1 Mbit/s link ($fetched)"

start=$(date +%s)
exported=$(timeout 300 "$bin_dir/augur" export "$id" --out "$tmp/export" \
  --cluster "$cluster/cluster.yaml" 2>&1) || fail "export failed: $exported"
ls "$tmp/export"/*.npy >/dev/null 2>&1 || fail "export wrote no arrays: $exported"
echo "ok: exported in $(($(date +%s) - start)) s"
if grep -qi 'deadline' "$cluster"/logs/*.log; then
  grep -i 'deadline' "$cluster"/logs/*.log >&2
  fail "a deadline was missed"
fi
echo "PASS: a 1M-row cache's fills, flush and export cross a 1 Mbit/s link"
