#!/usr/bin/env bash
# Stops a cluster started by deploy/netns/up.sh: exactly the pids it recorded (workers, then the
# oracle, then the shards; TERM, then KILL after --grace seconds), then deletes exactly the
# namespaces and links it recorded. Safe to run twice, and after a half-finished up.sh.
#   deploy/netns/down.sh [--run-dir DIR] [--grace S] [--keep-logs]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/netns/lib.sh
. "$here/lib.sh"

run_dir=./run/netns grace=10
while [ $# -gt 0 ]; do
  case "$1" in
    --run-dir) [ $# -ge 2 ] || augur_die "--run-dir needs a value"; run_dir=$2; shift 2 ;;
    --grace) [ $# -ge 2 ] || augur_die "--grace needs a value"; grace=$2; shift 2 ;;
    -h | --help) sed -n '2,6p' "$0"; exit 0 ;;
    *) augur_die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $grace =~ ^[0-9]+$ ]] || augur_die "--grace must be seconds, got '$grace'"
state=$run_dir/netns.state
if [ ! -f "$state" ]; then
  echo "down.sh: no cluster recorded in $run_dir (no netns.state); nothing to do"
  exit 0
fi
echo "down.sh: stopping the cluster in $run_dir"
augur_stop_state "$state" "$grace"
augur_delete_net "$state"
rm -f "$state" "$run_dir/pids"
[ ! -f "$run_dir/cluster.yaml" ] || mv -f "$run_dir/cluster.yaml" "$run_dir/cluster.yaml.stopped"
echo "down.sh: done (logs stay in $run_dir/logs)"
