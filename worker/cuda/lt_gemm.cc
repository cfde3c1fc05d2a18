// cuBLASLt plans. cuBLASLt assumes 256-byte aligned operands unless told otherwise; our weight
// matrices sit at arbitrary float offsets inside the flat dense buffer (the layout every
// backend shares), so each plan declares the operands' real alignment to the heuristic.
#include "worker/cuda/lt_gemm.h"

#include <cstdint>
#include <string>

#include "worker/cuda/cuda_check.h"

namespace augur::cuda {
namespace {

uint32_t Alignment(const void* p) {
  const auto v = reinterpret_cast<uintptr_t>(p);
  uint32_t a = 256;
  while (a > 4 && v % a != 0) a /= 2;
  return a;
}

}  // namespace

LtGemm::~LtGemm() { Destroy(); }

void LtGemm::Destroy() {
  if (la_) cublasLtMatrixLayoutDestroy(la_);
  if (lb_) cublasLtMatrixLayoutDestroy(lb_);
  if (lc_) cublasLtMatrixLayoutDestroy(lc_);
  if (desc_) cublasLtMatmulDescDestroy(desc_);
  la_ = lb_ = lc_ = nullptr;
  desc_ = nullptr;
}

absl::Status LtGemm::Init(cublasLtHandle_t handle, const LtGemmShape& s, const float* a,
                          const float* b, float* c, const float* bias, bool relu, bool tf32,
                          void* workspace, size_t workspace_bytes) {
  Destroy();
  handle_ = handle;
  a_ = a;
  b_ = b;
  c_ = c;
  workspace_ = workspace;
  workspace_bytes_ = workspace_bytes;
  const cublasComputeType_t compute = tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulDescCreate(&desc_, compute, CUDA_R_32F));
  const cublasOperation_t ta = s.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t tb = s.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  AUGUR_CUBLAS_RETURN_IF_ERROR(
      cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
  AUGUR_CUBLAS_RETURN_IF_ERROR(
      cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
  // Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k when transposed).
  AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(
      &la_, CUDA_R_32F, s.trans_a ? s.k : s.m, s.trans_a ? s.m : s.k, s.lda));
  AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(
      &lb_, CUDA_R_32F, s.trans_b ? s.n : s.k, s.trans_b ? s.k : s.n, s.ldb));
  AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(&lc_, CUDA_R_32F, s.m, s.n, s.ldc));

  cublasLtMatmulPreference_t pref = nullptr;
  AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceCreate(&pref));
  // Asks the heuristic for one algorithm with epilogue `epi`. An algorithm sets *found; "none
  // for this configuration" (SUCCESS with no result, or NOT_SUPPORTED) leaves it false and
  // returns OK; any other status is a real failure and is returned as such, with its name.
  auto find_algo = [&](cublasLtEpilogue_t epi, bool* found) -> absl::Status {
    *found = false;
    AUGUR_CUBLAS_RETURN_IF_ERROR(
        cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)));
    if (epi != CUBLASLT_EPILOGUE_DEFAULT) {
      AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulDescSetAttribute(
          desc_, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
    }
    const uint64_t ws = workspace_bytes;
    const uint32_t aa = Alignment(a), ab = Alignment(b), ac = Alignment(c);
    AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
    AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &aa, sizeof(aa)));
    AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &ab, sizeof(ab)));
    AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &ac, sizeof(ac)));
    AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &ac, sizeof(ac)));
    cublasLtMatmulHeuristicResult_t result{};
    int count = 0;
    const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(handle_, desc_, la_, lb_, lc_, lc_,
                                                             pref, 1, &result, &count);
    if (st == CUBLAS_STATUS_NOT_SUPPORTED) return absl::OkStatus();
    if (st != CUBLAS_STATUS_SUCCESS) {
      return absl::InternalError(absl::StrCat(
          "cublasLtMatmulAlgoGetHeuristic failed for a ", s.m, "x", s.n, "x", s.k,
          " FP32 matmul (epilogue ", static_cast<int>(epi), "): ", cublasLtGetStatusString(st)));
    }
    *found = count > 0 && result.state == CUBLAS_STATUS_SUCCESS;
    if (*found) algo_ = result.algo;
    return absl::OkStatus();
  };
  bool found = false;
  absl::Status fused_status = absl::OkStatus(), status = absl::OkStatus();
  fused_ = false;
  if (bias != nullptr && Alignment(bias) >= 16) {
    fused_status = find_algo(relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS, &found);
    fused_ = fused_status.ok() && found;
  }
  // Whatever stopped the fused search, the unfused one may still work (the caller then adds
  // bias and ReLU itself); only if it fails too is the job over, with both reasons.
  if (!fused_) status = find_algo(CUBLASLT_EPILOGUE_DEFAULT, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  const std::string fused_note =
      fused_status.ok() ? "" : absl::StrCat(" (the fused search failed first: ",
                                            fused_status.message(), ")");
  if (!status.ok()) return absl::InternalError(absl::StrCat(status.message(), fused_note));
  if (!found) {
    return absl::InternalError(absl::StrCat("cuBLASLt has no algorithm for a ", s.m, "x", s.n,
                                            "x", s.k, " FP32 matmul", fused_note));
  }
  return absl::OkStatus();
}

absl::Status LtGemm::Run(cudaStream_t stream) const {
  const float alpha = 1.0f, beta = 0.0f;
  AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtMatmul(handle_, desc_, &alpha, a_, la_, b_, lb_, &beta,
                                              c_, lc_, c_, lc_, &algo_, workspace_,
                                              workspace_bytes_, stream));
  return absl::OkStatus();
}

}  // namespace augur::cuda
