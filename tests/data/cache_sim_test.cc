// The policy simulators on traces worked out by hand, each showing the slice rule: the slice being
// trained is resident inside the capacity, and no victim is one of its rows.
#include "cli/analyze/cache_sim.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
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

namespace {

using Dense = std::vector<std::vector<uint32_t>>;

Dense RandomDenseTrace(std::mt19937* rng, int iterations, int universe, int max_slice) {
  Dense out;
  for (const auto& it : augur::testing::RandomTrace(rng, iterations, 1, universe, max_slice)) {
    std::vector<uint32_t> ids;
    for (auto k : it[0]) ids.push_back(static_cast<uint32_t>(augur::plan::KeyRow(k)));
    out.push_back(ids);
  }
  return out;
}

bool InSlice(const std::vector<uint32_t>& slice, uint32_t id) {
  return std::count(slice.begin(), slice.end(), id) > 0;
}

// LRU and LFU written the plain way: a list of resident rows, scanned for the victim.
int64_t NaiveRecency(const Dense& its, size_t capacity, bool by_uses) {
  struct Row {
    uint32_t id;
    int64_t uses, last;  // last: a global read counter, so ties within a slice keep read order
  };
  std::vector<Row> cache;
  int64_t hits = 0, clock = 0;
  for (const auto& slice : its) {
    for (uint32_t id : slice) {
      auto it = std::find_if(cache.begin(), cache.end(), [&](const Row& r) { return r.id == id; });
      if (it != cache.end()) {
        ++hits, ++it->uses, it->last = clock++;
      } else {
        cache.push_back({id, 1, clock++});
      }
    }
    while (cache.size() > capacity) {
      auto victim = cache.end();
      for (auto it = cache.begin(); it != cache.end(); ++it) {
        if (InSlice(slice, it->id)) continue;
        auto key = [&](const Row& r) { return std::make_pair(by_uses ? r.uses : 0, r.last); };
        if (victim == cache.end() || key(*it) < key(*victim)) victim = it;
      }
      cache.erase(victim);
    }
  }
  return hits;
}

// Static by brute force: the largest K whose pins leave room for every slice, then its hits.
// Rows rank by count, ties by id (in the analyzer ids are numbered in order of first sight).
int64_t NaiveStatic(const Dense& its, int64_t capacity) {
  std::map<uint32_t, int64_t> count;
  for (const auto& slice : its) {
    for (uint32_t id : slice) ++count[id];
  }
  std::vector<uint32_t> ranked;
  for (auto& [id, n] : count) ranked.push_back(id);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](uint32_t a, uint32_t b) { return count[a] > count[b]; });
  int64_t best = 0;
  for (size_t k = 0; k <= ranked.size() && static_cast<int64_t>(k) <= capacity; ++k) {
    std::vector<uint32_t> pins(ranked.begin(), ranked.begin() + k);
    bool fits = true;
    for (const auto& slice : its) {
      int64_t extra = 0;
      for (uint32_t id : slice) extra += std::count(pins.begin(), pins.end(), id) == 0;
      fits &= static_cast<int64_t>(k) + extra <= capacity;
    }
    if (!fits) break;
    best = 0;
    for (uint32_t id : pins) best += count[id] - 1;
  }
  return best;
}

}  // namespace

TEST_CASE("LRU and LFU agree with plain list implementations over long random traces") {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 12; ++trial) {
    const int capacity = 5 + trial * 3;
    // Long enough for the queues to be compacted many times.
    const Dense its = RandomDenseTrace(&rng, 1500, 60 + 10 * trial, 5 + trial % 4);
    auto lru = MakeLruSim(1, capacity);
    auto lfu = MakeLfuSim(1, capacity);
    INFO("trial " << trial);
    CHECK(SimHits(lru.get(), its) == NaiveRecency(its, capacity, false));
    CHECK(SimHits(lfu.get(), its) == NaiveRecency(its, capacity, true));
  }
}

TEST_CASE("static pins exactly the largest top-K that a brute-force search finds") {
  std::mt19937 rng(13);
  for (int trial = 0; trial < 200; ++trial) {
    const int max_slice = 2 + trial % 6;
    const int capacity = max_slice + trial % 9;
    const Dense its = RandomDenseTrace(&rng, 10 + trial % 30, 12 + trial % 20, max_slice);
    auto sim = MakeStaticTopKSim(capacity, RanksOf(its));
    INFO("trial " << trial);
    CHECK(SimHits(sim.get(), its) == NaiveStatic(its, capacity));
  }
}
