# shellcheck shell=bash
# Shared by up.sh, down.sh and status.sh (sourced, not run).
#
# RUN_DIR/pids has one line per process the run started, in start order:
#   NAME PID GRPC METRICS START
# (GRPC is "-" for workers; START is the process's start time, field 22 of /proc/PID/stat).
# Processes are only ever stopped by these pids, and only while the pid's start time is still
# START, so a pid the kernel has since reused for something else is left alone.

augur_die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# shellcheck source=deploy/stop_procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/../stop_procs.sh"

# augur_start_time PID: the start time of PID (clock ticks since boot), or "-" without /proc.
augur_start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo -; return; }
  stat=${stat##*) }  # drop "pid (comm) ", comm may hold spaces
  # shellcheck disable=SC2086
  set -- $stat
  echo "${20}"  # field 22 overall; field 3 is the first one left
}

# augur_pid_is PID START: true when PID is alive (a zombie is not) and is still the process
# that started at START.
augur_pid_is() {
  local pid=$1 start=$2 stat
  kill -0 "$pid" 2>/dev/null || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 0  # no /proc: trust the pid
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  [ "$1" != Z ] || return 1
  [ "$start" = - ] || [ "${20}" = "$start" ]
}

# augur_stop_pids_file FILE [GRACE_S]: TERM every live listed pid (workers first, then the
# oracle, then shards: reverse start order), wait up to GRACE_S (default 10) for them to exit,
# then KILL what is left. Prints one line per process.
augur_stop_pids_file() {
  local file=$1 grace=${2:-10} name pid start
  [ -f "$file" ] || return 0
  local -a names=() pids=() ids=()
  while read -r name pid _ _ start; do
    [ -n "${pid:-}" ] || continue
    names+=("$name") pids+=("$pid") ids+=("$start")
  done <"$file"
  augur_stop_procs "$grace" 0.2 1
}
