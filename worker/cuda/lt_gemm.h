// LtGemm: one planned cuBLASLt FP32 matmul with fixed operands, built once per batch size so a
// training step only enqueues (no descriptor creation, heuristics or allocation per step).
// Column-major terms: C (m x n, ldc) = op(A) op(B), op(A) m x k, op(B) k x n; optionally
// + bias[m] per row and ReLU through the BIAS / RELU_BIAS epilogues. When the epilogue does
// not fit (a bias pointer not 16-byte aligned, no algorithm, or a failed search), fused_bias()
// is false and the caller applies bias and ReLU itself. Not thread-safe. Errors are INTERNAL
// and carry the cuBLAS status of the call that failed; "no algorithm" means the heuristic ran
// and found none (or answered NOT_SUPPORTED) for the unfused matmul.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include "absl/status/status.h"
#include "worker/cuda/gemm_shape.h"

namespace augur::cuda {

class LtGemm {
 public:
  LtGemm() = default;
  ~LtGemm();
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;

  absl::Status Init(cublasLtHandle_t handle, const LtGemmShape& shape, const float* a,
                    const float* b, float* c, const float* bias, bool relu, bool tf32,
                    void* workspace, size_t workspace_bytes);
  absl::Status Run(cudaStream_t stream) const;
  bool fused_bias() const { return fused_; }

 private:
  void Destroy();

  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t la_ = nullptr, lb_ = nullptr, lc_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
  const float *a_ = nullptr, *b_ = nullptr;
  float* c_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  bool fused_ = false;
};

}  // namespace augur::cuda
