#!/usr/bin/env bash
# End-to-end benchmark: the same training job under cache.policy none, prefetch1 and oracle, on a
# real cluster (2 shards, the oracle, 2 CPU workers as separate processes) whose shards sit
# behind a slow link (deploy/netns: one network namespace per process, tc tbf on the shard
# links). Prints one JSON line per policy, one with the speed-ups over `none`, and one with the
# oracle's offline planning throughput (augur-oracle --plan-only) on criteo-kaggle synthetic
# data (26 sparse features). Never a ctest test.
#
# Each policy line carries the run's bound: samples / max(compute-only time, busiest shard link
# direction's bytes / link rate), the compute-only time from the same job (oracle policy) on
# plain loopback run first, the bytes from the shard namespaces' eth0 counters (everything the
# link carried: fills, write-backs, gradients, lookups); `efficiency` = achieved / bound, and
# the same for the steady state after the first 10% of iterations (`steady_efficiency`), and
# `step_seconds_by_stage`: the workers' step time by stage (fill_wait, batch, compute,
# reduce_update, evict, writeback_wait, push_wait; seconds per worker, from their /metrics), and
# `link_busy`: per shard link and direction, the fraction of the run it carried bytes at the
# link rate (host-side veth counters sampled every 0.2 s; the raw samples stay in
# WORK_DIR/links-POLICY.txt: time, then to/from bytes per shard).
#
#   bench/e2e/run.sh [--rate 10mbit] [--samples 300000] [--iterations 150] [--batch 512] ...
#
# Where network namespaces are not permitted it runs on plain loopback and says so in a
# WARNING line (and "link": "loopback" in the JSON): then nothing is slow but the CPUs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

usage() {
  cat <<'USAGE'
usage: bench/e2e/run.sh [options]
  --rate R            shard link rate, each direction (default 10mbit)
  --samples N         training samples generated (default 300000)
  --iterations N      iterations per policy (default 100)
  --batch B           samples per worker per iteration (default 512)
  --workers W         CPU workers (default 2)
  --shards N          shards (default 2)
  --capacity C        cache rows per worker (default 65536; any size works: the shard client cuts and flow-controls the final flush)
  --lookahead L       oracle lookahead (default 64)
  --prefetch-distance D  (default 8)
  --plans-in-flight P (default 16; plan batches are cut at ~2 MiB whatever P is)
  --policies LIST     comma-separated (default none,prefetch1,oracle)
  --plan-samples N    samples for the --plan-only line (default 2000000; 0 = skip)
  --plan-batch B      batch for the --plan-only line (default 4096)
  --loopback          skip namespaces (no slow link)
  --no-bound          skip the compute-only loopback run (then no bound or efficiency)
  --bin-dir DIR       augur-shard, augur-oracle, augur-worker, e2e_bench (default build/bin)
  --augur PATH        the augur CLI for `data gen` (default BIN_DIR/augur)
  --work-dir DIR      datasets, jobs, cluster run dirs (default /tmp/augur-e2e-bench)
  --timeout S         per-policy job timeout (default 600)
USAGE
}

rate=10mbit samples=300000 iterations=100 batch=512 workers=2 shards=2 capacity=65536
lookahead=64 prefetch_distance=8 plans_in_flight=16 policies=none,prefetch1,oracle
plan_samples=2000000 plan_batch=4096 loopback=0 bin_dir=${AUGUR_BIN_DIR:-$root/build/bin}
augur="" work_dir=/tmp/augur-e2e-bench timeout_s=600 bound=1
die() { echo "bench/e2e/run.sh: $*" >&2; exit 1; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) need "$@"; rate=$2; shift 2 ;;
    --samples) need "$@"; samples=$2; shift 2 ;;
    --iterations) need "$@"; iterations=$2; shift 2 ;;
    --batch) need "$@"; batch=$2; shift 2 ;;
    --workers) need "$@"; workers=$2; shift 2 ;;
    --shards) need "$@"; shards=$2; shift 2 ;;
    --capacity) need "$@"; capacity=$2; shift 2 ;;
    --lookahead) need "$@"; lookahead=$2; shift 2 ;;
    --prefetch-distance) need "$@"; prefetch_distance=$2; shift 2 ;;
    --plans-in-flight) need "$@"; plans_in_flight=$2; shift 2 ;;
    --policies) need "$@"; policies=$2; shift 2 ;;
    --plan-samples) need "$@"; plan_samples=$2; shift 2 ;;
    --plan-batch) need "$@"; plan_batch=$2; shift 2 ;;
    --loopback) loopback=1; shift ;;
    --no-bound) bound=0; shift ;;
    --bin-dir) need "$@"; bin_dir=$2; shift 2 ;;
    --augur) need "$@"; augur=$2; shift 2 ;;
    --work-dir) need "$@"; work_dir=$2; shift 2 ;;
    --timeout) need "$@"; timeout_s=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
