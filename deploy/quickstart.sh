#!/usr/bin/env bash
# The README's first command: from a fresh Debian 12 checkout to a trained model in a few
# minutes on two cores.
#   1. installs the system packages (deploy/install-deps.sh),
#   2. configures and builds the four binaries (Ninja, build/),
#   3. generates a synthetic criteo-kaggle train set and a held-out eval set (another seed)
#      under run/quickstart/, unless --data names a raw Criteo TSV,
#   4. starts a local cluster (2 shards, the oracle, 2 CPU workers) with deploy/local/up.sh,
#   5. submits the job with `augur submit --follow` and prints AUC, log-loss, samples/s and the
#      cache hit ratio,
#   6. always stops the cluster (also on failure or Ctrl-C).
# Exits non-zero with the reason when any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

die() { echo "quickstart: $*" >&2; exit 1; }
usage() {
  cat <<'USAGE'
usage: deploy/quickstart.sh [options]
  --data FILE.tsv     train on this raw Criteo TSV (converted by the oracle) instead of
                      synthetic data
  --eval FILE.tsv     held-out TSV for --data (default: none, so no AUC)
  --max-rows M        with --data: hash categorical ids mod M (default 100000)
  --samples N         synthetic train samples (default: one epoch of the job, iterations x 1024)
  --iterations K      training iterations (default 300)
  --skip-build        use the binaries already in the build dir
  -h, --help          this text
Environment: AUGUR_BUILD_DIR (default build), AUGUR_JOBS (build parallelism, default nproc).
USAGE
}

data="" eval_tsv="" max_rows=100000 samples="" iterations=300 skip_build=0
need() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --data) need "$@"; data=$2; shift 2 ;;
    --eval) need "$@"; eval_tsv=$2; shift 2 ;;
    --max-rows) need "$@"; max_rows=$2; shift 2 ;;
    --samples) need "$@"; samples=$2; shift 2 ;;
    --iterations) need "$@"; iterations=$2; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
isnum() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ]; }
isnum "$iterations" || die "--iterations must be a positive integer, got '$iterations'"
isnum "$max_rows" || die "--max-rows must be a positive integer, got '$max_rows'"
batch=512 workers=2 shards=2
[ -n "$samples" ] || samples=$((iterations * batch * workers))
isnum "$samples" || die "--samples must be a positive integer, got '$samples'"
abspath() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
if [ -n "$data" ]; then
  [ -f "$data" ] || die "--data $data: no such file"
  data=$(abspath "$data")
fi
if [ -n "$eval_tsv" ]; then
  [ -n "$data" ] || die "--eval needs --data (synthetic runs make their own eval set)"
  [ -f "$eval_tsv" ] || die "--eval $eval_tsv: no such file"
  eval_tsv=$(abspath "$eval_tsv")
fi

build=${AUGUR_BUILD_DIR:-$root/build}
bin=$build/bin
qs=$root/run/quickstart
mkdir -p "$qs"

# 1-2. Dependencies and build.
if [ "$skip_build" = 0 ]; then
  echo "== installing dependencies (deploy/install-deps.sh)"
  bash deploy/install-deps.sh || die "installing dependencies failed (see above)"
  echo "== building augur-shard augur-oracle augur-worker augur in $build"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${AUGUR_BUILD_TYPE:-RelWithDebInfo} >"$qs/cmake.log" 2>&1 ||
    { tail -n 30 "$qs/cmake.log" >&2; die "cmake configure failed (full log: $qs/cmake.log)"; }
  cmake --build "$build" -j "${AUGUR_JOBS:-$(nproc)}" --target augur-shard augur-oracle augur-worker augur ||
    die "build failed (see above)"
fi
for b in augur-shard augur-oracle augur-worker augur; do
  [ -x "$bin/$b" ] || die "$bin/$b is missing (build failed or --skip-build without a build)"
done
"$bin/augur" --help 2>/dev/null | grep -qE '^ +submit( |$)' ||
  die "$bin/augur has no 'submit' command yet (the CLI job commands are not built in)"

# 3. Data.
no_auc=""
if [ -n "$data" ]; then
  train=$data eval=$eval_tsv
  echo "== training on $data (categorical ids mod $max_rows)"
  # Evaluation runs in whole global batches; a smaller eval file yields no AUC at all.
  if [ -n "$eval_tsv" ] && [[ $eval_tsv != *.gz ]]; then
    eval_rows=$(wc -l <"$eval_tsv")
    if [ "$eval_rows" -lt $((batch * workers)) ]; then
      no_auc="the eval set has $eval_rows rows, less than one global batch ($((batch * workers)))"
      echo "quickstart: warning: $no_auc, so there will be no AUC" >&2
    fi
  fi
