# shellcheck shell=bash
# Sourced by deploy/local/lib.sh and deploy/netns/lib.sh (not run): the one TERM-wait-KILL loop.
#
# augur_stop_procs GRACE_S POLL_S SAY_GONE: stops the processes in the caller's arrays `names`,
# `pids` and `ids` (start order), checking each with the caller's `augur_pid_is PID ID` (which
# guards against pid reuse): TERM every live one in reverse start order (workers, oracle,
# shards), wait up to GRACE_S seconds polling every POLL_S, KILL what is left, and reap our own
# children. Prints one line per process; with SAY_GONE=1 also for those already gone.
# shellcheck disable=SC2154  # names, pids and ids are the caller's arrays
augur_stop_procs() {
  local grace=$1 poll=$2 say_gone=$3 i any
  local -a live=()
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    if augur_pid_is "${pids[i]}" "${ids[i]}"; then
      kill -TERM "${pids[i]}" 2>/dev/null || true
      live+=("$i")
    elif [ "$say_gone" = 1 ]; then
      echo "  ${names[i]} (pid ${pids[i]}) already gone"
    fi
  done
  local deadline=$((SECONDS + grace))
  while [ ${#live[@]} -gt 0 ]; do
    any=0
    for i in "${live[@]}"; do augur_pid_is "${pids[i]}" "${ids[i]}" && any=1; done
    [ "$any" = 0 ] && break
    [ "$SECONDS" -ge "$deadline" ] && break
    sleep "$poll"
  done
  for i in "${live[@]}"; do
    if augur_pid_is "${pids[i]}" "${ids[i]}"; then
      kill -KILL "${pids[i]}" 2>/dev/null || true
      echo "  ${names[i]} (pid ${pids[i]}) killed after ${grace}s"
    else
      echo "  ${names[i]} (pid ${pids[i]}) stopped"
    fi
  done
  # Reap them when they are our own children (up.sh cleaning up after a failed start).
  for i in "${live[@]}"; do wait "${pids[i]}" 2>/dev/null || true; done
}
