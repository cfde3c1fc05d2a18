#!/usr/bin/env bash
# Starts an augur cluster in which every process has its own network namespace, the way the
# processes would sit on separate hosts: N shards, the oracle and W workers, each in namespace
# augur-e2e-ID-{sI,o,wI} with one veth into a private bridge (aeIDbr, subnet 10.231.K.0/24, the
# bridge itself is .1 so this host reaches every service). With --rate, each shard's link is
# shaped in both directions with a token bucket (tc tbf), so every row a worker fetches from a
# shard or writes back crosses a slow link, while oracle <-> worker traffic does not.
#
# Every service binds its namespace's own address (never 0.0.0.0). Waits until each process
# has logged that it is listening, then writes RUN_DIR/cluster.yaml, RUN_DIR/pids and
# RUN_DIR/netns.state (what down.sh undoes). Exit code 77 (and the reason) where network
# namespaces, veths or tc are not permitted. --loopback runs the same cluster on 127.0.0.1
# without namespaces (no rate limit), for machines without them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=deploy/netns/lib.sh
. "$here/lib.sh"

usage() {
  cat <<'USAGE'
usage: deploy/netns/up.sh [options]
  --shards N          embedding shards (default 2)
  --workers W         training workers (default 2)
  --rate R            shape every shard link to R in each direction (tc tbf), e.g. 100mbit
  --burst B           tbf bucket size (default: 10 ms of R, at least 32kb)
  --latency L         tbf queueing limit (default 200ms)
  --run-dir DIR       logs, shard data, pids, cluster.yaml (default ./run/netns)
  --job FILE          a job spec the oracle submits at start
  --one-job           workers exit after one job, the oracle when no job is left
  --profile P         shard storage profile: memory | ssd (default memory)
  --bin-dir DIR       where the augur-* binaries are (default $AUGUR_BIN_DIR or build/bin)
  --id ID             name tag for namespaces and links, 1-5 of [a-z0-9] (default random)
  --subnet A.B.C      the /24 to use (default the first free 10.231.C)
  --loopback          no namespaces: everything on 127.0.0.1, kernel-chosen ports
  --shard-arg ARG     extra argument for every augur-shard (repeatable)
  --oracle-arg ARG    extra argument for augur-oracle (repeatable)
  --worker-arg ARG    extra argument for every augur-worker (repeatable)
  --timeout S         seconds to wait for each process to listen (default 60)
  --log-level L       trace|debug|info|warn|error (default info)
  -h, --help          this text
USAGE
}

shards=2 workers=2 rate="" burst="" latency=200ms run_dir=./run/netns job="" one_job=0
profile=memory bin_dir=${AUGUR_BIN_DIR:-$root/build/bin} id="" subnet="" loopback=0
timeout_s=60 log_level=info
shard_args=() oracle_args=() worker_args=()
need() { [ $# -ge 2 ] && [ -n "$2" ] || augur_die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) need "$@"; shards=$2; shift 2 ;;
    --workers) need "$@"; workers=$2; shift 2 ;;
    --rate) need "$@"; rate=$2; shift 2 ;;
    --burst) need "$@"; burst=$2; shift 2 ;;
    --latency) need "$@"; latency=$2; shift 2 ;;
    --run-dir) need "$@"; run_dir=$2; shift 2 ;;
    --job) need "$@"; job=$2; shift 2 ;;
    --one-job) one_job=1; shift ;;
    --profile) need "$@"; profile=$2; shift 2 ;;
    --bin-dir) need "$@"; bin_dir=$2; shift 2 ;;
    --id) need "$@"; id=$2; shift 2 ;;
    --subnet) need "$@"; subnet=$2; shift 2 ;;
    --loopback) loopback=1; shift ;;
    --shard-arg) need "$@"; shard_args+=("$2"); shift 2 ;;
    --oracle-arg) need "$@"; oracle_args+=("$2"); shift 2 ;;
    --worker-arg) need "$@"; worker_args+=("$2"); shift 2 ;;
    --timeout) need "$@"; timeout_s=$2; shift 2 ;;
    --log-level) need "$@"; log_level=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) augur_die "unknown argument '$1' (see --help)" ;;
  esac
done