else
  eval_samples=$((samples / 10 > 20000 ? 20000 : (samples / 10 < 2048 ? 2048 : samples / 10)))
  train=$qs/data/train-n$samples-seed1
  eval=$qs/data/eval-n$eval_samples-seed2
  for pair in "$train:1:$samples" "$eval:2:$eval_samples"; do
    IFS=: read -r dir seed n <<<"$pair"
    if [ -f "$dir/manifest.json" ]; then
      echo "== reusing $dir"
    else
      echo "== generating $n synthetic criteo-kaggle samples (seed $seed) into $dir"
      rm -rf "$dir"
      mkdir -p "$(dirname "$dir")"
      "$bin/augur" data gen --profile criteo-kaggle --samples "$n" --seed "$seed" --out "$dir" ||
        die "augur data gen failed"
    fi
  done
  max_rows=0
fi

# 4. Cluster; stopped however this script ends.
run_dir=$qs/cluster
cleanup() {
  local rc=$?
  if [ -f "$run_dir/pids" ]; then
    echo "== stopping the cluster"
    bash deploy/local/down.sh --run-dir "$run_dir" || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ -f "$run_dir/pids" ]; then
  echo "== stopping the cluster a previous quickstart left in $run_dir"
  bash deploy/local/down.sh --run-dir "$run_dir" || die "could not stop the previous quickstart cluster"
fi
echo "== starting a local cluster: $shards shards, oracle, $workers CPU workers"
bash deploy/local/up.sh --run-dir "$run_dir" --shards "$shards" --workers "$workers" --bin-dir "$bin" ||
  die "could not start the local cluster (see above)"

# 5. The job: the kaggle preset on CPU. Capacity 256k rows x dim 16 is 16 MiB per worker, far
# more than one 64-iteration window of a 512-sample slice touches, so the cache is bounded by the
# lookahead (how far the oracle sees) rather than by memory. On 2 cores this trains at 10-15k
# samples/s: 300 iterations x 2 workers x 512 samples take about 30 s.
job=$qs/job.yaml
cat >"$job" <<JOB
# Written by deploy/quickstart.sh; see deploy/jobs/criteo-kaggle.yaml for every key.
name: quickstart
seed: 1
model: {preset: kaggle}
data:
  train: "$train"
  eval: "$eval"
  max_rows: $max_rows
training:
  batch_size: $batch
  iterations: $iterations
  dense_optimizer: {kind: sgd, lr: 0.1}
  embedding_optimizer: {kind: sgd, lr: 0.1}
  eval_samples: 20000
  backend: cpu
  threads: 1
cache: {policy: oracle, capacity: 262144, lookahead: 64, prefetch_distance: 8}
cluster: {workers: $workers}
JOB
echo "== submitting $job ($iterations iterations, $workers x $batch samples each)"
set +e
"$bin/augur" submit "$job" --cluster "$run_dir/cluster.yaml" --follow 2>&1 | tee "$qs/submit.log"
rc=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^job-[^ ]+ [A-Z]+' "$qs/submit.log" | tail -n 1 || true)
if [ "$rc" -ne 0 ]; then
  echo "quickstart: the job did not succeed (augur submit exit $rc): ${summary:-no summary line}" >&2
  echo "quickstart: logs are in $run_dir/logs/; oracle log tail:" >&2
  tail -n 15 "$run_dir/logs/oracle.log" | sed 's/^/  | /' >&2
  exit 1
fi

# 6. The numbers, from the summary line
#    "job-1 SUCCEEDED: auc 0.7312 logloss 0.4821 samples/s 12345 hit_ratio 0.913 stall 2.1%".
field() { local v; v=$(sed -nE "s|.* $1 ([^ ]+).*|\\1|p" <<<"$summary"); echo "${v:-n/a}"; }
echo
echo "quickstart: trained $iterations iterations on $( [ -n "$data" ] && echo "$data" || echo "synthetic criteo-kaggle data")"
auc=$(field auc) logloss=$(field logloss)
if [ -n "$no_auc" ] || { [ -n "$data" ] && [ -z "$eval_tsv" ]; }; then
  auc="n/a (${no_auc:-no --eval set})" logloss="n/a"
fi
printf '  AUC        %s\n  log-loss   %s\n  samples/s  %s\n  hit ratio  %s\n' \
  "$auc" "$logloss" "$(field 'samples/s')" "$(field hit_ratio)"