for v in samples iterations batch workers shards capacity lookahead prefetch_distance plans_in_flight plan_samples plan_batch timeout_s; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v//_/-} must be a non-negative integer, got '${!v}'"
done
bin_dir=$(cd "$bin_dir" 2>/dev/null && pwd) || die "no binary dir $bin_dir"
augur=${augur:-$bin_dir/augur}
for b in "$bin_dir/augur-shard" "$bin_dir/augur-oracle" "$bin_dir/augur-worker" "$bin_dir/e2e_bench" "$augur"; do
  [ -x "$b" ] || die "$b is missing (build: ninja -C build augur-shard augur-oracle augur-worker augur e2e_bench)"
done
command -v jq >/dev/null || die "jq is needed to assemble the JSON lines"
mkdir -p "$work_dir"
work_dir=$(cd "$work_dir" && pwd)
log() { echo "# $*" >&2; }

# ---------------------------------------------------------------- data (cached by parameters)
gen() {  # gen N SEED DIR
  if [ -f "$3/manifest.json" ]; then return 0; fi
  rm -rf "$3"
  log "generating $1 criteo-kaggle samples (seed $2) into $3"
  "$augur" data gen --profile criteo-kaggle --samples "$1" --seed "$2" --out "$3" >&2
}
train=$work_dir/data/criteo-kaggle-$samples-s1
gen "$samples" 1 "$train"

# ---------------------------------------------------------------- cluster mode
mode=netns
if [ "$loopback" = 1 ]; then
  mode=loopback
elif [ "$(id -u)" != 0 ]; then
  mode=loopback
  echo "WARNING: not root, so no network namespaces: running on plain loopback without a slow link; none/prefetch1/oracle differ only by CPU work" >&2
fi
link=$([ "$mode" = netns ] && echo "$rate" || echo loopback)

