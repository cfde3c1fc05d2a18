#!/usr/bin/env bash
# gpu_run.sh: run ON THE GPU MACHINE, from the repository root, after bench/model/gpu_prepare.sh
# packed the binaries into .device-bundle.tar.xz. One pass, sized to fit a 15-minute device
# lease (about 6 minutes on an H100):
#   1. CPU/CUDA parity (model_cuda_parity_test: tiny, kaggle, mlperf, dlrmv2 (DCNv2) and
#      num_dense-0 configs, 1e-5 relative);
#   2. model_bench --backend cuda: kaggle FP32, mlperf FP32 and TF32 at batch 16384, and mlperf
#      TF32 once more with row gradients through the host (the multi-worker path); dlrmv2 FP32
#      and TF32 with MLPerf's multi-hot bags;
#   3. the PyTorch yardstick (bench/model/torch_dlrm.py) on the same card, same configs,
#      interleaved with step 2 so both see the same machine state;
#   4. a real one-worker cluster (deploy/local/up.sh --backend cuda) training a small synthetic
#      job with training.backend cuda to SUCCEEDED: the worker runtime on the GPU.
#   (also nccl_collective_test's single-GPU cases, into $OUT/nccl.log)
# Writes $OUT/parity.log, $OUT/bench.jsonl, $OUT/e2e_cuda.log and $OUT/gpu.txt (or ./gpu-out/
# without $OUT).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-gpu-out}
mkdir -p "$out"
[ -f .device-bundle.tar.xz ] && tar -xJf .device-bundle.tar.xz
export LD_LIBRARY_PATH=$PWD/.device-bundle/lib:${LD_LIBRARY_PATH:-}
bin=.device-bundle/bin
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$out/gpu.txt"
nproc >> "$out/gpu.txt"

timeout 240 "$bin/model_cuda_parity_test" 2>&1 | tee "$out/parity.log"
echo "parity exit ${PIPESTATUS[0]}" | tee -a "$out/parity.log"
# NCCL on one GPU: a one-rank collective, and init giving up with UNAVAILABLE when rank 1
# never joins (the timeout path; the cases skip without a device).
timeout 60 "$bin/nccl_collective_test" 2>&1 | tee "$out/nccl.log"
echo "nccl exit ${PIPESTATUS[0]}" | tee -a "$out/nccl.log"

have_torch=0
python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null && have_torch=1
run() {  # run NAME CMD...: one JSON line into bench.jsonl, or an error line naming NAME
  local line
  if line=$(timeout 120 "$@" 2>"$out/last.err" | tail -1) && [[ $line == \{* ]]; then
    echo "$line" | tee -a "$out/bench.jsonl"
  else
    echo "{\"failed\":\"$*\",\"error\":$(tail -c 300 "$out/last.err" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}" |
      tee -a "$out/bench.jsonl"
  fi
}
: > "$out/bench.jsonl"
for spec in "kaggle" "mlperf" "mlperf --tf32"; do
  run "$bin/model_bench" --backend cuda --config $spec --batch 16384 --iters 20 --repeats 5 --json
  if [[ $have_torch == 1 ]]; then
    run python3 bench/model/torch_dlrm.py --device cuda --config $spec --batch 16384 --iters 20 --json
    run python3 bench/model/torch_dlrm.py --device cuda --config $spec --batch 16384 --iters 20 --dense-only --json
  fi
done
run "$bin/model_bench" --backend cuda --config mlperf --tf32 --batch 16384 --iters 20 --repeats 3 \
  --host-embedding-grads --json
for spec in "dlrmv2" "dlrmv2 --tf32"; do
  run "$bin/model_bench" --backend cuda --config $spec --multi-hot mlperf --batch 16384 --iters 20 \
    --repeats 3 --json
  if [[ $have_torch == 1 ]]; then
    run python3 bench/model/torch_dlrm.py --device cuda --config $spec --multi-hot mlperf \
      --batch 16384 --iters 20 --json
  fi
done
rm -f "$out/last.err"

# 4. The worker runtime on the GPU: one shard, the oracle and one CUDA worker as processes.
e2e=$(mktemp -d /tmp/augur-gpu-e2e.XXXXXX)
{
  "$bin/augur" data gen --profile criteo-kaggle --samples 262144 --seed 1 --out "$e2e/train" &&
    "$bin/augur" data gen --profile criteo-kaggle --samples 16384 --seed 2 --out "$e2e/eval" &&
    cat >"$e2e/job.yaml" <<YAML &&
name: gpu-e2e
seed: 1
model: {preset: kaggle}
data: {train: $e2e/train, eval: $e2e/eval}
training: {batch_size: 4096, iterations: 60, eval_samples: 16384, backend: cuda}
cache: {policy: oracle, capacity: 400000, lookahead: 32, prefetch_distance: 4}
cluster: {workers: 1}
YAML
    deploy/local/up.sh --shards 1 --workers 1 --backend cuda --run-dir "$e2e/run" \
      --bin-dir "$bin" --timeout 60 &&
    timeout 180 "$bin/augur" submit "$e2e/job.yaml" --cluster "$e2e/run/cluster.yaml" --follow \
      --interval 1
  echo "e2e exit $?"
  tail -n 20 "$e2e"/run/logs/worker-0.log
} >"$out/e2e_cuda.log" 2>&1
deploy/local/down.sh --run-dir "$e2e/run" >/dev/null 2>&1 || true
rm -rf "$e2e"
tail -n 3 "$out/e2e_cuda.log"
