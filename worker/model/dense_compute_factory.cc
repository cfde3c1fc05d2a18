// CreateDenseCompute: picks the backend by name. Kept apart from augur_model_core so the CPU
// core never links CUDA; this file is compiled with AUGUR_WITH_CUDA when worker/cuda is built.
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "worker/model/cpu_dense_compute.h"
#include "worker/model/dense_compute.h"
#if defined(AUGUR_WITH_CUDA)
#include "worker/cuda/cuda_dense_compute.h"
#endif

namespace augur::model {

absl::StatusOr<std::unique_ptr<DenseCompute>> CreateDenseCompute(
    const DenseComputeOptions& options) {
  if (options.backend == "cpu") return CreateCpuDenseCompute(options);
  if (options.backend == "cuda") {
#if defined(AUGUR_WITH_CUDA)
    return CreateCudaDenseCompute(options);
#else
    return absl::UnimplementedError(
        "the cuda backend is not built into this binary (configure with AUGUR_CUDA=ON)");
#endif
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown dense backend '", options.backend, "' (expected cpu or cuda)"));
}

}  // namespace augur::model
