#!/usr/bin/env bash
# A worker killed with SIGKILL while it starts up (after registering, before or during the
# rendezvous of the two workers), all real processes (deploy/local/up.sh: a shard, the oracle,
# two workers): the job fails within seconds, not after the 60 s rendezvous timeout or the
# oracle's 120 s worker timeout, its reason names the dead worker first (not the survivor), and the
# surviving worker is free for the next job. Stops exactly the pids it started.
#   tests/e2e/dead_peer_test.sh [BIN_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin_dir=${1:-${AUGUR_BIN_DIR:-$root/build/bin}}
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_init "$bin_dir" dead-peer "$root/deploy/local/down.sh"

e2e_tiny_job "$tmp/job.yaml" e2e-dead-peer 100000 2
"$root/deploy/local/up.sh" --shards 1 --workers 2 --run-dir "$cluster" --bin-dir "$bin_dir" \
  --timeout 30 --no-state >/dev/null
oracle=$(e2e_oracle)
augur() { "$bin_dir/augur" "$@" --oracle "$oracle"; }
w1=$(awk '$1 == "worker-1" { print $2 }' "$cluster/pids")
[ -n "$w1" ] || fail "no worker-1 in $cluster/pids"
# Worker 1 logs "joined" right after it registers; the kill lands in its start-up (opening the
# data, the rendezvous, with worker 0 waiting for it to meet) or, on a fast machine, in its
# first iterations (worker 0's all-reduce then breaks and it reports first).
id=$(augur submit "$tmp/job.yaml")
for _ in $(seq 200); do
  grep -q "worker 1: joined" "$cluster/logs/worker-1.log" && break
  sleep 0.05
done
grep -q "worker 1: joined" "$cluster/logs/worker-1.log" || fail "worker 1 never joined $id"
start=$(date +%s%3N)
kill -9 "$w1"
state=""
for _ in $(seq 400); do
  state=$(augur status "$id" | awk '/^state:/ { print $2 }')
  [ "$state" = FAILED ] && break
  sleep 0.1
done
took_ms=$(($(date +%s%3N) - start))
status=$(augur status "$id")
[ "$state" = FAILED ] || fail "$id is $state 40 s after worker 1 was killed: $status"
reason=$(grep '^reason:' <<<"$status" | sed -E 's/^reason: *//')
# The dead worker is the cause; the survivor's broken collective, if it reported one, may
# follow as the consequence ("...; then worker 0: gloo all-reduce failed: ...").
[[ "$reason" == "worker 1 went away"* ]] || fail "the reason does not start with worker 1: $reason"

# 20 s: well under the rendezvous timeout (60 s) and the oracle's worker timeout (120 s).
[ "$took_ms" -lt 20000 ] || fail "the job took ${took_ms} ms to fail after the kill"
echo "ok: $id failed ${took_ms} ms after worker 1's SIGKILL: $reason"

# The survivor is not stuck in the rendezvous: it takes the next job (one worker) to the end.
e2e_tiny_job "$tmp/next.yaml" e2e-dead-peer-next 100000 1
out=$(timeout 120 "$bin_dir/augur" submit "$tmp/next.yaml" --oracle "$oracle" --follow \
  --interval 0.2 2>&1) || fail "the next job failed: $out"
grep -q 'SUCCEEDED' <<<"$out" || fail "the next job did not succeed on the surviving worker: $out"
echo "PASS: a worker killed in its start-up fails the job in seconds, naming it"
