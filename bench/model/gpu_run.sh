#!/usr/bin/env bash
# gpu_run.sh: run ON THE GPU MACHINE, from the repository root, after bench/model/gpu_prepare.sh
# bundled the binaries into .device-bundle/. One pass, sized to fit a 15-minute device lease
# (about 5 minutes on an H100):
#   1. CPU/CUDA parity (model_cuda_parity_test: tiny, kaggle and mlperf configs, 1e-5 relative);
#   2. model_bench --backend cuda: kaggle FP32, mlperf FP32 and TF32 at batch 16384, and mlperf
#      TF32 once more with row gradients through the host (the multi-worker path);
#   3. the PyTorch yardstick (bench/model/torch_dlrm.py) on the same card, same configs,
#      interleaved with step 2 so both see the same machine state.
# Writes $OUT/parity.log, $OUT/bench.jsonl and $OUT/gpu.txt (or ./gpu-out/ without $OUT).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-gpu-out}
mkdir -p "$out"
export LD_LIBRARY_PATH=$PWD/.device-bundle/lib:${LD_LIBRARY_PATH:-}
bin=.device-bundle/bin
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$out/gpu.txt"
nproc >> "$out/gpu.txt"

timeout 240 "$bin/model_cuda_parity_test" 2>&1 | tee "$out/parity.log"
echo "parity exit ${PIPESTATUS[0]}" | tee -a "$out/parity.log"

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
rm -f "$out/last.err"
