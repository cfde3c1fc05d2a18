#!/usr/bin/env bash
# Starts a local augur cluster as plain processes bound to loopback: N shards, the oracle and W
# workers, each with its own log file and Prometheus /metrics port. Waits until each one has
# logged that it is listening, then writes RUN_DIR/pids and RUN_DIR/cluster.yaml (what
# `augur submit --cluster RUN_DIR/cluster.yaml` reads). Stop it with down.sh, look at it with
# status.sh.
#
# Ports: by default every process binds port 0 and up.sh reads the port the kernel gave it back
# from the process's log line, so two clusters never race for a port and can run side by side
# (use different --run-dir). --base-port P instead uses fixed ports: shards P+i, oracle P+100,
# shard metrics P+2000+i, oracle metrics P+2100, worker metrics P+2200+w.
#
# --supervise starts every process under deploy/local/supervise.sh, which starts it again on
# the same addresses whenever it exits (kill -9 included), the way Kubernetes restarts a pod:
# a job with checkpoints then recovers by itself (README "Jobs that survive"). RUN_DIR/pids and
# cluster.yaml name the supervisors; RUN_DIR/supervise/NAME.pid the process each one runs now.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"

usage() {
  cat <<'USAGE'
usage: deploy/local/up.sh [options]
  --shards N          embedding shards (default 2)
  --workers W         training workers (default 2; 0: shards and oracle only, e.g. for a
                      benchmark that brings its own plan consumers)
  --backend B         cpu | cuda (default cpu); cuda pins worker w to GPU w mod #GPUs
                      (multi-worker CUDA jobs all-reduce over NCCL: one GPU per worker).
                      The backend a job trains on is its spec's training.backend.
  --run-dir DIR       logs, shard data, pids, cluster.yaml (default ./run/local)
  --base-port P       fixed ports from P (default: kernel-chosen free ports)
  --profile P         shard storage profile: memory | ssd (default memory)
  --state-dir DIR     the oracle's durable job state (default RUN_DIR/oracle-state): a cluster
                      started again on the same run dir knows every earlier job and id
  --no-state          keep the oracle's jobs in memory only
  --supervise         restart any process that exits, on its addresses (supervise.sh)
  --bin-dir DIR       where the augur-* binaries are (default $AUGUR_BIN_DIR or build/bin)
  --timeout S         seconds to wait for each process to listen (default 60)
  --log-level L       trace|debug|info|warn|error (default info)
  --planner-threads N threads each job's oracle planner uses (default 1; augur-oracle --help)
  --tls-cert F --tls-key F --tls-ca F
                      serve every gRPC service over TLS with this certificate and key (valid
                      for 127.0.0.1), and dial it trusting the CA in F
  --token-file F      require this bearer token on every call (needs the TLS flags)
  --shard-flag F      pass F to every augur-shard (repeatable), e.g.
                      --shard-flag --emulate-link-bytes-per-s=125000 (tests of a slow link)
  -h, --help          this text
With TLS, cluster.yaml names the CA and token file, so `augur ... --cluster` uses them.
USAGE
}