# ---------------------------------------------------------------- one policy
cluster_dir=$work_dir/cluster
current_up=0
cleanup() {
  if [ "$current_up" = 1 ]; then "$root/deploy/netns/down.sh" --run-dir "$cluster_dir" --grace 5 >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# link_bytes: the bytes each shard link carried in each direction so far (the shard
# namespaces' eth0 counters: rx = to the shard, tx = from it), as a JSON array; [] on loopback.
link_bytes() {
  local name rx tx out=()
  [ "$1" = netns ] || { echo '[]'; return; }
  while read -r kind name _; do
    [ "$kind" = ns ] && [[ $name =~ -s[0-9]+$ ]] || continue
    rx=$(ip netns exec "$name" cat /sys/class/net/eth0/statistics/rx_bytes 2>/dev/null || echo 0)
    tx=$(ip netns exec "$name" cat /sys/class/net/eth0/statistics/tx_bytes 2>/dev/null || echo 0)
    out+=("{\"shard\": \"${name##*-}\", \"to_shard\": $rx, \"from_shard\": $tx}")
  done <"$cluster_dir/netns.state"
  (IFS=,; echo "[${out[*]}]")
}

# link_sampler OUT: every 0.2 s until killed, a line "time tx rx tx rx ..." with the host-side
# counters of each shard link (tx = to the shard, rx = from it), read with bash builtins only.
link_sampler() {
  local kind name _ l line v links=()
  while read -r kind name _; do
    [ "$kind" = link ] && [[ $name =~ s[0-9]+$ ]] && links+=("$name")
  done <"$cluster_dir/netns.state"
  while :; do
    line=$EPOCHREALTIME
    for l in "${links[@]}"; do
      read -r v <"/sys/class/net/$l/statistics/tx_bytes" || v=0
      line+=" $v"
      read -r v <"/sys/class/net/$l/statistics/rx_bytes" || v=0
      line+=" $v"
    done
    echo "$line"
    sleep 0.2
  done >"$1"
}

# link_busy FILE: per shard link and direction, the fraction of the run (first to last sample
# where any link moved bytes) the link was busy at --rate, as a JSON array; [] without samples.
link_busy() {
  awk -v rate="$rate_bytes" '
    { n++; for (i = 1; i <= NF; i++) v[n, i] = $i; nf = NF }
    END {
      if (n < 2 || rate <= 0) { print "[]"; exit }
      first = 0; last = 0
      for (k = 2; k <= n; k++) for (i = 2; i <= nf; i++)
        if (v[k, i] > v[k - 1, i]) { if (!first) first = k - 1; last = k }
      if (!first) { print "[]"; exit }
      span = v[last, 1] - v[first, 1]
      printf "["
      for (i = 2; i <= nf; i++) {
        busy = 0
        for (k = first + 1; k <= last; k++) {
          dt = v[k, 1] - v[k - 1, 1]; b = (v[k, i] - v[k - 1, i]) / rate
          busy += (b < dt ? b : dt)
        }
        s = int((i - 2) / 2)
        if (i % 2 == 0) printf "%s{\"shard\": \"s%d\", \"to_shard\": %.3f", (i > 2 ? ", " : ""), s, busy / span
        else printf ", \"from_shard\": %.3f}", busy / span
      }
      printf "]\n"
    }' "$1"
}

# step_stages: where the workers' steps spent their time, seconds per stage averaged over the
# workers (augur_worker_step_seconds_total{stage} from each worker's /metrics), as JSON.
step_stages() {
  local ep
  for ep in $(grep -oE '\{index: [0-9]+, metrics: [^,]+' "$cluster_dir/cluster.yaml" | awk '{print $4}'); do
    curl -s --max-time 5 "http://${ep#http://}/metrics" || true
  done | awk -v w="$workers" '
    /^augur_worker_step_seconds_total\{/ {
      match($0, /stage="[a-z_]+"/); st = substr($0, RSTART + 7, RLENGTH - 8); sum[st] += $NF
    }
    END {
      printf "{"; sep = ""
      for (st in sum) { printf "%s\"%s\": %.3f", sep, st, sum[st] / w; sep = ", " }
      printf "}\n"
    }'
}

declare -A result
# run_policy POLICY [loopback]: one job; with "loopback" on plain loopback whatever the mode
# (the compute-only run the bound is measured with).
run_policy() {
  local policy=$1 job=$work_dir/job-$1.yaml rc out upargs=() run_mode=$mode links
  [ "${2:-}" = loopback ] && run_mode=loopback job=$work_dir/job-$1-compute.yaml
  cat >"$job" <<EOF
name: e2e-$policy
seed: 1
model: {preset: kaggle}
data: {train: $train}
training: {batch_size: $batch, iterations: $iterations, threads: 1}
cache: {policy: $policy, capacity: $capacity, lookahead: $lookahead, prefetch_distance: $prefetch_distance, plans_in_flight: $plans_in_flight}
cluster: {workers: $workers}
EOF
  upargs=(--shards "$shards" --workers "$workers" --run-dir "$cluster_dir" --bin-dir "$bin_dir" --job "$job")
  if [ "$run_mode" = netns ]; then
    set +e
    "$root/deploy/netns/up.sh" "${upargs[@]}" --rate "$rate" >"$work_dir/up-$policy.log" 2>&1
    rc=$?
    set -e
    if [ "$rc" = 77 ]; then
      echo "WARNING: $(grep -h '^SKIP' "$work_dir/up-$policy.log" | head -n 1) -- running on plain loopback without a slow link; none/prefetch1/oracle differ only by CPU work" >&2
      mode=loopback link=loopback run_mode=loopback
    elif [ "$rc" != 0 ]; then
      cat "$work_dir/up-$policy.log" >&2
      die "deploy/netns/up.sh failed (rc $rc)"
    fi
  fi
  if [ "$run_mode" = loopback ]; then
    "$root/deploy/netns/up.sh" "${upargs[@]}" --loopback >"$work_dir/up-$policy.log" 2>&1 ||
      { cat "$work_dir/up-$policy.log" >&2; die "deploy/netns/up.sh --loopback failed"; }
  fi
  current_up=1
  local oracle
  oracle=$(grep -oE '^oracle: \{grpc: [^,]+' "$cluster_dir/cluster.yaml" | awk '{print $3}')
  local sampler="" busy='[]'
  if [ "$run_mode" = netns ]; then
    link_sampler "$work_dir/links-$policy.txt" &
    sampler=$!
  fi
  set +e
  out=$("$bin_dir/e2e_bench" --oracle "$oracle" --timeout "$timeout_s" \
    --samples-per-iteration $((batch * workers)) \
    --set bench='"e2e"' --set policy="\"$policy\"" \
    --set link_rate="\"$([ "$run_mode" = netns ] && echo "$link" || echo loopback)\"" \
    --set batch="$batch" --set workers="$workers" --set shards="$shards")
  rc=$?
  set -e
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    busy=$(link_busy "$work_dir/links-$policy.txt")
  fi
  links=$(link_bytes "$run_mode")
  stages=$(step_stages)
  out=$(jq -c --argjson links "$links" --argjson stages "$stages" --argjson busy "$busy" \
    '. + {link_bytes: $links, link_busy: $busy, step_seconds_by_stage: $stages}' <<<"$out")
  if [ "${2:-}" = loopback ]; then
    compute_line=$out
    "$root/deploy/netns/down.sh" --run-dir "$cluster_dir" --grace 5 >/dev/null
    current_up=0
    return
  fi
  # Keep the logs of this policy's run, then stop the cluster.
  rm -rf "$work_dir/logs-$policy"
  cp -r "$cluster_dir/logs" "$work_dir/logs-$policy" 2>/dev/null || true
  "$root/deploy/netns/down.sh" --run-dir "$cluster_dir" --grace 5 >/dev/null
  current_up=0
  # The bound: the slower of compute (the loopback run's time for these samples) and the
  # busiest link direction's bytes at the link rate; efficiency = achieved / bound.
  out=$(jq -c --argjson c "${compute_line:-null}" --argjson rate "$rate_bytes" '
    (.iterations * .batch * .workers) as $samples
    | ([.link_bytes[] | .to_shard, .from_shard] | max // 0) as $busiest
    | (if $c != null and $c.samples_per_s > 0 then $samples / $c.samples_per_s else null end) as $compute_s
    | (if $rate > 0 then $busiest / $rate else 0 end) as $link_s
    | if $compute_s == null then . else
        ([$compute_s, $link_s] | max) as $bound_s
        | . + {compute_only_s: $compute_s, link_s: $link_s, busiest_link_bytes: $busiest,
               bound_samples_per_s: ($samples / $bound_s),
               efficiency: (.samples_per_s * $bound_s / $samples),
               bound_by: (if $link_s > $compute_s then "link" else "compute" end)}
        + (if .steady_samples_per_s then {steady_efficiency: (.steady_samples_per_s * $bound_s / $samples)} else {} end)
      end' <<<"$out")
  # The columns asked for first, everything else after.
  jq -c '{bench, policy, samples_per_s, efficiency, bound_samples_per_s, steady_samples_per_s,
          steady_efficiency, warmup_samples_per_s, stall_fraction, hit_ratio, rows_fetched,
          bytes_fetched, iterations, link_rate} + .' <<<"$out"
  [ "$rc" = 0 ] || log "policy $policy: job ended $(jq -r '.state + " " + (.reason // .error // "")' <<<"$out") (logs: $work_dir/logs-$policy)"
  result[$policy]=$out
}

# The link rate in bytes/s (0 on loopback) and the compute-only run the bound is measured with.
rate_bytes=0
if [ "$mode" = netns ]; then
  rate_bytes=$(. "$root/deploy/netns/lib.sh"; bps=$(rate_bps "$rate") && echo $((bps / 8))) ||
    die "--rate must look like 10mbit, got '$rate'"
fi
compute_line=""
if [ "$bound" = 1 ]; then
  log "compute-only run (oracle policy on loopback) for the bound"
  run_policy oracle loopback
  jq -c '{bench: "e2e_compute_only", samples_per_s, elapsed_s, iterations, hit_ratio, step_seconds_by_stage}' <<<"$compute_line"
fi

IFS=, read -r -a plist <<<"$policies"
for p in "${plist[@]}"; do run_policy "$p"; done

# ---------------------------------------------------------------- speed-ups over none
if [ -n "${result[none]:-}" ]; then
  sp=$(for p in "${plist[@]}"; do echo "${result[$p]}"; done | jq -sc --arg link "$link" '
    (map(select(.policy == "none"))[0]) as $n
    | {bench: "e2e_speedup", link_rate: $link, baseline: "none"}
      + (map(select(.policy != "none") | select(.state == "SUCCEEDED" and $n.samples_per_s > 0)
             | {("speedup_" + .policy): ((.samples_per_s / $n.samples_per_s) * 100 | round / 100)})
         | add // {})
      + {none_stall_fraction: $n.stall_fraction}')
  echo "$sp"
fi

# ---------------------------------------------------------------- offline planning throughput
if [ "$plan_samples" -gt 0 ]; then
  pdata=$work_dir/data/criteo-kaggle-$plan_samples-s7
  gen "$plan_samples" 7 "$pdata"
  pjob=$work_dir/job-plan-only.yaml
  cat >"$pjob" <<EOF
name: e2e-plan-only
data: {train: $pdata}
training: {batch_size: $plan_batch, threads: 1}
cache: {policy: oracle, capacity: $capacity, lookahead: $lookahead, prefetch_distance: $prefetch_distance}
cluster: {workers: $workers, shards: ["127.0.0.1:1"]}
EOF
  features=$(jq '.features | length' "$pdata/manifest.json")
  out=$("$bin_dir/augur-oracle" --plan-only --job "$pjob") || die "augur-oracle --plan-only failed"
  # RunPlanner is one thread, so samples_per_s is per core.
  jq -c --argjson f "$features" --argjson s "$plan_samples" '{bench: "plan_only", samples_per_s,
      goal_samples_per_s_per_core: 2000000, meets_goal: (.samples_per_s >= 2000000),
      sparse_features: $f, dataset_samples: $s} + .' <<<"$out"
fi
