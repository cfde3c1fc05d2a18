// Per-batch deduplication and the IterationReads the oracle plans on.
#include "common/data/dedup.h"

#include <catch2/catch.hpp>
#include <random>
#include <set>

#include "common/data/prep.h"
#include "tests/data/data_test_util.h"
#include "tests/support/test_paths.h"

using namespace augur::data;
namespace plan = augur::plan;

TEST_CASE("dedup lists each id once in first-occurrence order with an exact inverse") {
  const int64_t b = 1000;
  std::vector<uint32_t> ids(kNumSparse * b);
  SparseSliceView view;
  for (int f = 0; f < kNumSparse; ++f) view.push_back(std::span<const uint32_t>(ids).subspan(f * b, b));
  std::mt19937 rng(5);
  for (int f = 0; f < kNumSparse; ++f) {
    std::uniform_int_distribution<uint32_t> d(0, f == 3 ? 0xffffffffu : uint32_t(f * 10 + 1));
    for (int64_t s = 0; s < b; ++s) ids[f * b + s] = d(rng);
  }
  BatchDeduplicator dedup;
  DedupedSlice out;
  for (int round = 0; round < 2; ++round) {  // the second round reuses the scratch table
    dedup.Dedup(view, &out);
    for (int f = 0; f < kNumSparse; ++f) {
      auto u = out.unique_ids(f);
      std::set<uint32_t> distinct(ids.begin() + f * b, ids.begin() + (f + 1) * b);
      REQUIRE(u.size() == distinct.size());
      CHECK(std::set<uint32_t>(u.begin(), u.end()) == distinct);
      for (int64_t s = 0; s < b; ++s) CHECK(u[out.inverse[f * b + s]] == ids[f * b + s]);
      CHECK(u[0] == ids[f * b]);  // first occurrence first
    }
  }
}

TEST_CASE("IterationReads lists each worker's unique (feature, id) keys") {
  augur::testing::ScratchDir tmp("dedup-reads");
  // 8 rows: C1 = row % 3 + 1, C2 = 0xabc; B = 2, W = 2 -> 2 global batches.
  std::string s;
  for (int r = 0; r < 8; ++r) {
    char c1[9];
    snprintf(c1, sizeof(c1), "%08x", r % 3 + 1);
    s += std::string("0") + std::string(13, '\t') + "\t" + c1 + "\t00000abc" +
         std::string(24, '\t') + "\n";
  }
  augur::testing::WriteFile(tmp.path() + "/in.tsv", s);
  PrepOptions o;
  o.inputs = {tmp.path() + "/in.tsv"};
  o.out_dir = tmp.path() + "/d";
  REQUIRE(PrepareDataset(o).ok());
  auto ds = Dataset::Open(o.out_dir);
  REQUIRE(ds.ok());
  BatchDeduplicator dedup;
  plan::IterationReads reads;
  REQUIRE(FillIterationReads(**ds, 1, {2, 2}, &dedup, &reads).ok());
  REQUIRE(reads.by_worker.size() == 2);
  // Batch 1, worker 0: rows 4,5 -> C1 ids 2,3; worker 1: rows 6,7 -> C1 ids 1,2.
  auto keys = [](std::vector<plan::RowKey> v) { return std::set<plan::RowKey>(v.begin(), v.end()); };
  std::set<plan::RowKey> w0 = {plan::MakeKey(0, 2), plan::MakeKey(0, 3),
                                  plan::MakeKey(1, 0xabc)};
  for (int f = 2; f < kNumSparse; ++f) w0.insert(plan::MakeKey(f, 0));
  CHECK(keys(reads.by_worker[0]) == w0);
  CHECK(reads.by_worker[0].size() == w0.size());
  CHECK(keys(reads.by_worker[1]).count(plan::MakeKey(0, 1)) == 1);
  IterationReadsStream stream(**ds, {2, 2});
  int n = 0;
  while (stream.Next(&reads)) ++n;
  CHECK(n == 2);
}