shards=2 workers=2 backend=cpu run_dir=./run/local base_port="" profile=memory
bin_dir=${AUGUR_BIN_DIR:-$root/build/bin} timeout_s=60 log_level=info planner_threads=1
shard_flags=()
tls_cert="" tls_key="" tls_ca="" token_file="" state_dir="" no_state=0 supervise=0
need() { [ $# -ge 2 ] && [ -n "$2" ] || augur_die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) need "$@"; shards=$2; shift 2 ;;
    --workers) need "$@"; workers=$2; shift 2 ;;
    --backend) need "$@"; backend=$2; shift 2 ;;
    --run-dir) need "$@"; run_dir=$2; shift 2 ;;
    --base-port) need "$@"; base_port=$2; shift 2 ;;
    --profile) need "$@"; profile=$2; shift 2 ;;
    --state-dir) need "$@"; state_dir=$2; shift 2 ;;
    --no-state) no_state=1; shift ;;
    --supervise) supervise=1; shift ;;
    --bin-dir) need "$@"; bin_dir=$2; shift 2 ;;
    --timeout) need "$@"; timeout_s=$2; shift 2 ;;
    --log-level) need "$@"; log_level=$2; shift 2 ;;
    --planner-threads) need "$@"; planner_threads=$2; shift 2 ;;
    --shard-flag) need "$@"; shard_flags+=("$2"); shift 2 ;;
    --tls-cert) need "$@"; tls_cert=$(realpath "$2"); shift 2 ;;
    --tls-key) need "$@"; tls_key=$(realpath "$2"); shift 2 ;;
    --tls-ca) need "$@"; tls_ca=$(realpath "$2"); shift 2 ;;
    --token-file) need "$@"; token_file=$(realpath "$2"); shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) augur_die "unknown argument '$1' (see --help)" ;;
  esac
done

isnum() { [[ $1 =~ ^[0-9]+$ ]]; }
isnum "$shards" && [ "$shards" -ge 1 ] || augur_die "--shards must be a positive integer, got '$shards'"
isnum "$workers" && [ "$workers" -le 64 ] || augur_die "--workers must be in 0..64, got '$workers'"
isnum "$planner_threads" && [ "$planner_threads" -ge 1 ] && [ "$planner_threads" -le 64 ] ||
  augur_die "--planner-threads must be in 1..64, got '$planner_threads'"
isnum "$timeout_s" || augur_die "--timeout must be seconds, got '$timeout_s'"
case "$backend" in cpu | cuda) ;; *) augur_die "--backend must be cpu or cuda, got '$backend'" ;; esac
case "$profile" in memory | ssd | pmem) ;; *) augur_die "--profile must be memory or ssd, got '$profile'" ;; esac
# Transport security: the same files for every process. Shards serve (gRPC, /metrics); the
# oracle and workers serve and dial, trusting the CA; the token rides along on every call.
serve_sec=() all_sec=()
if [ -n "$tls_cert$tls_key$tls_ca" ]; then
  [ -n "$tls_cert" ] && [ -n "$tls_key" ] && [ -n "$tls_ca" ] ||
    augur_die "--tls-cert, --tls-key and --tls-ca go together"
  for f in "$tls_cert" "$tls_key" "$tls_ca"; do [ -r "$f" ] || augur_die "cannot read $f"; done
  serve_sec=(--tls-cert "$tls_cert" --tls-key "$tls_key")
  all_sec=("${serve_sec[@]}" --tls-ca "$tls_ca")
fi
if [ -n "$token_file" ]; then
  [ -n "$tls_ca" ] || augur_die "--token-file needs the TLS flags: a token is never sent in the clear"
  [ -r "$token_file" ] || augur_die "cannot read $token_file"
  serve_sec+=(--token-file "$token_file") all_sec+=(--token-file "$token_file")
fi
if [ -n "$base_port" ]; then
  isnum "$base_port" && [ "$base_port" -ge 1024 ] && [ "$base_port" -le 63000 ] ||
    augur_die "--base-port must be in 1024..63000, got '$base_port'"
  [ "$shards" -le 100 ] && [ "$workers" -le 100 ] || augur_die "--base-port allows at most 100 shards and workers"
fi
bin_dir=$(cd "$bin_dir" 2>/dev/null && pwd) || augur_die "no binary dir $bin_dir (build first: cmake --build build)"
for b in augur-shard augur-oracle augur-worker; do
  [ -x "$bin_dir/$b" ] || augur_die "$bin_dir/$b is missing (build it: ninja -C build $b)"
