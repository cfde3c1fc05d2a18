// NewWorkerCollective: the all-reduce a worker of a job uses, picked from the job's dense
// backend and worker count — one worker: LocalCollective; CPU workers: Gloo (host buffers);
// CUDA workers: NCCL (device buffers, worker/cuda/nccl_collective.h). Kept apart from
// augur_collective, like CreateDenseCompute, so only this file (compiled with AUGUR_WITH_CUDA
// when worker/cuda is built) links NCCL.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "worker/model/collective.h"

namespace augur::model {

enum class CollectiveKind { kLocal, kGloo, kNccl };

// kLocal for one worker, kNccl for backend "cuda" with more workers, kGloo otherwise.
CollectiveKind CollectiveKindFor(std::string_view backend, int workers);
std::string_view CollectiveKindName(CollectiveKind kind);  // "local", "gloo", "nccl"

struct WorkerCollectiveOptions {
  std::string backend = "cpu";        // the job's training.backend
  int rank = 0;
  int size = 1;
  int cuda_device = 0;                // NCCL: this rank's device
  RendezvousStore* store = nullptr;   // borrowed; Gloo and NCCL rendezvous through it
  std::string prefix = "augur";       // job-unique key namespace inside the store
  std::string hostname = "127.0.0.1"; // Gloo: the address this rank listens on
  absl::Duration timeout = absl::Seconds(60);
};

// Errors as NewGlooCollective / NewNcclCollective; UNIMPLEMENTED when NCCL is needed and this
// binary was built without CUDA.
absl::StatusOr<std::unique_ptr<Collective>> NewWorkerCollective(const WorkerCollectiveOptions& o);

}  // namespace augur::model
