// Return-code checks for CUDA runtime, cuBLAS(Lt) and NCCL calls: every failure becomes an
// INTERNAL absl::Status naming the call, returned from the enclosing function. Host (.cc) code
// only; kernels' launch errors are picked up by checking cudaGetLastError after each launch.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#define AUGUR_CUDA_RETURN_IF_ERROR(expr)                                                    \
  do {                                                                                      \
    cudaError_t augur_cuda_err_ = (expr);                                                   \
    if (augur_cuda_err_ != cudaSuccess) {                                                   \
      return ::absl::InternalError(                                                         \
          ::absl::StrCat(#expr, " failed: ", cudaGetErrorString(augur_cuda_err_)));         \
    }                                                                                       \
  } while (0)

#define AUGUR_CUBLAS_RETURN_IF_ERROR(expr)                                                  \
  do {                                                                                      \
    cublasStatus_t augur_cublas_err_ = (expr);                                              \
    if (augur_cublas_err_ != CUBLAS_STATUS_SUCCESS) {                                       \
      return ::absl::InternalError(                                                         \
          ::absl::StrCat(#expr, " failed: ", cublasLtGetStatusString(augur_cublas_err_)));    \
    }                                                                                       \
  } while (0)
