// The policy simulators on traces worked out by hand, each showing the slice rule: the slice being
// trained is resident inside the capacity, and no victim is one of its rows.
#include "cli/analyze/cache_sim.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "cli/analyze/slack_tree.h"
#include "tests/data/analyze_test_util.h"

using namespace augur::analyze;
using augur::testing::SimHits;

namespace {
constexpr uint32_t a = 0, b = 1, c = 2, d = 3;

std::shared_ptr<const FrequencyRanks> RanksOf(const std::vector<std::vector<uint32_t>>& its) {
  RowCounts counts(1);
  for (const auto& s : its) counts.Observe(0, s);
  return std::make_shared<const FrequencyRanks>(counts);
}
}  // namespace

TEST_CASE("LRU counts hits against the cache as it was before the iteration") {
  // Capacity 2. Before iteration 2 the cache is {a, b}: a hits; c comes in and b, outside the
  // slice, leaves (not a, although a was used before b). Then b misses.
  auto lru = MakeLruSim(1, 2);
  CHECK(SimHits(lru.get(), {{a}, {b}, {c, a}, {b}}) == 1);
}

TEST_CASE("LRU evicts the least recently used row outside the slice") {
  // Capacity 3: {a,b,c}; then {d, a}: b is the least recent outside the slice; then c hits.
  auto lru = MakeLruSim(1, 3);
  CHECK(SimHits(lru.get(), {{a}, {b}, {c}, {d, a}, {c}}) == 2);
}

TEST_CASE("LFU never evicts a row of the slice it is training even when it is used least") {
  // Capacity 2. a is read three times; then {b, c} needs both slots, so a leaves although b and c
  // have fewer uses; then {b, c} hits twice. (Evicting by use count among all rows would keep a
  // and drop b or c from the slice being trained.)
  auto lfu = MakeLfuSim(1, 2);
  CHECK(SimHits(lfu.get(), {{a}, {a}, {a}, {b, c}, {b, c}}) == 4);
}

TEST_CASE("LFU evicts the least used row outside the slice, the least recent among equals") {
  // Capacity 3: a (2 uses), b, c (1 use each, b older); d arrives: b leaves; then a, c hit.
  auto lfu = MakeLfuSim(1, 3);
  CHECK(SimHits(lfu.get(), {{a}, {a, b}, {c}, {d}, {a, c}, {b}}) == 3);
}

TEST_CASE("static pins only as many rows as leave room for every slice's other rows") {
  // Capacity 2: pinning a (3 reads) would leave one slot for the slice {b, c}: nothing is pinned,
  // so nothing hits, although a static cache ignoring the slice would pin a and hit it twice.
  std::vector<std::vector<uint32_t>> its = {{a}, {a}, {a}, {b, c}};
  auto sim = MakeStaticTopKSim(2, RanksOf(its));
  CHECK(SimHits(sim.get(), its) == 0);
}

TEST_CASE("static pins more than capacity minus the largest slice when the slices hold pinned rows") {
  // Capacity 3, slices of 2: capacity - largest slice would pin only a. Pinning a, b, c still
  // leaves room for every slice (each slice's rows are pinned), so a hits twice and b once.
  std::vector<std::vector<uint32_t>> its = {{a, b}, {a, b}, {a, c}};
  auto sim = MakeStaticTopKSim(3, RanksOf(its));
  CHECK(SimHits(sim.get(), its) == 3);
  CHECK(sim->Result().accesses == 6);
}

TEST_CASE("batch-min evicts a row rather than let the slice overflow, where min keeps it") {
  // Capacity 2: a is read again at iteration 2, but iteration 1 trains {b, c}, which fills the
  // cache: a cannot stay. min lets the slice use free scratch and keeps a across.
  std::vector<std::vector<uint32_t>> its = {{a}, {b, c}, {a}};
  auto batch_min = MakeBatchMinSim(1, 2);
  auto min = MakeMinSim(1, 2);
  CHECK(SimHits(batch_min.get(), its) == 0);
  CHECK(SimHits(min.get(), its) == 1);
}

TEST_CASE("batch-min keeps the rows read soonest among those outside the slice") {
  // Capacity 3. After {a, b, c}, iteration 1 trains {d}: one of a, b, c leaves. a is next read at
  // 2, b at 3, c never: c leaves, and a and b both hit.
  auto sim = MakeBatchMinSim(1, 3);
  CHECK(SimHits(sim.get(), {{a, b, c}, {d}, {a, d}, {b}}) == 3);
}

TEST_CASE("a policy that keeps rows hits every row read again in the next iteration") {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const int capacity = 3 + trial % 5;
    std::vector<std::vector<uint32_t>> its;
    for (const auto& it : augur::testing::RandomTrace(&rng, 30, 1, 25, capacity)) {
      std::vector<uint32_t> ids;
      for (auto k : it[0]) ids.push_back(static_cast<uint32_t>(augur::plan::KeyRow(k)));
      its.push_back(ids);
    }
    int64_t again = 0;
    for (size_t t = 1; t < its.size(); ++t) {
      for (uint32_t id : its[t]) again += std::count(its[t - 1].begin(), its[t - 1].end(), id);
    }
    auto lru = MakeLruSim(1, capacity);
    auto lfu = MakeLfuSim(1, capacity);
    auto batch_min = MakeBatchMinSim(1, capacity);
    INFO("trial " << trial);
    CHECK(SimHits(lru.get(), its) >= again);
    CHECK(SimHits(lfu.get(), its) >= again);
    CHECK(SimHits(batch_min.get(), its) >= again);
  }
}

TEST_CASE("the slack tree takes from ranges and reports the rightmost point it empties") {
  std::mt19937 rng(9);
  SlackTree tree;
  std::vector<int32_t> naive;
  for (int step = 0; step < 3000; ++step) {
    if (naive.empty() || rng() % 3 == 0) {
      const int32_t slack = static_cast<int32_t>(rng() % 6);
      tree.Append(slack);
      naive.push_back(slack);
      continue;
    }
    // A range whose every point still has room, and up to that many units (Take's precondition).
    const int64_t b = rng() % naive.size();
    int64_t a = b;
    while (a > 0 && naive[a - 1] > 0 && rng() % 8) --a;
    if (naive[b] == 0) continue;
    const int32_t least = *std::min_element(naive.begin() + a, naive.begin() + b + 1);
    REQUIRE(tree.Min(a, b) == least);
    const int32_t units = 1 + static_cast<int32_t>(rng() % least);
    int64_t emptied = -1;
    for (int64_t i = a; i <= b; ++i) {
      if ((naive[i] -= units) == 0) emptied = i;
    }
    REQUIRE(tree.Take(a, b, units) == emptied);
  }
  for (size_t i = 0; i < naive.size(); ++i) REQUIRE(tree.At(i) == naive[i]);
}
