#!/usr/bin/env bash
# A worker blocked in a collective with a peer that hangs (SIGSTOP: alive, its sockets open, so
# Gloo neither errors nor returns) gets out by itself once its job is over: all real processes
# (deploy/local/up.sh --supervise: a shard, the oracle, two workers started with
# --exit-when-stuck 5). While worker 1 is frozen the oracle is killed (SIGKILL), which ends
# worker 0's plan stream; worker 0, stuck in the step's all-reduce, exits within seconds with code
# 75 naming the reason, and its supervisor starts it again - instead of waiting out Gloo's 60 s
# timeout. (A cancel would not do: it stops the workers through their plans, together, so it
# waits for the frozen one.) Stops exactly the pids it started.
#   tests/e2e/stuck_worker_test.sh [BIN_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin_dir=${1:-${AUGUR_BIN_DIR:-$root/build/bin}}
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_init "$bin_dir" stuck-worker "$root/deploy/local/down.sh"

e2e_tiny_job "$tmp/job.yaml" e2e-stuck-worker 1000000 2
"$root/deploy/local/up.sh" --shards 1 --workers 2 --run-dir "$cluster" --bin-dir "$bin_dir" \
  --timeout 30 --no-state --supervise >/dev/null
oracle=$(e2e_oracle)
augur() { "$bin_dir/augur" "$@" --oracle "$oracle"; }
w0_log=$cluster/logs/worker-0.log
w1=$(awk '{ print $1 }' "$cluster/supervise/worker-1.pid")
[ -n "$w1" ] || fail "no pid in $cluster/supervise/worker-1.pid"
frozen=0
thaw() {
  if [ "$frozen" = 1 ]; then kill -CONT "$w1" 2>/dev/null || true; fi
  frozen=0
}
e2e_before_down() { thaw; }

id=$(augur submit "$tmp/job.yaml")
it=0
for _ in $(seq 300); do
  it=$(augur status "$id" | awk '/^iteration:/ { split($2, a, "/"); print a[1] }')
  [ "${it:-0}" -gt 50 ] && break
  sleep 0.1
done
[ "${it:-0}" -gt 50 ] || fail "$id did not get past iteration 50: $(augur status "$id")"

kill -STOP "$w1"
frozen=1
sleep 1  # worker 0 reaches the next all-reduce and blocks there
grep -q "exited with status" "$w0_log" && fail "worker 0 restarted before the oracle was killed"
start=$(date +%s%3N)
kill -9 "$(awk '{ print $1 }' "$cluster/supervise/oracle.pid")"
re='still blocked, most likely in a collective with a peer that died; exiting'
for _ in $(seq 300); do
  grep -q "$re" "$w0_log" && break
  sleep 0.1
done
took_ms=$(($(date +%s%3N) - start))
grep -q "$re" "$w0_log" || fail "worker 0 did not leave its stuck collective within 30 s of the oracle's death"
# --exit-when-stuck 5 after the plan stream broke: well under Gloo's 60 s timeout.
[ "$took_ms" -lt 20000 ] || fail "worker 0 took ${took_ms} ms to exit after the oracle died"
# Its supervisor saw exit code 75 and starts it again (supervise.sh logs into the same file).
sup='supervise: worker-0 exited with status 75'
for _ in $(seq 100); do
  grep -q "$sup" "$w0_log" && break
  sleep 0.1
done
grep -q "$sup" "$w0_log" || fail "the supervisor of worker 0 did not see exit code 75"
thaw
echo "ok: worker 0 left its stuck all-reduce of $id ${took_ms} ms after the oracle died (exit 75)"
