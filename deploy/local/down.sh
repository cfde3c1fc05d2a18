#!/usr/bin/env bash
# Stops the local cluster that up.sh started in RUN_DIR: exactly the pids in RUN_DIR/pids (never
# by process name), workers first, then the oracle, then the shards. Each gets SIGTERM, then
# SIGKILL if it is still running after --grace seconds. Removes RUN_DIR/pids and cluster.yaml;
# logs and shard data stay.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"

usage() {
  cat <<'USAGE'
usage: deploy/local/down.sh [--run-dir DIR] [--grace S]
  --run-dir DIR   the run dir given to up.sh (default ./run/local)
  --grace S       seconds between SIGTERM and SIGKILL (default 10)
  -h, --help      this text
USAGE
}
run_dir=./run/local grace=10
while [ $# -gt 0 ]; do
  case "$1" in
    --run-dir) [ $# -ge 2 ] || augur_die "--run-dir needs a value"; run_dir=$2; shift 2 ;;
    --grace) [ $# -ge 2 ] || augur_die "--grace needs a value"; grace=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) augur_die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $grace =~ ^[0-9]+$ ]] || augur_die "--grace must be whole seconds, got '$grace'"
[ -d "$run_dir" ] || augur_die "no run dir $run_dir"
run_dir=$(cd "$run_dir" && pwd)
if [ ! -f "$run_dir/pids" ]; then
  echo "down.sh: nothing to stop in $run_dir (no pids file)"
  exit 0
fi
echo "down.sh: stopping the cluster in $run_dir"
augur_stop_pids_file "$run_dir/pids" "$grace"
# Under up.sh --supervise the pids are the supervisors, which stop their processes; one whose
# supervisor had to be killed may leave its process behind: stop those too.
if [ -d "$run_dir/supervise" ]; then
  children=$run_dir/supervise/children
  : >"$children"
  for f in "$run_dir"/supervise/*.pid; do
    [ -f "$f" ] || continue
    read -r pid start <"$f" || continue
    if [ -n "${pid:-}" ] && augur_pid_is "$pid" "${start:--}"; then
      echo "$(basename "$f" .pid) $pid - - ${start:--}" >>"$children"
    fi
  done
  augur_stop_pids_file "$children" "$grace"
  rm -rf "$run_dir/supervise"
fi
left=0
while read -r name pid _ _ start; do
  if [ -n "${pid:-}" ] && augur_pid_is "$pid" "$start"; then
    echo "down.sh: $name (pid $pid) is still running" >&2
    left=1
  fi
done <"$run_dir/pids"
[ "$left" = 0 ] || exit 1
rm -f "$run_dir/pids" "$run_dir/cluster.yaml"
