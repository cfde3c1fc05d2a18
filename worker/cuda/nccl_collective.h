// NcclCollective: the dense-gradient all-reduce between GPU workers (one GPU per rank). The
// buffer passed to AllReduceSum is DEVICE memory (DenseCompute::dense_gradients() of the cuda
// backend). Rank 0 creates the ncclUniqueId and publishes it in the RendezvousStore under
// "<prefix>/nccl_id"; the others read it. AllReduceSum runs on the collective's own stream and
// returns when the result is in place. For a fixed worker count and topology NCCL's ring
// order is fixed, so results are deterministic; with two ranks each element is a + b.
// Errors as worker/model/collective.h; INTERNAL for a failed CUDA/NCCL call.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "worker/model/collective.h"

namespace augur::model {

struct NcclCollectiveOptions {
  int rank = 0;
  int size = 1;
  int device = 0;                     // CUDA device of this rank
  RendezvousStore* store = nullptr;   // borrowed; used only during the factory call
  std::string prefix = "augur";
  absl::Duration timeout = absl::Seconds(60);
};

absl::StatusOr<std::unique_ptr<Collective>> NewNcclCollective(const NcclCollectiveOptions& o);

}  // namespace augur::model
