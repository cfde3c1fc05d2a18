# Shared by the e2e scripts (source it): fail, the binary check, and a scratch dir whose cluster
# is stopped (exactly the pids it started) and whose logs are shown when the test fails.
#   e2e_init BIN_DIR TAG DOWN_SCRIPT [DOWN_ARGS...] -> sets $tmp (scratch) and $cluster (run dir)
fail() { echo "FAIL: $*" >&2; exit 1; }

e2e_init() {
  local bin_dir=$1 tag=$2
  shift 2
  e2e_down=("$@")
  e2e_bin=$bin_dir
  for b in augur augur-shard augur-oracle augur-worker; do
    [ -x "$bin_dir/$b" ] || fail "$bin_dir/$b is missing (build all targets first)"
  done
  tmp=$(mktemp -d "/tmp/augur-e2e-$tag.XXXXXX")
  cluster=$tmp/cluster
  trap e2e_cleanup EXIT
  trap 'exit 130' INT TERM
}

# e2e_oracle: the oracle's gRPC address from the started cluster's $cluster/cluster.yaml.
e2e_oracle() { grep -oE '^oracle: \{grpc: "[^"]+' "$cluster/cluster.yaml" | cut -d'"' -f2; }

e2e_cleanup() {
  local rc=$?
  # A test may define e2e_before_down (e.g. to resume a process it stopped with SIGSTOP).
  if declare -F e2e_before_down >/dev/null; then e2e_before_down || true; fi
  "${e2e_down[@]}" --run-dir "$cluster" >/dev/null 2>&1 || true
  if [ "$rc" != 0 ] && [ -d "$cluster/logs" ]; then
    for f in "$cluster"/logs/*.log; do
      echo "--- $(basename "$f") (last lines)" >&2
      tail -n 15 "$f" >&2
    done
  fi
  rm -rf "$tmp"
  exit "$rc"
}

# e2e_tiny_job FILE NAME ITERATIONS WORKERS: writes the YAML of a small-model job (batch 64, an
# oracle cache) on a 4,096-sample Criteo-like dataset, generated once under $tmp/train.
e2e_tiny_job() {
  [ -d "$tmp/train" ] ||
    "$e2e_bin/augur" data gen --profile criteo-kaggle --samples 4096 --seed 1 --out "$tmp/train" \
      >/dev/null
  cat >"$1" <<YAML
name: $2
seed: 1
model: {preset: custom, dim: 8, bottom: [16, 8], top: [16, 1]}
data: {train: $tmp/train}
training: {batch_size: 64, iterations: $3, threads: 1}
cache: {policy: oracle, capacity: 65536, lookahead: 8, prefetch_distance: 2}
cluster: {workers: $4}
YAML
}
