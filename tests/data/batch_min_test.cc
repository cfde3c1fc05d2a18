// batch-min is the ceiling for a cache that keeps the slice resident: it equals an exhaustive
// search over every eviction choice on tiny traces, equals a direct Belady replay (evict the rows
// read farthest ahead) on larger ones, and no policy beats it. min, the looser bound, is checked
// the same way against its own model.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <map>
#include <random>

#include "cli/analyze/cache_sim.h"
#include "cli/analyze/trace_analysis.h"
#include "tests/data/analyze_test_util.h"

using namespace augur::analyze;
using augur::testing::RandomTrace;
using augur::testing::SimHits;

namespace {

using DenseTrace = std::vector<std::vector<uint32_t>>;

DenseTrace RandomDense(std::mt19937* rng, int iterations, int universe, int max_slice) {
  DenseTrace out;
  for (const auto& it : RandomTrace(rng, iterations, 1, universe, max_slice)) {
    std::vector<uint32_t> ids;
    for (auto k : it[0]) ids.push_back(static_cast<uint32_t>(augur::plan::KeyRow(k)));
    out.push_back(ids);
  }
  return out;
}

uint32_t Mask(const std::vector<uint32_t>& ids) {
  uint32_t m = 0;
  for (uint32_t id : ids) m |= 1u << id;
  return m;
}

// The most hits any schedule gets, trying every resident set after every iteration. With
// slice_resident, the set after iteration t holds all of S(t) (the training cache); otherwise any
// `capacity` rows of C u S(t) may stay (min's model: the slice is free scratch).
int64_t ExhaustiveBest(const DenseTrace& its, int64_t capacity, bool slice_resident) {
  std::map<uint32_t, int64_t> best{{0, 0}};  // resident set -> most hits reaching it
  for (const auto& slice : its) {
    const uint32_t s = Mask(slice);
    std::map<uint32_t, int64_t> next;
    for (auto [c, hits] : best) {
      const int64_t h = hits + std::popcount(c & s);
      const uint32_t must = slice_resident ? s : 0;
      const uint32_t may = (c | s) & ~must;
      for (uint32_t keep = may;; keep = (keep - 1) & may) {
        if (std::popcount(keep | must) <= capacity) {
          auto [it, inserted] = next.try_emplace(keep | must, h);
          if (!inserted) it->second = std::max(it->second, h);
        }
        if (keep == 0) break;
      }
    }
    best = std::move(next);
  }
  int64_t most = 0;
  for (auto [c, hits] : best) most = std::max(most, hits);
  return most;
}

// Belady at iteration granularity, written the direct way: hits against the cache before the
// iteration, then the rows outside the slice read farthest ahead (never again first) leave.
int64_t DirectBatchBelady(const DenseTrace& its, int64_t capacity) {
  auto next_read = [&](uint32_t id, size_t after) {
    for (size_t t = after + 1; t < its.size(); ++t) {
      if (std::count(its[t].begin(), its[t].end(), id)) return t;
    }
    return its.size() + 1;  // never again
  };
  std::vector<uint32_t> cache;
  int64_t hits = 0;
  for (size_t t = 0; t < its.size(); ++t) {
    for (uint32_t id : its[t]) {
      if (std::count(cache.begin(), cache.end(), id)) {
        ++hits;
      } else {
        cache.push_back(id);
      }
    }
    while (static_cast<int64_t>(cache.size()) > capacity) {
      auto victim = cache.end();
      size_t farthest = 0;
      for (auto it = cache.begin(); it != cache.end(); ++it) {
        if (std::count(its[t].begin(), its[t].end(), *it)) continue;
        if (size_t n = next_read(*it, t); n >= farthest) farthest = n, victim = it;
      }
      cache.erase(victim);
    }
  }
  return hits;
}

}  // namespace

TEST_CASE("batch-min equals an exhaustive search over every eviction choice on tiny traces") {
  std::mt19937 rng(101);
  for (int trial = 0; trial < 400; ++trial) {
    const int universe = 3 + trial % 6;       // up to 8 rows
    const int capacity = 1 + trial % universe;
    const DenseTrace its = RandomDense(&rng, 2 + trial % 7, universe, capacity);
    auto sim = MakeBatchMinSim(1, capacity);
    INFO("trial " << trial << " capacity " << capacity);
    REQUIRE(SimHits(sim.get(), its) == ExhaustiveBest(its, capacity, true));
  }
}

TEST_CASE("min equals an exhaustive search of its looser model on tiny traces") {
  std::mt19937 rng(202);
  for (int trial = 0; trial < 400; ++trial) {
    const int universe = 3 + trial % 6;
    const int capacity = 1 + trial % universe;
    const DenseTrace its = RandomDense(&rng, 2 + trial % 7, universe, capacity);
    auto sim = MakeMinSim(1, capacity);
    INFO("trial " << trial << " capacity " << capacity);
    REQUIRE(SimHits(sim.get(), its) == ExhaustiveBest(its, capacity, false));
  }
}

TEST_CASE("batch-min equals a direct Belady replay with future knowledge on longer traces") {
  std::mt19937 rng(303);
  for (int trial = 0; trial < 200; ++trial) {
    const int universe = 20 + trial % 40;
    const int capacity = 4 + trial % 16;
    const DenseTrace its = RandomDense(&rng, 30 + trial % 50, universe, capacity);
    auto sim = MakeBatchMinSim(1, capacity);
    INFO("trial " << trial << " capacity " << capacity);
    REQUIRE(SimHits(sim.get(), its) == DirectBatchBelady(its, capacity));
  }
}

TEST_CASE("batch-min is at least every policy and at most min on random traces") {
  std::mt19937 rng(404);
  for (int trial = 0; trial < 60; ++trial) {
    const int workers = 1 + trial % 3;
    const int max_slice = 3 + trial % 6;
    const auto its = RandomTrace(&rng, 40, workers, 40, max_slice);
    AnalyzeOptions o;
    o.policies = {Policy::kLru, Policy::kLfu, Policy::kStaticTopK, Policy::kBeladyMin,
                  Policy::kBatchMin};
    if (OracleAvailable()) o.policies.push_back(Policy::kOracle);
    o.capacities = {augur::testing::Rows(max_slice), augur::testing::Rows(max_slice + 3),
                    augur::testing::Rows(2 * max_slice + 5)};
    o.lookahead = 1 + trial % 12;
    o.prefetch_distance = trial % 3;
    auto r = RunTraceAnalysis(augur::testing::MakeTrace(its, workers), o);
    REQUIRE(r.ok());
    std::map<std::pair<Policy, int64_t>, int64_t> hits;
    for (const auto& x : r->results) hits[{x.policy, x.capacity}] = x.hits;
    for (const auto& x : r->results) {
      const int64_t ceiling = hits[{Policy::kBatchMin, x.capacity}];
      INFO("trial " << trial << " " << PolicyName(x.policy) << " capacity " << x.capacity);
      if (x.policy == Policy::kBeladyMin) {
        CHECK(x.hits >= ceiling);
      } else {
        CHECK(x.hits <= ceiling);
      }
    }
  }
  if (!OracleAvailable()) WARN("augur_planner_core absent: the oracle was not compared");
}
