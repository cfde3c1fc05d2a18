#!/usr/bin/env bash
# gpu_prepare.sh [BUILD_DIR]: run HERE (no GPU needed) before a GPU session. Builds the CUDA
# parity test and model_bench for Hopper (sm_90) and bundles them with the shared libraries a
# bare GPU machine lacks into .device-bundle/ (git-ignored), for bench/model/gpu_run.sh there:
#
#   device run  carry: [".device-bundle"]  timeout_s: 540
#               command: bash bench/model/gpu_run.sh
#
# The results come back under $OUT: parity.log, bench.jsonl (augur and PyTorch lines).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]] ||
  { echo "gpu_prepare.sh: no nvcc; the CUDA toolkit is needed to build the GPU binaries" >&2; exit 2; }
cmake -S . -B "$build" -G Ninja -DAUGUR_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 >/dev/null
cmake --build "$build" --target model_cuda_parity_test model_bench
rm -rf .device-bundle
../shared/tools/device-bundle.sh .device-bundle \
  "$build/bin/model_cuda_parity_test" "$build/bin/model_bench"
git ls-files --error-unmatch bench/model/torch_dlrm.py >/dev/null  # travels with the tree
echo "ready: run bench/model/gpu_run.sh on the device with carry [.device-bundle]"
