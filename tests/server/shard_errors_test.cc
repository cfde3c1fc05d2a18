// Bad input to ShardCore: each rejection has its documented code and changes nothing.
#include <catch2/catch.hpp>

#include "tests/server/shard_test_util.h"

namespace augur::shard {
namespace {

using testing::MakeSpec;
using testing::OpenMemoryCore;
using testing::RowsOfShard;

// A 2-shard core (shard 0) with table 1 (100 rows, dim 2) and one written row.
struct Fixture {
  std::unique_ptr<ShardCore> core = OpenMemoryCore(0, 2, /*max_rows=*/8);
  std::vector<uint64_t> mine = RowsOfShard(1, 0, 2, 3);
  std::vector<uint64_t> theirs = RowsOfShard(1, 1, 2, 1);
  Fixture() {
    REQUIRE(core->CreateTable(MakeSpec(1, 100, 2)).ok());
    REQUIRE(core->Write({Block(mine[0], {1, 1}, {2})}).ok());
  }
  RowBlock Block(uint64_t row, std::vector<float> values, std::vector<int64_t> versions = {}) {
    RowBlock b;
    b.table_id = 1;
    b.rows = {row};
    b.values = std::move(values);
    b.versions = std::move(versions);
    return b;
  }
  // The written row is unchanged and the other rows are still unwritten.
  void CheckUnchanged() {
    RowBlock q;
    q.table_id = 1;
    q.rows = mine;
    auto r = core->Lookup({q}, true);
    REQUIRE(r.ok());
    CHECK((*r)[0].versions == std::vector<int64_t>{2, 0, 0});
    CHECK((*r)[0].values[0] == 1);
    CHECK(core->applied_iteration() == -1);
  }
};

}  // namespace

TEST_CASE("an unknown table is not found and writes nothing") {
  Fixture f;
  RowBlock good = f.Block(f.mine[1], {5, 5}, {9});
  RowBlock bad = good;
  bad.table_id = 99;
  CHECK(f.core->Write({good, bad}).code() == absl::StatusCode::kNotFound);
  CHECK(f.core->Lookup({bad}, false).status().code() == absl::StatusCode::kNotFound);
  CHECK(f.core->DropTable(99).code() == absl::StatusCode::kNotFound);
  f.CheckUnchanged();
}

TEST_CASE("a row beyond the table is out of range and writes nothing") {
  Fixture f;
  uint64_t past = RowsOfShard(1, 0, 2, 1, 100)[0];
  CHECK(f.core->Write({f.Block(f.mine[1], {5, 5}, {9}), f.Block(past, {5, 5}, {9})}).code() ==
        absl::StatusCode::kOutOfRange);
  CHECK(f.core->Lookup({f.Block(past, {})}, false).status().code() ==
        absl::StatusCode::kOutOfRange);
  CHECK(f.core->ApplyGradients({f.Block(past, {1, 1})}, 0, 0, 1).status().code() ==
        absl::StatusCode::kOutOfRange);
  f.CheckUnchanged();
}

TEST_CASE("a row of another shard is an invalid argument and writes nothing") {
  Fixture f;
  CHECK(f.core->Write({f.Block(f.mine[1], {5, 5}, {9}), f.Block(f.theirs[0], {5, 5}, {9})})
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.core->Lookup({f.Block(f.theirs[0], {})}, false).status().code() ==
        absl::StatusCode::kInvalidArgument);
  f.CheckUnchanged();
}

TEST_CASE("a payload of the wrong size is an invalid argument and writes nothing") {
  Fixture f;
  CHECK(f.core->Write({f.Block(f.mine[1], {5, 5, 5}, {9})}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.core->Write({f.Block(f.mine[1], {5, 5}, {})}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.core->Write({f.Block(f.mine[1], {5, 5}, {-1})}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.core->ApplyGradients({f.Block(f.mine[1], {5})}, 0, 0, 1).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.core->Lookup({f.Block(f.mine[1], {5})}, false).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.core->Lookup({f.Block(f.mine[1], {}, {1, 2})}, false).status().code() ==
        absl::StatusCode::kInvalidArgument);
  f.CheckUnchanged();
}

TEST_CASE("a request over the row limit is resource exhausted and writes nothing") {
  Fixture f;
  RowBlock big;
  big.table_id = 1;
  big.rows = RowsOfShard(1, 0, 2, 9);
  big.values.assign(9 * 2, 3.0f);
  big.versions.assign(9, 7);
  CHECK(f.core->Write({big}).code() == absl::StatusCode::kResourceExhausted);
  CHECK(f.core->Lookup({f.Block(f.mine[0], {}), big}, false).status().code() ==
        absl::StatusCode::kResourceExhausted);
  big.versions.clear();
  CHECK(f.core->ApplyGradients({big}, 0, 0, 1).status().code() ==
        absl::StatusCode::kResourceExhausted);
  f.CheckUnchanged();
}

TEST_CASE("a shard index outside num_shards is refused at open") {
  ShardCoreOptions o;
  o.shard_index = 2;
  o.num_shards = 2;
  CHECK(ShardCore::Open(testing::OpenMemoryStore(), o).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace augur::shard
