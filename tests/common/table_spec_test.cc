#include "common/table_spec.h"
#include "common/rng.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace augur;

TEST_CASE("ShardOf spreads rows evenly and is stable") {
  std::vector<int> count(3);
  for (uint64_t r = 0; r < 30000; ++r) count[ShardOf(5, r, 3)]++;
  for (int c : count) CHECK(c == Approx(10000).epsilon(0.05));
  CHECK(ShardOf(5, 77, 3) == ShardOf(5, 77, 3));
  CHECK(ShardOf(5, 77, 1) == 0);
}

TEST_CASE("Table specs outside the limits are rejected naming the field") {
  TableSpec t{1, "t", 10, 16};
  CHECK(ValidateTableSpec(t).ok());
  t.rows = kMaxTableRows + 1;
  auto st = ValidateTableSpec(t);
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(st.message()).find("rows") != std::string::npos);
  t.rows = kMaxTableRows;
  t.dim = 0;
  CHECK(ValidateTableSpec(t).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("The initial record holds the RNG row and fresh optimizer state") {
  TableSpec t{2, "t", 100, 4};
  t.seed = 9;
  t.optimizer.kind = OptimizerKind::kAdagrad;
  t.optimizer.initial_accumulator = 0.25f;
  REQUIRE(t.RowFloats() == 5);
  std::vector<float> rec(5), row(4);
  InitialRowRecord(t, 17, rec.data());
  InitRow(9, 2, 17, 4, t.init_lo, t.init_hi, row.data());
  CHECK(std::vector<float>(rec.begin(), rec.begin() + 4) == row);
  CHECK(rec[4] == 0.25f);
}
