# Shared by deploy/netns/{up,down,status}.sh (sourced, not run).
#
# RUN_DIR/netns.state records everything up.sh created, one line each, appended the moment it
# exists (so down.sh can undo a half-finished up.sh):
#   ns NAME                    a network namespace
#   link NAME                  a link in the root namespace (the bridge, host-side veths)
#   pid NAME PID EXE           a process; only ever stopped while /proc/PID/exe still is EXE
# Nothing that is not in this file is ever touched: namespaces are named augur-e2e-ID-NODE and
# links aeID... so they cannot collide with anybody else's.

AUGUR_NETNS_PREFIX=augur-e2e-

augur_die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# shellcheck source=deploy/stop_procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stop_procs.sh"

# augur_pid_is PID EXE: true when PID is alive and runs EXE (guards against pid reuse).
augur_pid_is() {
  local pid=$1 exe=$2 cur
  kill -0 "$pid" 2>/dev/null || return 1
  cur=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 0  # no /proc access: trust the pid
  cur=${cur% (deleted)}  # the binary was rebuilt while it ran
  [ "$cur" = "$exe" ]
}

# augur_stop_state FILE [GRACE_S]: TERM every live recorded pid in reverse start order (workers,
# oracle, shards), wait up to GRACE_S (default 10) seconds, KILL what is left.
augur_stop_state() {
  local file=$1 grace=${2:-10} kind name pid exe
  [ -f "$file" ] || return 0
  local -a names=() pids=() ids=()
  while read -r kind name pid exe; do
    [ "$kind" = pid ] || continue
    names+=("$name") pids+=("$pid") ids+=("$exe")
  done <"$file"
  augur_stop_procs "$grace" 0.1 0
}

# augur_delete_net FILE: deletes the namespaces and root-namespace links FILE records (veth
# pairs go with their namespace; the host ends are deleted too in case the namespace was gone).
augur_delete_net() {
  local file=$1 kind name rest
  [ -f "$file" ] || return 0
  while read -r kind name rest; do
    case "$kind" in
      ns) ip netns delete "$name" 2>/dev/null && echo "  netns $name deleted" || true ;;
    esac
  done <"$file"
  while read -r kind name rest; do
    case "$kind" in
      link) ip link delete "$name" 2>/dev/null && echo "  link $name deleted" || true ;;
    esac
  done <"$file"
}

# tbf rate in bits per second ("100mbit", "1gbit", "500kbit", "12mbps" = bytes).
rate_bps() {
  local r=${1,,} n u
  [[ $r =~ ^([0-9]+(\.[0-9]+)?)([a-z]*)$ ]] || return 1
  n=${BASH_REMATCH[1]} u=${BASH_REMATCH[3]}
  case "$u" in
    "" | bit) awk -v n="$n" 'BEGIN{printf "%d", n}' ;;
    kbit) awk -v n="$n" 'BEGIN{printf "%d", n*1e3}' ;;
    mbit) awk -v n="$n" 'BEGIN{printf "%d", n*1e6}' ;;
    gbit) awk -v n="$n" 'BEGIN{printf "%d", n*1e9}' ;;
    bps) awk -v n="$n" 'BEGIN{printf "%d", n*8}' ;;
    kbps) awk -v n="$n" 'BEGIN{printf "%d", n*8e3}' ;;
    mbps) awk -v n="$n" 'BEGIN{printf "%d", n*8e6}' ;;
    gbps) awk -v n="$n" 'BEGIN{printf "%d", n*8e9}' ;;
    *) return 1 ;;
  esac
}
