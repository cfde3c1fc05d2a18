#!/usr/bin/env bash
# A durable oracle, all real processes: deploy/local/up.sh starts a shard, the oracle (with its
# default --state-dir RUN_DIR/oracle-state) and a worker. A job runs to SUCCEEDED; the oracle
# is killed with SIGKILL (by pid) and started again on the same address and state dir:
# `augur list` shows the job with the same id and state, `augur logs` its events, and a new
# submission gets the next id and runs. A job that was running when the oracle was killed is
# then shown FAILED, saying the oracle restarted. Stops exactly the pids it started.
#   tests/e2e/oracle_restart_test.sh [BIN_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin_dir=${1:-${AUGUR_BIN_DIR:-$root/build/bin}}
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_init "$bin_dir" oracle-restart "$root/deploy/local/down.sh"
oracle_pid=""
# The restarted oracle is ours, not up.sh's: stop it by its pid, then the rest.
stop_oracle() {
  if [ -n "$oracle_pid" ] && kill -0 "$oracle_pid" 2>/dev/null; then
    kill "$oracle_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$oracle_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$oracle_pid" 2>/dev/null || true
  fi
}
e2e_before_down() { stop_oracle; }

e2e_tiny_job "$tmp/short.yaml" e2e-restart-20 20 1
e2e_tiny_job "$tmp/long.yaml" e2e-restart-1000000 1000000 1

"$root/deploy/local/up.sh" --shards 1 --workers 1 --run-dir "$cluster" --bin-dir "$bin_dir" \
  --timeout 30 >/dev/null
state=$cluster/oracle-state
[ -d "$state" ] || fail "up.sh did not give the oracle a state dir ($state)"
grep -q -- "--state-dir" "/proc/$(awk '$1 == "oracle" { print $2 }' "$cluster/pids")/cmdline" ||
  fail "the oracle was not started with --state-dir"
oracle=$(e2e_oracle)
shards=$(grep -oE '^  - \{grpc: "[^"]+' "$cluster/cluster.yaml" | cut -d'"' -f2 | paste -sd,)
augur() { "$bin_dir/augur" "$@" --oracle "$oracle"; }

out=$(timeout 120 "$bin_dir/augur" submit "$tmp/short.yaml" --oracle "$oracle" --follow \
  --interval 0.2 2>&1) || fail "submit failed: $out"
grep -q '^job-1 SUCCEEDED' <<<"$out" || fail "job-1 did not succeed: $out"
before=$(augur list | grep '^job-1 ')
events_before=$(augur logs job-1 | wc -l)

# alive PID: running, not a zombie waiting to be reaped.
alive() { [ -e "/proc/$1" ] && ! grep -qE '^[0-9]+ \(.*\) Z' "/proc/$1/stat" 2>/dev/null; }
# kill_oracle PID: SIGKILL, and wait until it is gone.
kill_oracle() {
  kill -9 "$1"
  for _ in $(seq 100); do alive "$1" || return 0; sleep 0.05; done
  fail "oracle pid $1 survived SIGKILL"
}
# start_oracle: a new augur-oracle on the same address and state dir; sets oracle_pid.
start_oracle() {
  local log=$cluster/logs/oracle-restarted.log
  : >"$log"
  setsid "$bin_dir/augur-oracle" --listen "$oracle" --metrics-listen 127.0.0.1:0 \
    --shards "$shards" --state-dir "$state" </dev/null >>"$log" 2>&1 &
  oracle_pid=$!
  for _ in $(seq 300); do
    grep -q "augur-oracle listening on" "$log" && return 0
    kill -0 "$oracle_pid" 2>/dev/null || { cat "$log" >&2; fail "the restarted oracle exited"; }
    sleep 0.1
  done
  fail "the restarted oracle did not listen within 30 s"
}

kill_oracle "$(awk '$1 == "oracle" { print $2 }' "$cluster/pids")"
start_oracle
after=$(augur list | grep '^job-1 ') || fail "after the restart, augur list has no job-1"
[ "$(awk '{ print $1, $2, $3, $4 }' <<<"$after")" = "$(awk '{ print $1, $2, $3, $4 }' <<<"$before")" ] ||
  fail "job-1 changed across the restart: '$before' -> '$after'"
augur status job-1 | grep -qE '^state: +SUCCEEDED' || fail "status job-1 is not SUCCEEDED"
[ "$(augur logs job-1 | wc -l)" -ge "$events_before" ] || fail "job-1 lost events"
grep -q "recovered 1 job" "$cluster/logs/oracle-restarted.log" || fail "the oracle did not say it recovered job-1"
echo "ok: after kill -9 and a restart, augur list shows: $after"

# The worker re-registers with the restarted oracle: the next job runs, with the next id.
out=$(timeout 120 "$bin_dir/augur" submit "$tmp/short.yaml" --oracle "$oracle" --follow \
  --interval 0.2 2>&1) || fail "submit after the restart failed: $out"
grep -q '^job-2 SUCCEEDED' <<<"$out" || fail "the next job is not job-2 or did not succeed: $out"

# A job running when the oracle dies is shown FAILED, saying the oracle restarted.
id=$("$bin_dir/augur" submit "$tmp/long.yaml" --oracle "$oracle")
[ "$id" = job-3 ] || fail "long job got id '$id', want job-3"
for _ in $(seq 150); do
  augur status job-3 | grep -qE '^iteration: +([1-9][0-9]*)/' && break
  sleep 0.2
done
sleep 2.5  # progress is recorded every 2 s
kill_oracle "$oracle_pid"
start_oracle
status=$(augur status job-3)
grep -qE '^state: +FAILED' <<<"$status" || fail "job-3 is not FAILED after the restart: $status"
grep -q 'the oracle restarted' <<<"$status" || fail "job-3's reason does not name the restart: $status"
augur list | grep -q '^job-1 .*SUCCEEDED' || fail "job-1 is gone after the second restart"
echo "ok: job-3, running at the kill, is shown as: $(grep '^reason:' <<<"$status")"
echo "PASS: the oracle's jobs and id counter survive kill -9"
