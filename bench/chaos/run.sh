#!/usr/bin/env bash
# Chaos benchmark: a job survives SIGKILL of any of its processes and still ends with the
# model an uninterrupted run ends with, bit for bit.
#
# 1. Reference: a local cluster (deploy/local/up.sh: 2 shards, the oracle, 2 CPU workers) runs
#    the job (criteo-kaggle synthetic data, 2 workers, dense adam, row-wise adagrad, a
#    checkpoint every --every iterations) uninterrupted; its model is exported.
# 2. Chaos: a cluster started with up.sh --supervise (a killed process comes back on its
#    addresses, as a Kubernetes pod would) runs the same job, while this script kill -9s a
#    process at a random moment after each recovery: first one worker, one shard and the oracle
#    (in random order), then random ones, --kills in all. Each kill waits for a checkpoint
#    (a job without one cannot resume) and the job's recovery before the next.
# 3. The chaos job must end SUCCEEDED; its export is compared with the reference's, every
#    .npy file byte for byte. Then `augur resume --from` a middle checkpoint trains the second
#    half again, and that export is compared too (resume_identical).
#
# Prints one JSON line: kills, recoveries, iterations_recomputed, recovery_seconds_median /
# _max (kill -> the job training again past its resume point), identical, checkpoint_seconds_
# median (worker 0's log: every worker's flush + dense state + the shards' RocksDB checkpoints),
# step_seconds_median (the reference run's workers' augur_worker_iteration_seconds histogram).
# Exit status 0 only when the job SUCCEEDED and both comparisons are identical. Stops exactly the pids it
# started. Never a ctest test by itself (tests/e2e/recovery_test.sh runs it with a fixed plan).
#
#   bench/chaos/run.sh [--iterations 600] [--every 50] [--kills 6] [--seed S] [--plan LIST]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

usage() {
  cat <<'USAGE'
usage: bench/chaos/run.sh [options]
  --iterations N   iterations of the job (default 620; not a multiple of --every, so the
                   last checkpoint is never the job's end)
  --every K        checkpoint every K iterations (default 50)
  --kills N        processes killed (default 6; at least one shard, worker and oracle when
                   N >= 3)
  --plan LIST      exactly these kills in this order instead, e.g. worker,shard,oracle
  --seed S         random seed of the kill schedule (default: the time)
  --batch B        samples per worker per iteration (default 64)
  --bin-dir DIR    augur binaries (default $AUGUR_BIN_DIR or build/bin)
  --keep DIR       keep logs and exports in DIR (default: a temp dir, removed)
USAGE
}
iterations=620 every=50 kills=6 plan="" seed=$(date +%s) batch=64 keep=""
bin_dir=${AUGUR_BIN_DIR:-$root/build/bin}
die() { echo "bench/chaos/run.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) iterations=$2; shift 2 ;;
    --every) every=$2; shift 2 ;;
    --kills) kills=$2; shift 2 ;;
    --plan) plan=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
for v in iterations every kills seed batch; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "--$v must be a whole number, got '${!v}'"
done
[ $((iterations % every)) != 0 ] || die "--iterations must not be a multiple of --every"
for b in augur augur-shard augur-oracle augur-worker; do
  [ -x "$bin_dir/$b" ] || die "$bin_dir/$b is missing (build first)"
done
RANDOM=$seed
workers=2 shards=2

if [ -n "$keep" ]; then
  mkdir -p "$keep"
  tmp=$(cd "$keep" && pwd)
else
  tmp=$(mktemp -d /tmp/augur-chaos.XXXXXX)
