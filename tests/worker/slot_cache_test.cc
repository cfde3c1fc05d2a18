// SlotCache against a real shard server on a loopback port: a step waits only for the fills it
// needs, never for fills of later steps that came in the same plan.
#include <catch2/catch.hpp>

#include "server/client/shard_client.h"
#include "server/shard_server.h"
#include "tests/server/shard_test_util.h"
#include "worker/model/dense_compute.h"
#include "worker/model/dlrm_config.h"
#include "worker/runtime/slot_cache.h"

namespace augur::worker {
namespace {

TEST_CASE("a step waits only for the fills it needs and not for later ones of its plan") {
  auto core = shard::testing::OpenMemoryCore();
  auto server = *shard::ShardServer::Start(core.get(), nullptr, {"127.0.0.1:0", 2});
  shard::ShardClientOptions o;
  o.version_wait = std::chrono::milliseconds(1500);
  auto client = *shard::ShardClient::Connect({"127.0.0.1:" + std::to_string(server->port())}, o);
  model::DenseComputeOptions co;
  co.model = *model::DlrmPreset("kaggle");
  co.model.num_sparse = 1;
  co.capacity = 8;
  auto compute = *model::CreateDenseCompute(co);
  REQUIRE(client->CreateTable(shard::testing::MakeSpec(0, 1000, co.model.dim)).get().ok());

  SlotCache cache(client.get(), compute.get());
  // Row 7 is needed at step 5 and stored; row 9 is needed at step 9 at version 4, which no
  // one wrote yet: its lookup keeps waiting (ABORTED retries) until the write below.
  cache.IssueFills({{plan::MakeKey(0, 9), 1, 9, 4}, {plan::MakeKey(0, 7), 0, 5, -1}});
  auto waited = cache.ApplyFillsFor(5);
  REQUIRE(waited.ok());  // one round for both: it would wait out version_wait, then ABORTED
  CHECK(cache.version(0) == 0);
  CHECK(*cache.SlotOf(plan::MakeKey(0, 7)) == 0);

  shard::RowBlock w{0, {9}, std::vector<float>(compute->row_floats(), 0.5f), {4}};
  REQUIRE(client->Write({w}).get().ok());
  REQUIRE(cache.ApplyFillsFor(9).ok());
  CHECK(cache.version(1) == 4);
  std::vector<float> row(compute->row_floats());
  REQUIRE(compute->ReadSlots({1}, absl::MakeSpan(row)).ok());
  CHECK(row == w.values);
  client.reset();
  server->Shutdown();
}

}  // namespace
}  // namespace augur::worker