done
ngpus=0
if [ "$backend" = cuda ]; then
  command -v nvidia-smi >/dev/null || augur_die "--backend cuda but nvidia-smi is not installed"
  ngpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
  [ "$ngpus" -ge 1 ] || augur_die "--backend cuda but nvidia-smi lists no GPU"
  # CUDA workers of one job all-reduce over NCCL, which refuses two ranks on one GPU.
  if [ "$workers" -gt 1 ] && [ "$workers" -gt "$ngpus" ]; then
    echo "up.sh: warning: $workers workers share $ngpus GPU(s); a job with training.backend cuda" \
      "and more than one worker will fail (NCCL needs a GPU per worker)" >&2
  fi
fi

mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)
pids_file=$run_dir/pids
if [ -f "$pids_file" ]; then
  while read -r name pid _ _ start; do
    if [ -n "${pid:-}" ] && augur_pid_is "$pid" "$start"; then
      augur_die "a cluster is already running in $run_dir ($name is pid $pid); stop it with deploy/local/down.sh --run-dir $run_dir"
    fi
  done <"$pids_file"
fi
rm -f "$pids_file" "$run_dir/cluster.yaml"
rm -rf "$run_dir/supervise"
mkdir -p "$run_dir/logs"
: >"$pids_file"

# Anything that goes wrong from here on stops what this script started.
started_ok=0
cleanup() {
  local rc=$?
  if [ "$started_ok" != 1 ]; then
    [ -s "$pids_file" ] && echo "up.sh: stopping what was started" >&2
    augur_stop_pids_file "$pids_file" 5 >&2
    rm -f "$pids_file" "$run_dir/cluster.yaml"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port() { if [ -n "$base_port" ]; then echo $((base_port + $1)); else echo 0; fi; }

# With fixed ports, refuse ports something already listens on. The binaries bind with
# SO_REUSEPORT (gRPC and cpp-httplib both set it), so a second server on a taken port would
# start "fine" and share the first one's traffic instead of failing.
if [ -n "$base_port" ]; then
  offsets=(100 2100)
  for ((i = 0; i < shards; i++)); do offsets+=("$i" $((2000 + i))); done
  for ((w = 0; w < workers; w++)); do offsets+=($((2200 + w))); done
  for off in "${offsets[@]}"; do
    p=$((base_port + off))
    if timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$p" 2>/dev/null; then
      augur_die "port $p (--base-port $base_port + $off) is already in use; pick another --base-port or leave it out"
    fi
  done
fi

# launch NAME LOG EXE ARGS...: starts EXE in its own session (a later Ctrl-C in this terminal
# does not reach it), stdin closed, stdout+stderr to LOG. Sets LAUNCHED_PID and LAUNCHED_START.
launch() {
  local name=$1 log=$2 exe=$3
  shift 3
  : >"$log"
  if [ "$supervise" = 1 ]; then
    mkdir -p "$run_dir/supervise"
    setsid "$here/supervise.sh" "$name" "$run_dir/supervise/$name.pid" "$log" -- "$exe" "$@" \
      </dev/null >>"$log" 2>&1 &
  else
    setsid "$exe" "$@" </dev/null >>"$log" 2>&1 &
  fi
  LAUNCHED_PID=$!
  LAUNCHED_START=$(augur_start_time "$LAUNCHED_PID")
}

# wait_for NAME PID LOG REGEX: waits until LOG has a line matching REGEX (an extended regex
# whose last "host:port" is the bound address) and prints that host:port.
wait_for() {
  local name=$1 pid=$2 log=$3 re=$4 line deadline=$((SECONDS + timeout_s))
  while :; do
    line=$(grep -aoE "$re" "$log" 2>/dev/null | tail -n 1 || true)
    if [ -n "$line" ]; then
      grep -oE '[0-9A-Za-z.-]+:[0-9]+' <<<"$line" | tail -n 1
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "up.sh: $name (pid $pid) exited before it was listening; last lines of $log:" >&2
      { [ -s "$log" ] && tail -n 20 "$log" || echo "(empty)"; } | sed 's/^/  | /' >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "up.sh: $name (pid $pid) did not log '$re' within ${timeout_s}s; last lines of $log:" >&2
      { [ -s "$log" ] && tail -n 20 "$log" || echo "(empty)"; } | sed 's/^/  | /' >&2
      return 1
    fi
    sleep 0.1
  done
}

record() { echo "$*" >>"$pids_file"; }

# Shards first (the oracle needs their addresses), then the oracle, then the workers.
shard_grpc=() shard_metrics=() shard_pids=() shard_starts=()
for ((i = 0; i < shards; i++)); do
  log=$run_dir/logs/shard-$i.log
  mkdir -p "$run_dir/shard-$i"
  launch "shard-$i" "$log" "$bin_dir/augur-shard" \
    --listen "127.0.0.1:$(port "$i")" --metrics-listen "127.0.0.1:$(port $((2000 + i)))" \
    --data-dir "$run_dir/shard-$i/data" --profile "$profile" \
    --shard-index "$i" --num-shards "$shards" --log-level "$log_level" \
    "${serve_sec[@]}" "${shard_flags[@]}"
  shard_pids+=("$LAUNCHED_PID") shard_starts+=("$LAUNCHED_START")
  record "shard-$i $LAUNCHED_PID - - $LAUNCHED_START"
done
for ((i = 0; i < shards; i++)); do
  log=$run_dir/logs/shard-$i.log
  shard_grpc+=("$(wait_for "shard-$i" "${shard_pids[i]}" "$log" 'augur-shard listening on [^ ]+:[0-9]+')")
  shard_metrics+=("$(wait_for "shard-$i" "${shard_pids[i]}" "$log" 'augur-shard metrics on [^ ]+:[0-9]+')")
done
# Rewrite the shard lines with their endpoints.
: >"$pids_file"
for ((i = 0; i < shards; i++)); do
  record "shard-$i ${shard_pids[i]} ${shard_grpc[i]} ${shard_metrics[i]} ${shard_starts[i]}"
done
shard_list=$(IFS=,; echo "${shard_grpc[*]}")

log=$run_dir/logs/oracle.log
state_args=()
if [ "$no_state" != 1 ]; then
  state_dir=${state_dir:-$run_dir/oracle-state}
  mkdir -p "$state_dir"
  state_args=(--state-dir "$(cd "$state_dir" && pwd)")
fi
launch oracle "$log" "$bin_dir/augur-oracle" \
  --listen "127.0.0.1:$(port 100)" --metrics-listen "127.0.0.1:$(port 2100)" \
  --shards "$shard_list" --log-level "$log_level" --planner-threads "$planner_threads" \
  "${state_args[@]}" "${all_sec[@]}"
oracle_pid=$LAUNCHED_PID
record "oracle $oracle_pid - - $LAUNCHED_START"
oracle_grpc=$(wait_for oracle "$oracle_pid" "$log" 'augur-oracle listening on [^ ]+:[0-9]+')
oracle_metrics=$(wait_for oracle "$oracle_pid" "$log" 'augur-oracle metrics on (https?://)?[^ /]+:[0-9]+')
sed -i "s|^oracle $oracle_pid - - |oracle $oracle_pid $oracle_grpc $oracle_metrics |" "$pids_file"

worker_pids=() worker_metrics=()
# Supervised workers stuck in a collective with a dead peer exit after 5 s instead of Gloo's
# 60 s timeout: their supervisor restarts them and the job's recovery goes on.
stuck_args=()
[ "$supervise" = 1 ] && stuck_args=(--exit-when-stuck 5)
mkdir -p "$run_dir/models"
for ((w = 0; w < workers; w++)); do
  log=$run_dir/logs/worker-$w.log
  if [ "$backend" = cuda ]; then export CUDA_VISIBLE_DEVICES=$((w % ngpus)); fi
  # Workers wait for jobs for as long as the cluster lives (a year), not the default 10 minutes.
  launch "worker-$w" "$log" "$bin_dir/augur-worker" \
    --oracle "$oracle_grpc" --worker-index "$w" --metrics-listen "127.0.0.1:$(port $((2200 + w)))" \
    --output-dir "$run_dir/models" --register-timeout 31536000 --log-level "$log_level" \
    "${stuck_args[@]}" "${all_sec[@]}"
  worker_pids+=("$LAUNCHED_PID")
  record "worker-$w $LAUNCHED_PID - - $LAUNCHED_START"
done
unset CUDA_VISIBLE_DEVICES
for ((w = 0; w < workers; w++)); do
  worker_metrics+=("$(wait_for "worker-$w" "${worker_pids[w]}" "$run_dir/logs/worker-$w.log" \
    'augur-worker metrics on (https?://)?[^ /]+:[0-9]+')")
  sed -i "s|^worker-$w ${worker_pids[w]} - - |worker-$w ${worker_pids[w]} - ${worker_metrics[w]} |" "$pids_file"
done

# cluster.yaml: the contract with `augur ... --cluster FILE`. Keep this exact shape.
tmp=$run_dir/cluster.yaml.tmp
{
  echo "run_dir: $run_dir"
  echo "oracle: {grpc: \"$oracle_grpc\", metrics: \"$oracle_metrics\", pid: $oracle_pid}"
  echo "shards:"
  for ((i = 0; i < shards; i++)); do
    echo "  - {grpc: \"${shard_grpc[i]}\", metrics: \"${shard_metrics[i]}\", pid: ${shard_pids[i]}}"
  done
  echo "workers:"
  for ((w = 0; w < workers; w++)); do
    echo "  - {index: $w, metrics: \"${worker_metrics[w]}\", pid: ${worker_pids[w]}}"
  done
  if [ -n "$tls_ca" ]; then
    echo "security: {tls_ca: \"$tls_ca\"${token_file:+, token_file: \"$token_file\"}}"
  fi
  echo "# backend: $backend, profile: $profile, logs: $run_dir/logs"
} >"$tmp"
mv "$tmp" "$run_dir/cluster.yaml"
# A Prometheus scrape config for this cluster (prometheus --config.file RUN_DIR/prometheus.yml),
# to go with deploy/grafana/augur-dashboard.json.
{
  echo "# Written by deploy/local/up.sh for the cluster in $run_dir."
  echo "global: {scrape_interval: 5s}"
  echo "scrape_configs:"
  sec_cfg=""
  if [ -n "$tls_ca" ]; then sec_cfg="    scheme: https
    tls_config: {ca_file: \"$tls_ca\"}"; fi
  if [ -n "$token_file" ]; then sec_cfg="$sec_cfg
    authorization: {credentials_file: \"$token_file\"}"; fi
  echo "  - job_name: augur-shard"
  echo "    static_configs: [{targets: [$(printf '"%s",' "${shard_metrics[@]}" | sed 's/,$//')]}]"
  [ -z "$sec_cfg" ] || echo "$sec_cfg"
  echo "  - job_name: augur-oracle"
  echo "    static_configs: [{targets: [\"$oracle_metrics\"]}]"
  [ -z "$sec_cfg" ] || echo "$sec_cfg"
  echo "  - job_name: augur-worker"
  echo "    static_configs: [{targets: [$(printf '"%s",' "${worker_metrics[@]}" | sed 's/,$//')]}]"
  [ -z "$sec_cfg" ] || echo "$sec_cfg"
} >"$run_dir/prometheus.yml"
started_ok=1

echo "augur local cluster up: $shards shard(s), oracle $oracle_grpc, $workers worker(s) ($backend)"
echo "  cluster file: $run_dir/cluster.yaml"
echo "  logs:         $run_dir/logs/"
echo "  submit:       $bin_dir/augur submit JOB.yaml --cluster $run_dir/cluster.yaml --follow"
echo "  stop:         $here/down.sh --run-dir $run_dir"