fi
ref=$tmp/reference chaos=$tmp/chaos
cleanup() {
  local rc=$?
  for d in "$ref" "$chaos"; do
    "$root/deploy/local/down.sh" --run-dir "$d" --grace 5 >/dev/null 2>&1 || true
  done
  if [ "$rc" != 0 ] && [ -d "$chaos/logs" ]; then
    for f in "$chaos"/logs/*.log; do
      echo "--- $(basename "$f") (last lines)" >&2
      tail -n 12 "$f" >&2
    done
  fi
  [ -n "$keep" ] || rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

augur() { "$bin_dir/augur" "$@"; }
now() { date +%s.%N; }
log() { echo "chaos: $*" >&2; }

augur data gen --profile criteo-kaggle --samples 20000 --seed 1 --out "$tmp/train" >/dev/null
job_yaml() {  # job_yaml FILE CHECKPOINT_DIR
  cat >"$1" <<YAML
name: chaos
seed: 7
model: {preset: custom, dim: 8, bottom: [32, 8], top: [32, 1]}
data: {train: $tmp/train}
training:
  batch_size: $batch
  iterations: $iterations
  threads: 1
  dense_optimizer: {kind: adam, lr: 0.001}
  embedding_optimizer: {kind: adagrad, lr: 0.05}
cache: {policy: oracle, capacity: 65536, lookahead: 16, prefetch_distance: 4}
cluster: {workers: $workers}
checkpoint: {every: $every, dir: $2, max_recoveries: 1000}
YAML
}
job_yaml "$tmp/ref.yaml" "$tmp/ckpt-ref"
job_yaml "$tmp/chaos.yaml" "$tmp/ckpt-chaos"

up() {  # up RUN_DIR [--supervise]
  "$root/deploy/local/up.sh" --shards "$shards" --workers "$workers" --run-dir "$1" \
    --bin-dir "$bin_dir" --timeout 30 "${@:2}" >/dev/null
}
# same_as_ref EXPORT_DIR: true when every .npy of the reference export is byte-identical there.
same_as_ref() {
  local f n=0 same=true
  for f in "$tmp"/export-ref/*.npy; do
    cmp -s "$f" "$1/$(basename "$f")" || { same=false; log "$(basename "$f") differs in $1"; }
    n=$((n + 1))
  done
  [ "$n" -gt 26 ] || same=false
  echo "$same"
}
# field KEY STATUS_TEXT: the value of "KEY: value" in `augur status` output.
field() { sed -nE "s/^$1: +//p" <<<"$2" | head -n 1; }

# --- 1. reference --------------------------------------------------------------------------
log "reference run ($iterations iterations, checkpoint every $every)"
up "$ref"
out=$(timeout 600 "$bin_dir/augur" submit "$tmp/ref.yaml" --cluster "$ref/cluster.yaml" \
  --follow --interval 1 2>&1) || { echo "$out" >&2; die "the reference run failed"; }
grep -q '^job-1 SUCCEEDED' <<<"$out" || { echo "$out" >&2; die "the reference run failed"; }
augur export job-1 --out "$tmp/export-ref" --cluster "$ref/cluster.yaml" >/dev/null
# Median step time from the workers' iteration-time histograms (linear within a bucket).
metrics=$(sed -nE 's/.*metrics: "([^"]+)".*/\1/p' "$ref/cluster.yaml" | tail -n "$workers")
step_median=$(for m in $metrics; do curl -sf "http://${m#http://}/metrics" || true; done |
  awk '/^augur_worker_iteration_seconds_bucket/ {
         match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5)
         if (le == "+Inf") next
         n[le] += $NF; les[le] = le + 0 }
       /^augur_worker_iteration_seconds_count/ { total += $NF }
       END {
         if (total == 0) { print "null"; exit }
         k = 0; for (l in les) keys[++k] = les[l]
         for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (keys[j] < keys[i]) { t = keys[i]; keys[i] = keys[j]; keys[j] = t }
         prev_le = 0; prev_n = 0
         for (i = 1; i <= k; i++) {
           for (l in les) if (les[l] == keys[i]) c = n[l]
           if (c >= total / 2) { f = (c > prev_n) ? (total / 2 - prev_n) / (c - prev_n) : 1
                                 printf "%.6f\n", prev_le + f * (keys[i] - prev_le); exit }
           prev_le = keys[i]; prev_n = c
         }
         print "null" }')
