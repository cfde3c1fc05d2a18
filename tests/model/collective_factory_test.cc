// NewWorkerCollective: which collective a worker of a job gets (NCCL itself is tested in
// nccl_collective_test, built with CUDA only).
#include "worker/model/collective_factory.h"

#include <catch2/catch.hpp>

namespace augur::model {
namespace {

TEST_CASE("One worker all-reduces locally, CPU workers over Gloo, CUDA workers over NCCL") {
  CHECK(CollectiveKindFor("cpu", 1) == CollectiveKind::kLocal);
  CHECK(CollectiveKindFor("cuda", 1) == CollectiveKind::kLocal);
  CHECK(CollectiveKindFor("cpu", 2) == CollectiveKind::kGloo);
  CHECK(CollectiveKindFor("cpu", 8) == CollectiveKind::kGloo);
  CHECK(CollectiveKindFor("cuda", 2) == CollectiveKind::kNccl);
  CHECK(CollectiveKindName(CollectiveKind::kLocal) == "local");
  CHECK(CollectiveKindName(CollectiveKind::kGloo) == "gloo");
  CHECK(CollectiveKindName(CollectiveKind::kNccl) == "nccl");
}

TEST_CASE("A one-worker job gets a local collective on host buffers, even on CUDA") {
  WorkerCollectiveOptions o;
  o.backend = "cuda";
  auto c = NewWorkerCollective(o);
  REQUIRE(c.ok());
  CHECK((*c)->size() == 1);
  CHECK((*c)->buffer_kind() == BufferKind::kHost);
}

TEST_CASE("CPU workers without a rendezvous store are refused before any wait") {
  WorkerCollectiveOptions o;
  o.size = 2;
  CHECK(NewWorkerCollective(o).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace augur::model