isnum() { [[ $1 =~ ^[0-9]+$ ]]; }
isnum "$shards" && [ "$shards" -ge 1 ] && [ "$shards" -le 80 ] || augur_die "--shards must be in 1..80, got '$shards'"
isnum "$workers" && [ "$workers" -ge 1 ] && [ "$workers" -le 100 ] || augur_die "--workers must be in 1..100, got '$workers'"
isnum "$timeout_s" || augur_die "--timeout must be seconds, got '$timeout_s'"
case "$profile" in memory | ssd | pmem) ;; *) augur_die "--profile must be memory, ssd or pmem, got '$profile'" ;; esac
[ -z "$id" ] || [[ $id =~ ^[a-z0-9]{1,5}$ ]] || augur_die "--id must be 1-5 characters of [a-z0-9], got '$id'"
[ -z "$subnet" ] || [[ $subnet =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || augur_die "--subnet must look like 10.231.7, got '$subnet'"
[ -z "$job" ] || [ -f "$job" ] || augur_die "no job file $job"
[ -z "$job" ] || job=$(cd "$(dirname "$job")" && pwd)/$(basename "$job")
bin_dir=$(cd "$bin_dir" 2>/dev/null && pwd) || augur_die "no binary dir $bin_dir (build first)"
for b in augur-shard augur-oracle augur-worker; do
  [ -x "$bin_dir/$b" ] || augur_die "$bin_dir/$b is missing (build it: ninja -C build $b)"
done

if [ -n "$rate" ]; then
  bps=$(rate_bps "$rate") || augur_die "--rate must look like 100mbit, got '$rate'"
  [ "$bps" -gt 0 ] || augur_die "--rate must be positive"
  if [ -z "$burst" ]; then
    burst=$((bps / 8 / 100))
    [ "$burst" -ge 32768 ] || burst=32768
  fi
fi

mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)
state=$run_dir/netns.state
if [ -f "$state" ]; then
  while read -r kind name pid exe; do
    if [ "$kind" = pid ] && augur_pid_is "$pid" "$exe"; then
      augur_die "a cluster is already running in $run_dir ($name is pid $pid); stop it with deploy/netns/down.sh --run-dir $run_dir"
    fi
    if [ "$kind" = ns ] && [ -e "/run/netns/$name" ]; then
      augur_die "namespace $name of an earlier cluster in $run_dir still exists; run deploy/netns/down.sh --run-dir $run_dir"
    fi
  done <"$state"
fi
rm -f "$state" "$run_dir/pids" "$run_dir/cluster.yaml"
mkdir -p "$run_dir/logs"
: >"$state"
record() { echo "$*" >>"$state"; }

# Anything that goes wrong from here on undoes what this script created.
started_ok=0
cleanup() {
  local rc=$?
  if [ "$started_ok" != 1 ]; then
    echo "up.sh: undoing what was started" >&2
    augur_stop_state "$state" 5 >&2 || true
    augur_delete_net "$state" >&2 || true
    rm -f "$state" "$run_dir/pids" "$run_dir/cluster.yaml"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip() {  # exit 77: this machine does not permit what the cluster needs
  echo "SKIP: $*" >&2
  exit 77
}

# ---------------------------------------------------------------- network
if [ "$loopback" = 1 ]; then
  [ -z "$rate" ] || echo "up.sh: WARNING: --loopback cannot shape links; --rate $rate ignored" >&2
  rate=""
  mode=loopback
else
  mode=netns
  command -v ip >/dev/null || skip "network namespaces: the 'ip' command (iproute2) is not installed"
  [ -z "$rate" ] || command -v tc >/dev/null || skip "rate limiting: the 'tc' command (iproute2) is not installed"
  if [ -z "$id" ]; then
    for _ in 1 2 3 4 5 6 7 8; do
      id=$(printf '%04x' $((RANDOM % 65536)))
      ip link show "ae${id}br" >/dev/null 2>&1 || break
    done
  fi
  ip link show "ae${id}br" >/dev/null 2>&1 && augur_die "bridge ae${id}br already exists (another cluster with --id $id?)"
  if [ -z "$subnet" ]; then
    used=$(ip -4 -o addr show 2>/dev/null; ip -4 route show 2>/dev/null)
    for c in $(seq 1 254); do
      grep -q "10\.231\.$c\." <<<"$used" || { subnet=10.231.$c; break; }
    done
    [ -n "$subnet" ] || augur_die "no free 10.231.C.0/24 subnet; pass --subnet"
  fi
  br=ae${id}br
  probe_err=$(ip link add "$br" type bridge 2>&1) || skip "cannot create a bridge (network namespaces not permitted here?): $probe_err"
  record link "$br"
  ip link set dev "$br" type bridge nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 2>/dev/null || true
  ip addr add "$subnet.1/24" dev "$br"
  ip link set "$br" up
fi

# node_add NODE HOSTNUM: namespace augur-e2e-ID-NODE with eth0 = SUBNET.HOSTNUM on the bridge.
node_add() {
  local node=$1 num=$2 ns=${AUGUR_NETNS_PREFIX}${id}-$1 host=ae${id}$1 err
  err=$(ip netns add "$ns" 2>&1) || skip "cannot create network namespace $ns: $err"
  record ns "$ns"
  err=$(ip link add "$host" type veth peer name "${host}p" 2>&1) || skip "cannot create a veth pair: $err"
  record link "$host"
  ip link set "${host}p" netns "$ns"
  ip -n "$ns" link set "${host}p" name eth0
  ip -n "$ns" addr add "$subnet.$num/24" dev eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  ip link set "$host" master "$br"
  ip link set "$host" up
}

# shape NODE: tbf on both ends of NODE's veth (egress of each end = one direction).
shape() {
  local node=$1 ns=${AUGUR_NETNS_PREFIX}${id}-$1 host=ae${id}$1 err
  err=$(ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "$rate" burst "$burst" latency "$latency" 2>&1) ||
    skip "cannot add a tbf qdisc ($err)"
  err=$(tc qdisc add dev "$host" root tbf rate "$rate" burst "$burst" latency "$latency" 2>&1) ||
    skip "cannot add a tbf qdisc ($err)"
}

declare -A addr_of
if [ "$mode" = netns ]; then
  node_add o 2
  addr_of[o]=$subnet.2
  for ((i = 0; i < shards; i++)); do
    node_add "s$i" $((10 + i))
    addr_of[s$i]=$subnet.$((10 + i))
    [ -z "$rate" ] || shape "s$i"
  done
  for ((i = 0; i < workers; i++)); do
    node_add "w$i" $((100 + i))
    addr_of[w$i]=$subnet.$((100 + i))
  done
else
  for n in o $(seq -f 's%g' 0 $((shards - 1))) $(seq -f 'w%g' 0 $((workers - 1))); do addr_of[$n]=127.0.0.1; done
fi

# ---------------------------------------------------------------- processes
# launch NODE LOG EXE ARGS...: starts EXE inside NODE's namespace in its own session (a later
# Ctrl-C in this terminal does not reach it), stdin closed, output to LOG. setsid and
# `ip netns exec` both exec, so $! is EXE's own pid. Sets LAUNCHED_PID.
launch() {
  local node=$1 log=$2 exe=$3
  shift 3
  : >"$log"
  if [ "$mode" = netns ]; then
    setsid ip netns exec "${AUGUR_NETNS_PREFIX}${id}-$node" "$exe" "$@" </dev/null >>"$log" 2>&1 &
  else
    setsid "$exe" "$@" </dev/null >>"$log" 2>&1 &
  fi
  LAUNCHED_PID=$!
  record pid "$node" "$LAUNCHED_PID" "$exe"
}

# wait_port NAME PID LOG REGEX: waits for a line of LOG matching REGEX and prints the port of
# the last host:port in it.
wait_port() {
  local name=$1 pid=$2 log=$3 re=$4 line deadline=$((SECONDS + timeout_s))
  while :; do
    line=$(grep -aoE "$re" "$log" 2>/dev/null | tail -n 1 || true)
    if [ -n "$line" ]; then
      grep -oE ':[0-9]+' <<<"$line" | tail -n 1 | tr -d :
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "up.sh: $name (pid $pid) exited before it was listening; last lines of $log:" >&2
      tail -n 20 "$log" | sed 's/^/  | /' >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "up.sh: $name (pid $pid) did not log '$re' within ${timeout_s}s; last lines of $log:" >&2
      tail -n 20 "$log" | sed 's/^/  | /' >&2
      return 1
    fi
    sleep 0.05
  done
}

# Fixed ports in namespaces (each process has its own address); port 0 on loopback.
p() { if [ "$mode" = netns ]; then echo "$1"; else echo 0; fi; }

shard_grpc=() shard_metrics=() shard_pids=()
for ((i = 0; i < shards; i++)); do
  log=$run_dir/logs/shard-$i.log a=${addr_of[s$i]}
  mkdir -p "$run_dir/shard-$i"
  launch "s$i" "$log" "$bin_dir/augur-shard" \
    --listen "$a:$(p 7000)" --metrics-listen "$a:$(p 9090)" \
    --data-dir "$run_dir/shard-$i/data" --profile "$profile" \
    --shard-index "$i" --num-shards "$shards" --log-level "$log_level" ${shard_args[@]+"${shard_args[@]}"}
  shard_pids+=("$LAUNCHED_PID")
done
for ((i = 0; i < shards; i++)); do
  log=$run_dir/logs/shard-$i.log a=${addr_of[s$i]}
  port=$(wait_port "shard-$i" "${shard_pids[i]}" "$log" 'augur-shard listening on [^ ]+')
  shard_grpc+=("$a:$port")
  port=$(wait_port "shard-$i" "${shard_pids[i]}" "$log" 'augur-shard metrics on [^ ]+')
  shard_metrics+=("$a:$port")
done
shard_list=$(IFS=,; echo "${shard_grpc[*]}")

a=${addr_of[o]} log=$run_dir/logs/oracle.log
oargs=(--listen "$a:$(p 7100)" --metrics-listen "$a:$(p 9090)" --shards "$shard_list" --log-level "$log_level")
[ -z "$job" ] || oargs+=(--job "$job")
[ "$one_job" = 0 ] || oargs+=(--exit-when-idle)
launch o "$log" "$bin_dir/augur-oracle" "${oargs[@]}" ${oracle_args[@]+"${oracle_args[@]}"}
oracle_pid=$LAUNCHED_PID
oracle_grpc=$a:$(wait_port oracle "$oracle_pid" "$log" 'augur-oracle listening on [^ ]+')
oracle_metrics=$a:$(wait_port oracle "$oracle_pid" "$log" 'augur-oracle metrics on [^ ]+')

worker_pids=() worker_metrics=()
for ((i = 0; i < workers; i++)); do
  a=${addr_of[w$i]} log=$run_dir/logs/worker-$i.log
  wargs=(--oracle "$oracle_grpc" --worker-index "$i" --hostname "$a" --metrics-listen "$a:$(p 9090)"
    --output-dir "$run_dir/worker-$i" --log-level "$log_level")
  [ "$one_job" = 0 ] || wargs+=(--exit-after-job)
  launch "w$i" "$log" "$bin_dir/augur-worker" "${wargs[@]}" ${worker_args[@]+"${worker_args[@]}"}
  worker_pids+=("$LAUNCHED_PID")
done
for ((i = 0; i < workers; i++)); do
  a=${addr_of[w$i]}
  worker_metrics+=("$a:$(wait_port "worker-$i" "${worker_pids[i]}" "$run_dir/logs/worker-$i.log" 'augur-worker metrics on [^ ]+')")
done

# ---------------------------------------------------------------- cluster.yaml and pids
ns_of() { if [ "$mode" = netns ]; then echo "${AUGUR_NETNS_PREFIX}${id}-$1"; else echo "-"; fi; }
{
  echo "# written by deploy/netns/up.sh; stop with deploy/netns/down.sh --run-dir $run_dir"
  echo "run_dir: $run_dir"
  echo "network: {mode: $mode, id: \"${id}\", bridge: \"${br:-}\", subnet: \"${subnet:+$subnet.0/24}\", shard_link_rate: \"${rate}\", burst: \"${burst}\", latency: \"${rate:+$latency}\"}"
  echo "oracle: {grpc: $oracle_grpc, metrics: $oracle_metrics, pid: $oracle_pid, netns: $(ns_of o), log: $run_dir/logs/oracle.log}"
  echo "shards:"
  for ((i = 0; i < shards; i++)); do
    echo "  - {grpc: ${shard_grpc[i]}, metrics: ${shard_metrics[i]}, pid: ${shard_pids[i]}, netns: $(ns_of "s$i"), log: $run_dir/logs/shard-$i.log}"
  done
  echo "workers:"
  for ((i = 0; i < workers; i++)); do
    echo "  - {index: $i, metrics: ${worker_metrics[i]}, pid: ${worker_pids[i]}, netns: $(ns_of "w$i"), log: $run_dir/logs/worker-$i.log}"
  done
} >"$run_dir/cluster.yaml"
awk '$1 == "pid" {print $2, $3}' "$state" >"$run_dir/pids"

started_ok=1
echo "augur netns cluster up ($mode${rate:+, shard links $rate}): oracle $oracle_grpc, shards $shard_list, $workers workers"
echo "  $run_dir/cluster.yaml; stop: $here/down.sh --run-dir $run_dir"
