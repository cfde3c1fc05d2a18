// The analyzer's trace plumbing: interning keys to dense ids and spilling interned slices to disk.
#include <catch2/catch.hpp>

#include <random>

#include "absl/container/flat_hash_map.h"
#include "cli/analyze/row_interner.h"
#include "cli/analyze/spilled_trace.h"
#include "tests/support/test_paths.h"

using namespace augur::analyze;
using augur::plan::MakeKey;
using augur::plan::RowKey;

TEST_CASE("the interner numbers keys in order of first sight and keeps them through growth") {
  RowInterner interner;
  absl::flat_hash_map<RowKey, uint32_t> expected;
  std::mt19937_64 rng(5);
  std::vector<uint32_t> ids;
  for (int slice = 0; slice < 200; ++slice) {
    std::vector<RowKey> keys;
    for (int i = 0; i < 1500; ++i) keys.push_back(MakeKey(rng() % 26, rng() % 100000));
    interner.Intern(keys, &ids);
    REQUIRE(ids.size() == keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      auto [it, inserted] = expected.try_emplace(keys[i], static_cast<uint32_t>(expected.size()));
      REQUIRE(ids[i] == it->second);
    }
  }
  CHECK(interner.size() == static_cast<int64_t>(expected.size()));
  CHECK(interner.size() > (int64_t{1} << 16));  // grew past its first table
}

TEST_CASE("a spilled trace replays its slices in order with their workers and iterations") {
  augur::testing::ScratchDir tmp("spill");
  auto spill = SpilledTrace::Create(tmp.path());
  REQUIRE(spill.ok());
  std::vector<std::vector<uint32_t>> slices = {{1, 2, 3}, {}, {4}, {5, 6}, {7}, {8, 9, 10}};
  for (const auto& s : slices) REQUIRE((*spill)->Append(s).ok());
  for (int round = 0; round < 2; ++round) {  // replays are repeatable
    size_t next = 0;
    auto s = (*spill)->Replay(2, [&](int w, int64_t t, std::span<const uint32_t> ids) {
      CHECK(w == static_cast<int>(next % 2));
      CHECK(t == static_cast<int64_t>(next / 2));
      CHECK(std::vector<uint32_t>(ids.begin(), ids.end()) == slices[next]);
      ++next;
      return absl::OkStatus();
    });
    REQUIRE(s.ok());
    CHECK(next == slices.size());
  }
  CHECK((*spill)->bytes() == 4 * (6 + 10));
}

TEST_CASE("a spill file that cannot be created is an INTERNAL error naming the directory") {
  auto spill = SpilledTrace::Create("/nonexistent-augur-dir");
  REQUIRE_FALSE(spill.ok());
  CHECK(spill.status().code() == absl::StatusCode::kInternal);
  CHECK(spill.status().message().find("/nonexistent-augur-dir") != std::string::npos);
}
