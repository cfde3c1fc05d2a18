// NcclCollective: the dense-gradient all-reduce between GPU workers (one GPU per rank).
// buffer_kind() is kDevice: AllReduceSum takes DEVICE memory of options.device (the cuda
// backend's DenseCompute::dense_gradients(), reduced in place); AllReduceHostSum takes host
// memory and stages it through a grow-only device buffer (host->device, all-reduce,
// device->host), for the trainer's small buffers.
//
// Rendezvous: rank 0 creates the ncclUniqueId and publishes it in the RendezvousStore under
// "<prefix>/nccl_id"; the others read it (DEADLINE_EXCEEDED after options.timeout).
//
// No call waits forever on a peer. The communicator is non-blocking (ncclConfig_t::blocking =
// 0): init is polled with ncclCommGetAsyncError until ready or options.timeout, and each
// all-reduce, run on the collective's own stream, is polled (cudaStreamQuery +
// ncclCommGetAsyncError) against a deadline of options.timeout from the call. A timeout or an
// NCCL async error (a peer died, the network broke) aborts the communicator (ncclCommAbort) and
// returns UNAVAILABLE; the instance is then unusable and every later call is UNAVAILABLE, so
// the worker fails its job instead of hanging. The destructor also aborts rather than
// finalizes: it never waits for peers that may be gone.
//
// Semantics as worker/model/collective.h: for a fixed worker count and topology NCCL's order is
// fixed, so results are deterministic and equal on every rank; with two ranks each element is
// a + b. Ordering: AllReduceSum returns when the result is in place, so the caller's own
// stream may read it next; the caller must have finished writing `data` (the cuda backend
// synchronizes its stream before ForwardBackward returns).
//
// Errors (from the factory): INVALID_ARGUMENT for bad options; FAILED_PRECONDITION when this
// process sees no CUDA device (checked before any NCCL call) or options.device is not one of
// them; DEADLINE_EXCEEDED when rendezvous times out; UNAVAILABLE when communicator init fails or
// times out; INTERNAL for another failed CUDA call. Thread-safety as Collective: one thread.
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
  std::string prefix = "augur";       // job-unique key namespace inside the store
  // The longest wait for peers, applied to each of: rendezvous, communicator init, and every
  // all-reduce.
  absl::Duration timeout = absl::Seconds(60);
};

absl::StatusOr<std::unique_ptr<Collective>> NewNcclCollective(const NcclCollectiveOptions& o);

}  // namespace augur::model
