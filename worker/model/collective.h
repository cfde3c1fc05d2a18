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
// Memory: buffer_kind() says where AllReduceSum's buffer lives — host memory for Local and Gloo,
// device memory of the rank's GPU for NCCL (which cannot read host memory). AllReduceHostSum
// takes host memory from every collective: the same call as AllReduceSum on a host collective,
// staged through a device buffer (one copy each way) on a device collective, so it suits small
// buffers (flags, barriers, shared rows, row transfers), not the dense gradients.
//
// Thread-safety: a Collective is driven by one thread; calls are collective (every rank must
// make the same sequence of calls with the same n, AllReduceSum and AllReduceHostSum in the
// same order). Errors: INVALID_ARGUMENT for bad options, DEADLINE_EXCEEDED when rendezvous
// times out, UNAVAILABLE when a peer fails or does not answer within the collective's timeout
// mid-operation (the instance is then unusable; NCCL answers every later call UNAVAILABLE).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace augur::model {

// Where AllReduceSum's buffer lives.
enum class BufferKind { kHost, kDevice };

class Collective {
 public:
  virtual ~Collective() = default;
  // kHost for Local and Gloo, kDevice for NCCL. Fixed for the instance's life.
  virtual BufferKind buffer_kind() const = 0;
  // In place; `data` is in buffer_kind() memory.
  virtual absl::Status AllReduceSum(float* data, int64_t n) = 0;
  // In place on host memory whatever buffer_kind(). The default forwards to AllReduceSum for a
  // host collective (identical results) and is UNIMPLEMENTED for a device one; device
  // collectives override it with a staged copy.
  virtual absl::Status AllReduceHostSum(float* data, int64_t n);
  virtual int rank() const = 0;
  virtual int size() const = 0;
};

// A one-worker "all-reduce" on host memory: leaves data untouched.
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
