#!/usr/bin/env bash
# Shows the local cluster in RUN_DIR: each process, its pid, whether it is alive, its gRPC and
# metrics endpoints, and whether /healthz answers on the metrics port. Exits 0 when every
# process is alive, 1 when one is dead, 2 when there is no cluster in RUN_DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"

usage() {
  cat <<'USAGE'
usage: deploy/local/status.sh [--run-dir DIR]
  --run-dir DIR   the run dir given to up.sh (default ./run/local)
  -h, --help      this text
USAGE
}
run_dir=./run/local
while [ $# -gt 0 ]; do
  case "$1" in
    --run-dir) [ $# -ge 2 ] || augur_die "--run-dir needs a value"; run_dir=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) augur_die "unknown argument '$1' (see --help)" ;;
  esac
done
if [ ! -f "$run_dir/pids" ]; then
  echo "status.sh: no cluster in $run_dir (no pids file; start one with deploy/local/up.sh)" >&2
  exit 2
fi

# healthz HOST:PORT: "ok" when GET /healthz answers 200 within a second (bash /dev/tcp, no curl).
healthz() {
  local hp=$1 reply
  [ "$hp" != - ] || { echo -; return; }
  reply=$(timeout 1 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" &&
    printf "GET /healthz HTTP/1.0\r\nHost: %s\r\n\r\n" "$1" >&3 && head -n 1 <&3' _ "$hp" 2>/dev/null || true)
  case "$reply" in *" 200"*) echo ok ;; *) echo no ;; esac
}

dead=0
printf '%-10s %8s  %-6s %-22s %-22s %s\n' PROCESS PID STATE GRPC METRICS HEALTHZ
while read -r name pid grpc metrics start; do
  [ -n "${pid:-}" ] || continue
  if augur_pid_is "$pid" "$start"; then
    state=alive h=$(healthz "$metrics")
  else
    state=dead h=- dead=1
  fi
  printf '%-10s %8s  %-6s %-22s %-22s %s\n' "$name" "$pid" "$state" "$grpc" "$metrics" "$h"
done <"$run_dir/pids"
exit "$dead"
