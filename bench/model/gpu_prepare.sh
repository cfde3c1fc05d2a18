#!/usr/bin/env bash
# gpu_prepare.sh [BUILD_DIR]: run HERE (no GPU needed) before a GPU session. Builds the CUDA
# parity test, model_bench and the cluster binaries for Hopper (sm_90) and packs them with the
# shared libraries a bare GPU machine lacks into .device-bundle.tar.xz (git-ignored; the
# unpacked libraries alone exceed the 64 MiB a device call may carry), for
# bench/model/gpu_run.sh there:
#
#   device run  carry: [".device-bundle.tar.xz"]  timeout_s: 540
#               command: bash bench/model/gpu_run.sh
#
# The results come back under $OUT: parity.log, bench.jsonl (augur and PyTorch lines),
# e2e_cuda.log (a one-worker cluster training with training.backend cuda).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]] ||
  { echo "gpu_prepare.sh: no nvcc; the CUDA toolkit is needed to build the GPU binaries" >&2; exit 2; }
cmake -S . -B "$build" -G Ninja -DAUGUR_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 >/dev/null
bins=(model_cuda_parity_test model_bench augur augur-shard augur-oracle augur-worker)
cmake --build "$build" --target "${bins[@]}" nccl_collective_test
rm -rf .device-bundle .device-bundle.tar.xz
../shared/tools/device-bundle.sh .device-bundle "${bins[@]/#/$build/bin/}" \
  "$build/tests/nccl_collective_test"
tar -cJf .device-bundle.tar.xz .device-bundle
rm -rf .device-bundle
git ls-files --error-unmatch bench/model/torch_dlrm.py >/dev/null  # travels with the tree
du -h .device-bundle.tar.xz | awk '{print "packed: "$1}'
echo "ready: run bench/model/gpu_run.sh on the device with carry [.device-bundle.tar.xz]"
