// The "cpu" DenseCompute backend: slot array and dense weights in host memory, GEMMs through
// OpenBLAS (threads set from DenseComputeOptions::threads; OpenBLAS's thread count is
// process-wide, so all CPU instances in one process should use the same value).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "worker/model/dense_compute.h"

namespace augur::model {

// INVALID_ARGUMENT for bad options (ValidateDenseComputeOptions).
absl::StatusOr<std::unique_ptr<DenseCompute>> CreateCpuDenseCompute(
    const DenseComputeOptions& options);

}  // namespace augur::model
