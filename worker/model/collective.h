// Collective: the dense-gradient all-reduce between the workers of one job (the transport seam,
// STYLE.md item 7). Gloo between CPU workers (host buffers), NCCL between GPU workers (device
// buffers, worker/cuda/nccl_collective.h), LocalCollective for a single worker.
//
// Semantics: AllReduceSum replaces data[0..n) on every rank with the element-wise sum over all
// ranks, and returns only when the result is in place. Sums are plain IEEE additions (callers
// use -0.0f as the "no contribution" identity, so nothing may start from +0.0f), and for a
// fixed worker count the result is deterministic and identical on every rank. With two ranks
// it is bitwise a + b.
//
// Rendezvous: ranks find each other through a RendezvousStore — a key/value board that the
// worker process is given: a shared directory (NewFileRendezvousStore) in tests and local
// clusters, or any store the runtime implements (e.g. over the oracle's job service). Keys are
// namespaced by a per-job prefix so several jobs can share one store.
//
// Thread-safety: a Collective is driven by one thread; calls are collective (every rank must
// make the same sequence of calls with the same n). Errors: INVALID_ARGUMENT for bad options,
// DEADLINE_EXCEEDED when rendezvous times out, UNAVAILABLE when a peer fails mid-operation
// (the instance is then unusable).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace augur::model {

class Collective {
 public:
  virtual ~Collective() = default;
  // In place; `data` is host memory for Local/Gloo, device memory for NCCL.
  virtual absl::Status AllReduceSum(float* data, int64_t n) = 0;
  virtual int rank() const = 0;
  virtual int size() const = 0;
};

// A one-worker "all-reduce": leaves data untouched.
std::unique_ptr<Collective> NewLocalCollective();

// A key/value board for rendezvous. Values are opaque bytes. Must be thread-safe.
class RendezvousStore {
 public:
  virtual ~RendezvousStore() = default;
  virtual absl::Status Set(const std::string& key, const std::string& value) = 0;
  // Waits until `key` exists; DEADLINE_EXCEEDED after `timeout`.
  virtual absl::StatusOr<std::string> Get(const std::string& key, absl::Duration timeout) = 0;
};

// A store in a directory visible to all ranks (one file per key, published by atomic rename).
// The directory is created when missing. INVALID_ARGUMENT for an empty path.
absl::StatusOr<std::unique_ptr<RendezvousStore>> NewFileRendezvousStore(const std::string& dir);

struct GlooCollectiveOptions {
  int rank = 0;
  int size = 1;
  RendezvousStore* store = nullptr;   // borrowed; must outlive rendezvous (the factory call)
  std::string prefix = "augur";       // job-unique key namespace inside the store
  std::string hostname = "127.0.0.1"; // address this rank listens on (loopback by default)
  absl::Duration timeout = absl::Seconds(60);
};

// Connects a full mesh of `size` ranks over Gloo's TCP transport; blocks until all ranks
// have joined or the timeout expires.
absl::StatusOr<std::unique_ptr<Collective>> NewGlooCollective(const GlooCollectiveOptions& o);

}  // namespace augur::model
