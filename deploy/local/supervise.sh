#!/usr/bin/env bash
# Keeps one process of a local cluster running, the way Kubernetes restarts a pod or Slurm
# requeues a step: deploy/local/up.sh --supervise starts every shard, the oracle and every
# worker through it.
#
#   deploy/local/supervise.sh NAME PID_FILE LOG -- EXE ARGS...
#
# Runs EXE ARGS (stdout and stderr appended to LOG) and, whenever it exits, starts it again
# after 1 s, appending "supervise: NAME exited with status S; restart N" to LOG. PID_FILE always
# holds "PID START" of the current child (START: its start time, lib.sh augur_start_time), so a
# test can kill -9 the process itself, and down.sh can stop a child whose supervisor is gone.
# A restarted process keeps its addresses: --listen / --metrics-listen HOST:0 (a kernel-chosen
# port) become the port the first run logged ("listening on HOST:PORT", "metrics on
# HOST:PORT"), so shards, the oracle and the workers find each other again.
# SIGTERM / SIGINT: passed to the child; the supervisor exits when the child has.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"

[ $# -ge 5 ] && [ "$4" = -- ] || augur_die "usage: supervise.sh NAME PID_FILE LOG -- EXE ARGS..."
name=$1 pid_file=$2 log=$3
shift 4
args=("$@")
child="" stopping=0 restarts=0

on_signal() {
  stopping=1
  [ -z "$child" ] || kill -TERM "$child" 2>/dev/null || true
}
trap on_signal TERM INT

# The address the first run bound, from its log line, for a flag given HOST:0.
logged_address() {  # logged_address REGEX
  grep -aoE "$1" "$log" 2>/dev/null | head -n 1 | grep -oE '[0-9A-Za-z.-]+:[0-9]+$' || true
}
pin_ports() {
  local listen metrics i
  listen=$(logged_address 'listening on [^ ]+:[0-9]+')
  metrics=$(logged_address 'metrics on (https?://)?[^ /]+:[0-9]+')
  for ((i = 0; i + 1 < ${#args[@]}; i++)); do
    if [ "${args[i]}" = --listen ] && [[ ${args[i + 1]} == *:0 && -n $listen ]]; then
      args[i + 1]=$listen
    elif [ "${args[i]}" = --metrics-listen ] && [[ ${args[i + 1]} == *:0 && -n $metrics ]]; then
      args[i + 1]=$metrics
    fi
  done
}

while :; do
  "${args[@]}" </dev/null >>"$log" 2>&1 &
  child=$!
  echo "$child $(augur_start_time "$child")" >"$pid_file.tmp" && mv "$pid_file.tmp" "$pid_file"
  while :; do
    rc=0
    wait "$child" || rc=$?
    # A trapped signal ends `wait` early (status > 128) while the child still runs.
    kill -0 "$child" 2>/dev/null || break
  done
  [ "$stopping" = 0 ] || exit 0
  restarts=$((restarts + 1))
  echo "supervise: $name exited with status $rc; restart $restarts in 1 s" >>"$log"
  sleep 1
  [ "$stopping" = 0 ] || exit 0
  pin_ports
done
