// ShardCore: registry semantics, lazy deterministic init, lookup and versioned write-back.
#include <catch2/catch.hpp>

#include "tests/server/shard_test_util.h"
#include "tests/support/test_paths.h"

namespace augur::shard {
namespace {

using testing::InitialRecord;
using testing::MakeSpec;
using testing::OpenMemoryCore;
using testing::RowsOfShard;

RowBlock Rows(uint32_t table, std::vector<uint64_t> rows) {
  RowBlock b;
  b.table_id = table;
  b.rows = std::move(rows);
  return b;
}

}  // namespace

TEST_CASE("creating an identical table twice reports created only once") {
  auto core = OpenMemoryCore();
  CHECK(*core->CreateTable(MakeSpec(1)) == true);
  CHECK(*core->CreateTable(MakeSpec(1)) == false);
  CHECK(core->ListTables().size() == 1);
}

TEST_CASE("a different spec under an existing id is already exists") {
  auto core = OpenMemoryCore();
  REQUIRE(core->CreateTable(MakeSpec(1)).ok());
  CHECK(core->CreateTable(MakeSpec(1, 1000, 8)).status().code() ==
        absl::StatusCode::kAlreadyExists);
}

TEST_CASE("an invalid table spec is rejected") {
  auto core = OpenMemoryCore();
  CHECK(core->CreateTable(MakeSpec(1, (uint64_t{1} << 40) + 1)).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(core->CreateTable(MakeSpec(1, (uint64_t{1} << 40))).ok());
}

TEST_CASE("tables are listed by id and dropped tables disappear") {
  auto core = OpenMemoryCore();
  REQUIRE(core->CreateTable(MakeSpec(5)).ok());
  REQUIRE(core->CreateTable(MakeSpec(2)).ok());
  auto list = core->ListTables();
  REQUIRE(list.size() == 2);
  CHECK(list[0].id == 2);
  REQUIRE(core->DropTable(2).ok());
  CHECK(core->ListTables().size() == 1);
  CHECK(core->DropTable(2).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("dropping a table deletes its rows so a re-created table starts fresh") {
  auto core = OpenMemoryCore();
  auto spec = MakeSpec(1);
  REQUIRE(core->CreateTable(spec).ok());
  RowBlock w = Rows(1, {3});
  w.values = {9, 9, 9, 9};
  w.versions = {5};
  REQUIRE(core->Write({w}).ok());
  REQUIRE(core->DropTable(1).ok());
  REQUIRE(core->CreateTable(spec).ok());
  auto r = core->Lookup({Rows(1, {3})}, false);
  REQUIRE(r.ok());
  CHECK((*r)[0].versions[0] == 0);
  CHECK((*r)[0].values == InitialRecord(spec, 3));
}

TEST_CASE("the registry survives a restart of an on-disk shard") {
  augur::testing::ScratchDir dir("core-reopen");
  StoreOptions so{StoreProfile::kSsd, dir.path() + "/db", 8};
  auto spec = MakeSpec(4, 77, 3, OptimizerKind::kAdagrad);
  {
    auto core = ShardCore::Open(*ShardStore::Open(so), {});
    REQUIRE(core.ok());
    REQUIRE((*core)->CreateTable(spec).ok());
  }
  auto core = ShardCore::Open(*ShardStore::Open(so), {});
  REQUIRE(core.ok());
  REQUIRE((*core)->ListTables().size() == 1);
  CHECK((*core)->ListTables()[0] == spec);
}

TEST_CASE("a never-written row reads as its deterministic init on every shard count") {
  auto spec = MakeSpec(3, 500, 6, OptimizerKind::kAdam);
  for (uint32_t n : {1u, 2u, 3u, 5u}) {
    for (uint32_t s = 0; s < n; ++s) {
      auto core = OpenMemoryCore(s, n);
      REQUIRE(core->CreateTable(spec).ok());
      auto rows = RowsOfShard(3, s, n, 4);
      auto r = core->Lookup({Rows(3, rows)}, true);
      REQUIRE(r.ok());
      for (size_t i = 0; i < rows.size(); ++i) {
        auto expect = InitialRecord(spec, rows[i]);
        std::vector<float> got((*r)[0].values.begin() + i * spec.RowFloats(),
                               (*r)[0].values.begin() + (i + 1) * spec.RowFloats());
        CHECK(got == expect);
        CHECK((*r)[0].versions[i] == 0);
      }
    }
  }
}

TEST_CASE("lookup without state returns only the value floats") {
  auto core = OpenMemoryCore();
  auto spec = MakeSpec(1, 100, 3, OptimizerKind::kAdam);
  REQUIRE(core->CreateTable(spec).ok());
  auto r = core->Lookup({Rows(1, {7, 8})}, false);
  REQUIRE(r.ok());
  REQUIRE((*r)[0].values.size() == 6);
  auto rec = InitialRecord(spec, 8);
  CHECK(std::vector<float>((*r)[0].values.begin() + 3, (*r)[0].values.end()) ==
        std::vector<float>(rec.begin(), rec.begin() + 3));
}

TEST_CASE("a written row reads back with its state and version") {
  auto core = OpenMemoryCore();
  REQUIRE(core->CreateTable(MakeSpec(1, 100, 2, OptimizerKind::kAdagrad)).ok());
  RowBlock w = Rows(1, {4, 9});
  w.values = {1, 2, 3, 4, 5, 6};
  w.versions = {3, 4};
  REQUIRE(core->Write({w}).ok());
  auto r = core->Lookup({Rows(1, {9, 4})}, true);
  REQUIRE(r.ok());
  CHECK((*r)[0].values == std::vector<float>{4, 5, 6, 1, 2, 3});
  CHECK((*r)[0].versions == std::vector<int64_t>{4, 3});
}

TEST_CASE("lookup of one request spans several tables in block order") {
  auto core = OpenMemoryCore();
  REQUIRE(core->CreateTable(MakeSpec(1, 100, 2)).ok());
  REQUIRE(core->CreateTable(MakeSpec(2, 100, 5)).ok());
  auto r = core->Lookup({Rows(2, {1}), Rows(1, {1, 2})}, false);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].values.size() == 5);
  CHECK((*r)[1].values.size() == 4);
}

TEST_CASE("lookup below a requested minimum version is aborted") {
  auto core = OpenMemoryCore();
  REQUIRE(core->CreateTable(MakeSpec(1, 100, 1)).ok());
  RowBlock q = Rows(1, {4});
  q.versions = {1};
  CHECK(core->Lookup({q}, false).status().code() == absl::StatusCode::kAborted);
  RowBlock w = Rows(1, {4});
  w.values = {1};
  w.versions = {1};
  REQUIRE(core->Write({w}).ok());
  CHECK(core->Lookup({q}, false).ok());
}

TEST_CASE("a write older than the stored version is a failed precondition") {
  auto core = OpenMemoryCore();
  REQUIRE(core->CreateTable(MakeSpec(1, 100, 1)).ok());
  RowBlock w = Rows(1, {4});
  w.values = {1};
  w.versions = {5};
  REQUIRE(core->Write({w}).ok());
  REQUIRE(core->Write({w}).ok());  // same version again: an idempotent retry
  w.versions = {4};
  w.values = {2};
  CHECK(core->Write({w}).code() == absl::StatusCode::kFailedPrecondition);
  auto r = core->Lookup({Rows(1, {4})}, false);
  CHECK((*r)[0].values[0] == 1);
}

TEST_CASE("a stale row anywhere in a write request writes nothing") {
  auto core = OpenMemoryCore();
  REQUIRE(core->CreateTable(MakeSpec(1, 100, 1)).ok());
  RowBlock w = Rows(1, {4});
  w.values = {1};
  w.versions = {5};
  REQUIRE(core->Write({w}).ok());
  RowBlock mixed = Rows(1, {7, 4});
  mixed.values = {8, 8};
  mixed.versions = {9, 1};
  CHECK(core->Write({mixed}).code() == absl::StatusCode::kFailedPrecondition);
  auto r = core->Lookup({Rows(1, {7})}, false);
  CHECK((*r)[0].versions[0] == 0);
}

}  // namespace augur::shard
