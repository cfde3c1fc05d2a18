#!/usr/bin/env bash
# Shows a cluster started by deploy/netns/up.sh: each recorded process (alive or not, and its
# last log line), each namespace and its link counters, the tbf queues on the shard links, and
# whether each /metrics endpoint answers. Exit 0 when every process is alive, 1 otherwise.
#   deploy/netns/status.sh [--run-dir DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/netns/lib.sh
. "$here/lib.sh"

run_dir=./run/netns
while [ $# -gt 0 ]; do
  case "$1" in
    --run-dir) [ $# -ge 2 ] || augur_die "--run-dir needs a value"; run_dir=$2; shift 2 ;;
    -h | --help) sed -n '2,5p' "$0"; exit 0 ;;
    *) augur_die "unknown argument '$1' (see --help)" ;;
  esac
done
state=$run_dir/netns.state
[ -f "$state" ] || { echo "no cluster recorded in $run_dir"; exit 1; }
[ -f "$run_dir/cluster.yaml" ] && sed -n '2,3p' "$run_dir/cluster.yaml"

rc=0
echo "processes:"
while read -r kind name pid exe; do
  [ "$kind" = pid ] || continue
  log=$(grep -oE "pid: $pid, netns: [^,]+, log: [^}]+" "$run_dir/cluster.yaml" 2>/dev/null | sed 's/.*log: //')
  if augur_pid_is "$pid" "$exe"; then s=alive; else s=DEAD; rc=1; fi
  last=""
  [ -n "$log" ] && [ -f "$log" ] && last=$(tail -n 1 "$log" | cut -c1-110)
  printf '  %-4s pid %-8s %-5s %s\n' "$name" "$pid" "$s" "$last"
done <"$state"

echo "namespaces:"
while read -r kind name _; do
  [ "$kind" = ns ] || continue
  if [ -e "/run/netns/$name" ]; then
    addr=$(ip -n "$name" -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}')
    rx=$(ip netns exec "$name" cat /sys/class/net/eth0/statistics/rx_bytes 2>/dev/null)
    tx=$(ip netns exec "$name" cat /sys/class/net/eth0/statistics/tx_bytes 2>/dev/null)
    printf '  %-22s %-16s rx %s B, tx %s B\n' "$name" "$addr" "${rx:-?}" "${tx:-?}"
    q=$(ip netns exec "$name" tc -s qdisc show dev eth0 2>/dev/null | grep -A2 ' tbf ' | tr -s ' ' | tr '\n' ' ')
    [ -z "$q" ] || echo "      egress: $q"
  else
    printf '  %-22s MISSING\n' "$name"
    rc=1
  fi
done <"$state"

if [ -f "$run_dir/cluster.yaml" ] && command -v curl >/dev/null; then
  echo "metrics endpoints:"
  for m in $(grep -oE 'metrics: [0-9.]+:[0-9]+' "$run_dir/cluster.yaml" | awk '{print $2}'); do
    if curl -fsS --max-time 2 "http://$m/metrics" >/dev/null 2>&1; then echo "  $m ok"; else echo "  $m NOT ANSWERING"; rc=1; fi
  done
fi
exit "$rc"
