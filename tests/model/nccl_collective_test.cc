// NcclCollective where it can be tested without two GPUs: the argument checks, the clear
// FAILED_PRECONDITION (not a hang) on a machine without a device, and — on a machine with one
// device — a one-rank collective and the init timeout when the second rank never comes. A real
// two-rank all-reduce and a peer lost mid-all-reduce need two GPUs and are not tested here.
#include "worker/cuda/nccl_collective.h"

#include <cuda_runtime.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "tests/support/test_paths.h"
#include "worker/model/collective_factory.h"

namespace augur::model {
namespace {

bool HaveDevice() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

struct Store {
  augur::testing::ScratchDir dir{"nccl-store"};
  std::unique_ptr<RendezvousStore> store;
  Store() {
    auto s = NewFileRendezvousStore(dir.path());
    REQUIRE(s.ok());
    store = std::move(*s);
  }
};

TEST_CASE("NCCL options are checked before any device or peer is touched") {
  Store s;
  NcclCollectiveOptions o;
  o.store = s.store.get();
  o.size = 2;
  o.rank = 2;
  CHECK(NewNcclCollective(o).status().code() == absl::StatusCode::kInvalidArgument);
  o.rank = -1;
  CHECK(NewNcclCollective(o).status().code() == absl::StatusCode::kInvalidArgument);
  o.rank = 0;
  o.size = 0;
  CHECK(NewNcclCollective(o).status().code() == absl::StatusCode::kInvalidArgument);
  o.size = 2;
  o.store = nullptr;
  CHECK(NewNcclCollective(o).status().code() == absl::StatusCode::kInvalidArgument);
  o.store = s.store.get();
  o.device = -1;
  CHECK(NewNcclCollective(o).status().code() == absl::StatusCode::kInvalidArgument);
  o.device = 0;
  o.timeout = absl::ZeroDuration();
  CHECK(NewNcclCollective(o).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Without a CUDA device an NCCL collective fails at once instead of waiting") {
  if (HaveDevice()) {
    WARN("skipped: this machine has a CUDA device");
    return;
  }
  Store s;
  NcclCollectiveOptions o;
  o.store = s.store.get();
  o.size = 2;
  o.rank = 1;  // would wait a whole timeout for rank 0's id if the device were not checked first
  o.timeout = absl::Seconds(30);
  const auto t0 = std::chrono::steady_clock::now();
  auto c = NewNcclCollective(o);
  CHECK(c.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  WorkerCollectiveOptions wo;
  wo.backend = "cuda";
  wo.size = 2;
  wo.store = s.store.get();
  CHECK(NewWorkerCollective(wo).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("A device that does not exist is a failed precondition") {
  if (!HaveDevice()) {
    WARN("skipped: no CUDA device");
    return;
  }
  Store s;
  NcclCollectiveOptions o;
  o.store = s.store.get();
  o.device = 4096;
  CHECK(NewNcclCollective(o).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("A one-rank NCCL collective reduces device buffers and stages host ones") {
  if (!HaveDevice()) {
    WARN("skipped: no CUDA device");
    return;
  }
  Store s;
  NcclCollectiveOptions o;
  o.store = s.store.get();
  o.timeout = absl::Seconds(30);
  auto c = NewNcclCollective(o);
  REQUIRE(c.ok());
  CHECK((*c)->buffer_kind() == BufferKind::kDevice);
  float host[3] = {1.0f, -0.0f, 2.5f};
  REQUIRE((*c)->AllReduceHostSum(host, 3).ok());
  CHECK(host[0] == 1.0f);
  CHECK(host[2] == 2.5f);
}

TEST_CASE("Communicator init gives up with UNAVAILABLE when a peer never joins") {
  if (!HaveDevice()) {
    WARN("skipped: no CUDA device");
    return;
  }
  Store s;
  NcclCollectiveOptions o;
  o.store = s.store.get();
  o.size = 2;
  o.rank = 0;  // publishes the id and waits in init for rank 1, which never comes
  o.timeout = absl::Seconds(3);
  const auto t0 = std::chrono::steady_clock::now();
  auto c = NewNcclCollective(o);
  CHECK(c.status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));
}

}  // namespace
}  // namespace augur::model
