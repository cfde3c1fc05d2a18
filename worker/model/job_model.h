// The dense model a job spec describes: the one conversion from the spec's model section to a
// DlrmConfig, shared by the worker (to build it), the oracle (to check an uploaded model's size)
// and the CLI (to export it). Depends on the spec and the model's shape only, no compute.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/job/job_spec.h"
#include "worker/model/dlrm_config.h"

namespace augur::worker {

// Converts the job's model section (and data.num_dense / num_sparse, when known) to the compute
// library's config. INVALID_ARGUMENT ("model: ...") when the shape is unusable.
absl::StatusOr<model::DlrmConfig> ModelConfigOf(const job::JobSpec& spec);

// Floats in the job's flat dense-weight vector (model::DenseLayout::total_floats).
absl::StatusOr<int64_t> DenseWeightCountOf(const job::JobSpec& spec);

}  // namespace augur::worker
