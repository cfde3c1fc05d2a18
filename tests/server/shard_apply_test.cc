// ShardCore::ApplyGradients: the server-side optimizer matches common/optimizer.h bit for bit,
// duplicates and workers are summed in the documented order, and misuse is rejected.
#include <catch2/catch.hpp>

#include "common/optimizer.h"
#include "tests/server/shard_test_util.h"
#include "tests/support/test_paths.h"

namespace augur::shard {
namespace {

using testing::InitialRecord;
using testing::MakeSpec;
using testing::OpenMemoryCore;

RowBlock Grad(uint32_t table, std::vector<uint64_t> rows, std::vector<float> g) {
  RowBlock b;
  b.table_id = table;
  b.rows = std::move(rows);
  b.values = std::move(g);
  return b;
}

std::vector<float> ReadRecord(ShardCore& core, uint32_t table, uint64_t row, int64_t* version) {
  RowBlock q;
  q.table_id = table;
  q.rows = {row};
  auto r = core.Lookup({q}, true);
  REQUIRE(r.ok());
  *version = (*r)[0].versions[0];
  return (*r)[0].values;
}

}  // namespace

TEST_CASE("applied gradients match ApplyRowUpdate for every optimizer") {
  for (auto kind : {OptimizerKind::kSgd, OptimizerKind::kAdagrad, OptimizerKind::kAdam}) {
    auto core = OpenMemoryCore();
    auto spec = MakeSpec(1, 100, 3, kind);
    REQUIRE(core->CreateTable(spec).ok());
    std::vector<float> g = {0.5f, -1.25f, 2.0f};
    auto expect = InitialRecord(spec, 6);
    for (int64_t it = 0; it < 3; ++it) {
      REQUIRE(*core->ApplyGradients({Grad(1, {6}, g)}, it, 0, 1) == true);
      ApplyRowUpdate(spec.optimizer, 3, expect.data(), expect.data() + 3, g.data());
    }
    int64_t version = 0;
    CHECK(ReadRecord(*core, 1, 6, &version) == expect);
    CHECK(version == 3);
  }
}

TEST_CASE("duplicate rows in one push are summed in request order before one update") {
  auto core = OpenMemoryCore();
  auto spec = MakeSpec(1, 100, 1, OptimizerKind::kAdagrad);
  REQUIRE(core->CreateTable(spec).ok());
  REQUIRE(core->ApplyGradients({Grad(1, {2, 2}, {0.1f, 0.7f})}, 0, 0, 1).ok());
  auto expect = InitialRecord(spec, 2);
  float g = 0.1f + 0.7f;
  ApplyRowUpdate(spec.optimizer, 1, expect.data(), expect.data() + 1, &g);
  int64_t v = 0;
  CHECK(ReadRecord(*core, 1, 2, &v) == expect);
}

TEST_CASE("pushes of several workers apply once all arrived, summed in worker order") {
  auto core = OpenMemoryCore();
  auto spec = MakeSpec(1, 100, 1, OptimizerKind::kSgd);
  REQUIRE(core->CreateTable(spec).ok());
  auto before = InitialRecord(spec, 3);
  // Arrival order 2, 0, 1; sum must be (w0 dups) + (w1) + (w2 dups) in worker order.
  REQUIRE(*core->ApplyGradients({Grad(1, {3, 3}, {1e-8f, 1.0f})}, 0, 2, 3) == false);
  int64_t v = 0;
  CHECK(ReadRecord(*core, 1, 3, &v) == before);  // nothing applied yet
  REQUIRE(*core->ApplyGradients({Grad(1, {3}, {1e8f})}, 0, 0, 3) == false);
  REQUIRE(*core->ApplyGradients({}, 0, 1, 3) == true);  // an empty push still counts
  float g = 1e8f + (1e-8f + 1.0f);
  auto expect = before;
  ApplyRowUpdate(spec.optimizer, 1, expect.data(), nullptr, &g);
  CHECK(ReadRecord(*core, 1, 3, &v) == expect);
  CHECK(v == 1);
}

TEST_CASE("a push for an iteration already applied is a failed precondition") {
  auto core = OpenMemoryCore();
  REQUIRE(core->CreateTable(MakeSpec(1)).ok());
  REQUIRE(core->ApplyGradients({Grad(1, {3}, {1, 1, 1, 1})}, 4, 0, 1).ok());
  CHECK(core->ApplyGradients({Grad(1, {3}, {1, 1, 1, 1})}, 4, 0, 1).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(core->ApplyGradients({}, 2, 0, 2).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(core->applied_iteration() == 4);
}

TEST_CASE("a duplicate push of one worker is a failed precondition") {
  auto core = OpenMemoryCore();
  REQUIRE(core->CreateTable(MakeSpec(1)).ok());
  REQUIRE(core->ApplyGradients({}, 0, 1, 2).ok());
  CHECK(core->ApplyGradients({}, 0, 1, 2).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("pushes that disagree on num_workers or name a bad worker are invalid") {
  auto core = OpenMemoryCore();
  REQUIRE(core->CreateTable(MakeSpec(1)).ok());
  REQUIRE(core->ApplyGradients({}, 0, 0, 2).ok());
  CHECK(core->ApplyGradients({}, 0, 1, 3).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(core->ApplyGradients({}, 1, 2, 2).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(core->ApplyGradients({}, -1, 0, 1).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the applied iteration survives a restart") {
  augur::testing::ScratchDir dir("apply-reopen");
  StoreOptions so{StoreProfile::kSsd, dir.path() + "/db", 8};
  {
    auto core = *ShardCore::Open(*ShardStore::Open(so), {});
    REQUIRE(core->CreateTable(MakeSpec(1)).ok());
    REQUIRE(core->ApplyGradients({}, 7, 0, 1).ok());
  }
  auto core = *ShardCore::Open(*ShardStore::Open(so), {});
  CHECK(core->applied_iteration() == 7);
  CHECK(core->ApplyGradients({}, 7, 0, 1).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

}  // namespace augur::shard