"$root/deploy/local/down.sh" --run-dir "$ref" --grace 5 >/dev/null

# --- 2. chaos ------------------------------------------------------------------------------
if [ -n "$plan" ]; then
  IFS=, read -r -a order <<<"$plan"
else
  order=()
  if [ "$kills" -ge 3 ]; then
    first=(worker shard oracle)
    while [ ${#first[@]} -gt 0 ]; do  # the three kinds, in random order
      i=$((RANDOM % ${#first[@]}))
      order+=("${first[i]}")
      first=("${first[@]:0:i}" "${first[@]:i+1}")
    done
  fi
  kinds=(worker shard oracle)
  while [ ${#order[@]} -lt "$kills" ]; do order+=("${kinds[RANDOM % 3]}"); done
fi
for k in "${order[@]}"; do
  case "$k" in worker | shard | oracle) ;; *) die "--plan: unknown process kind '$k'" ;; esac
done

log "chaos run under supervision, kills: ${order[*]} (seed $seed)"
up "$chaos" --supervise
job=$("$bin_dir/augur" submit "$tmp/chaos.yaml" --cluster "$chaos/cluster.yaml")
status() { "$bin_dir/augur" status "$job" --cluster "$chaos/cluster.yaml" 2>/dev/null || true; }

recovery_s=() done_kills=0
for kind in "${order[@]}"; do
  # Wait for a moment worth a kill: training, past a checkpoint, a random way into the
  # interval after it; give up once the job is too close to its end.
  target=""
  while :; do
    s=$(status)
    state=$(field state "$s")
    iter=$(field iteration "$s" | cut -d/ -f1)
    last_ckpt=$(field checkpoints "$s" | sed -nE 's/.*after iteration ([0-9]+).*/\1/p')
    [ "$state" = SUCCEEDED ] && break
    [ "$state" = FAILED ] || [ "$state" = CANCELLED ] && break
    if [ "$state" = RUNNING ] && [ -n "$last_ckpt" ] && [ -n "$iter" ]; then
      [ -n "$target" ] || target=$((last_ckpt + 1 + RANDOM % (every - 1)))
      [ "$iter" -ge $((iterations - every / 2)) ] && break
      [ "$iter" -ge "$target" ] && break
    fi
    sleep 0.1
  done
  [ "$state" = RUNNING ] && [ "$iter" -lt $((iterations - every / 2)) ] || {
    log "the job is $state at iteration ${iter:-?}: no more kills"
    break
  }
  case "$kind" in
    worker) name=worker-$((RANDOM % workers)) ;;
    shard) name=shard-$((RANDOM % shards)) ;;
    oracle) name=oracle ;;
  esac
  read -r pid _ <"$chaos/supervise/$name.pid"
  before=$(field recoveries "$s" | cut -d' ' -f1)
  before=${before:-0}
  log "kill -9 $name (pid $pid) at iteration $iter"
  t0=$(now)
  kill -9 "$pid"
  done_kills=$((done_kills + 1))
  # Recovered: resumed (one more recovery) and training again past the resume point.
  deadline=$((SECONDS + 300))
  while :; do
    s=$(status)
    rec=$(field recoveries "$s" | cut -d' ' -f1)
    from=$(field "last recovery" "$s" | sed -nE 's/.*checkpoint at iteration ([0-9]+).*/\1/p')
    iter=$(field iteration "$s" | cut -d/ -f1)
    state=$(field state "$s")
    if [ "${rec:-0}" -gt "$before" ] && [ -n "$from" ] &&
      { { [ "$state" = RUNNING ] && [ "${iter:-0}" -gt "$from" ]; } || [ "$state" = SUCCEEDED ]; }; then
      break
    fi
    [ "$state" = FAILED ] && { echo "$s" >&2; die "the job FAILED after killing $name"; }
    [ "$SECONDS" -lt "$deadline" ] || { echo "$s" >&2; die "no recovery within 300 s of killing $name"; }
    sleep 0.1
  done
  recovery_s+=("$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')")
  log "recovered after ${recovery_s[-1]} s: $(field 'last recovery' "$s")"
done

deadline=$((SECONDS + 600))
while :; do
  s=$(status)
  state=$(field state "$s")
  case "$state" in SUCCEEDED | FAILED | CANCELLED) break ;; esac
  [ "$SECONDS" -lt "$deadline" ] || die "the chaos job did not end within 600 s"
  sleep 0.2
done
identical=false
if [ "$state" = SUCCEEDED ]; then
  augur export "$job" --out "$tmp/export-chaos" --cluster "$chaos/cluster.yaml" >/dev/null
  identical=$(same_as_ref "$tmp/export-chaos")
else
  echo "$s" >&2
fi
chaos_state=$state
recoveries=$(field recoveries "$s" | cut -d' ' -f1)
recomputed=$("$bin_dir/augur" logs "$job" --cluster "$chaos/cluster.yaml" |
  sed -nE 's/.*\(iterations ([0-9]+)\.\.([0-9]+) run again\).*/\1 \2/p' |
  awk '{ s += $2 - $1 + 1 } END { print s + 0 }')
ckpts=()
while read -r v; do ckpts+=("$v"); done < <(grep -ahoE 'checkpoint after iteration [0-9]+ in [^ ]+ \([0-9.]+ s' \
  "$chaos/logs/worker-0.log" | sed -nE 's/.*\(([0-9.]+) s$/\1/p')
# --- 3. a user's resume ----------------------------------------------------------------------
# `augur resume --from` a middle checkpoint of the finished job: the shards roll back, the rest
# is trained again, and the model must again be the reference's.
resume_identical=false
if [ "$identical" = true ]; then
  mid=$((iterations / every / 2 * every))
  before=$(field recoveries "$s" | cut -d' ' -f1)
  augur resume "$job" --from "$mid" --cluster "$chaos/cluster.yaml" >/dev/null
  deadline=$((SECONDS + 600))
  while :; do
    s=$(status)
    state=$(field state "$s")
    rec=$(field recoveries "$s" | cut -d' ' -f1)
    [ "${rec:-0}" -gt "${before:-0}" ] && case "$state" in SUCCEEDED | FAILED | CANCELLED) break ;; esac
    [ "$SECONDS" -lt "$deadline" ] || die "the resumed job did not end within 600 s"
    sleep 0.2
  done
  if [ "$state" = SUCCEEDED ]; then
    augur export "$job" --out "$tmp/export-resumed" --cluster "$chaos/cluster.yaml" >/dev/null
    resume_identical=$(same_as_ref "$tmp/export-resumed")
  else
    echo "$s" >&2
  fi
  log "augur resume --from $mid: $state, identical $resume_identical"
fi
median() { if [ $# = 0 ]; then echo null; else printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { printf "%.3f\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; fi; }
maxof() { if [ $# = 0 ]; then echo null; else printf '%s\n' "$@" | sort -g | tail -n 1 | awk '{ printf "%.3f\n", $1 }'; fi; }
printf '{"bench":"chaos","seed":%s,"iterations":%s,"checkpoint_every":%s,"kills":%s,"killed":"%s","recoveries":%s,"iterations_recomputed":%s,"recovery_seconds_median":%s,"recovery_seconds_max":%s,"identical":%s,"resume_identical":%s,"state":"%s","checkpoint_seconds_median":%s,"step_seconds_median":%s}\n' \
  "$seed" "$iterations" "$every" "$done_kills" "$(IFS=,; echo "${order[*]:0:done_kills}")" \
  "${recoveries:-0}" "$recomputed" "$(median "${recovery_s[@]}")" "$(maxof "${recovery_s[@]}")" \
  "$identical" "$resume_identical" "$chaos_state" "$(median "${ckpts[@]}")" "${step_median:-null}"
[ "$chaos_state" = SUCCEEDED ] && [ "$identical" = true ] && [ "$resume_identical" = true ]
