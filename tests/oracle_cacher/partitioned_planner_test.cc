// The planner spread over threads: each partition plans its share of the key space in its share
// of the slots; the merged plans must pass the same symbolic checker as one planner's, stay
// deterministic, and keep the hit ratio close to one planner's.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "oracle_cacher/partitioned_planner.h"
#include "oracle_cacher/planner.h"
#include "tests/oracle_cacher/plan_checker.h"

using namespace augur;
using namespace augur::planner;

namespace {

// Zipf-like reads: each worker reads `per` ids of 3 tables per iteration, deduplicated.
std::vector<IterationReads> ZipfStream(int workers, int iters, int per, uint64_t ids,
                                       uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<IterationReads> out(iters);
  for (auto& it : out) {
    it.by_worker.resize(workers);
    for (auto& keys : it.by_worker) {
      for (int n = 0; n < per; ++n) {
        double u = std::uniform_real_distribution<double>(0, 1)(rng);
        keys.push_back(MakeKey(n % 3, static_cast<uint64_t>(std::pow(double(ids), u)) - 1));
      }
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    }
  }
  return out;
}

struct Outcome {
  std::string violation;
  PlannerStats stats;
  std::vector<IterationPlan> plans;
};

Outcome Plan(const PlannerOptions& o, const std::vector<IterationReads>& stream) {
  auto p = Planner::Create(o);
  REQUIRE(p.ok());
  testing::PlanChecker checker(o.num_workers, o.capacity, o.policy == CachePolicy::kNone);
  Outcome out;
  auto drain = [&] {
    while (auto plan = (*p)->Next()) {
      REQUIRE(plan->iteration == static_cast<int64_t>(out.plans.size()));
      const size_t i = out.plans.size();
      IterationReads none{std::vector<std::vector<RowKey>>(o.num_workers)};
      std::string v = checker.Apply(*plan, i < stream.size() ? stream[i] : none);
      if (out.violation.empty()) out.violation = v;
      out.plans.push_back(std::move(*plan));
    }
  };
  for (const auto& it : stream) {
    REQUIRE((*p)->Push(it).ok());
    drain();
  }
  REQUIRE((*p)->Close().ok());
  drain();
  REQUIRE(out.plans.size() == stream.size());
  if (out.violation.empty()) out.violation = checker.Finish();
  out.stats = (*p)->stats();
  return out;
}

bool SamePlans(const std::vector<IterationPlan>& a, const std::vector<IterationPlan>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].shared != b[i].shared || a[i].transfers.size() != b[i].transfers.size()) return false;
    for (size_t w = 0; w < a[i].workers.size(); ++w) {
      const auto &x = a[i].workers[w], &y = b[i].workers[w];
      if (x.fills.size() != y.fills.size() || x.evictions.size() != y.evictions.size()) return false;
      for (size_t k = 0; k < x.fills.size(); ++k)
        if (x.fills[k].key != y.fills[k].key || x.fills[k].slot != y.fills[k].slot ||
            x.fills[k].need_at != y.fills[k].need_at ||
            x.fills[k].min_version != y.fills[k].min_version)
          return false;
      for (size_t k = 0; k < x.evictions.size(); ++k)
        if (x.evictions[k].key != y.evictions[k].key || x.evictions[k].slot != y.evictions[k].slot ||
            x.evictions[k].write_back != y.evictions[k].write_back)
          return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("Partitioned plans pass the plan checker for every policy, worker count and thread count") {
  for (int workers : {1, 2, 3}) {
    auto stream = ZipfStream(workers, 60, 60, 800, 17 + workers);
    for (int threads : {2, 3, 4}) {
      for (auto policy : {CachePolicy::kOracle, CachePolicy::kPrefetch1, CachePolicy::kNone}) {
        PlannerOptions o;
        o.num_workers = workers;
        o.capacity = 400;
        o.lookahead = 12;
        o.prefetch_distance = 3;
        o.policy = policy;
        o.writeback_horizon = 0;
        o.threads = threads;
        auto r = Plan(o, stream);
        INFO("workers " << workers << " threads " << threads << " policy "
                        << static_cast<int>(policy));
        CHECK(r.violation == "");
        CHECK(r.stats.accesses == r.stats.hits + r.stats.fills + r.stats.transfers);
      }
    }
  }
}

TEST_CASE("A small cache split over threads stays consistent and within every share") {
  auto stream = ZipfStream(2, 80, 40, 400, 5);
  for (int64_t capacity : {80, 97, 150}) {
    PlannerOptions o;
    o.num_workers = 2;
    o.capacity = capacity;
    o.lookahead = 20;
    o.prefetch_distance = 2;
    o.writeback_horizon = 0;
    o.threads = 2;
    auto r = Plan(o, stream);
    INFO("capacity " << capacity);
    CHECK(r.violation == "");
  }
}

TEST_CASE("Partitioned plans are the same on every run whatever the thread timing") {
  auto stream = ZipfStream(3, 50, 80, 3000, 9);
  PlannerOptions o;
  o.num_workers = 3;
  o.capacity = 600;
  o.lookahead = 15;
  o.prefetch_distance = 4;
  o.threads = 3;
  auto first = Plan(o, stream);
  for (int run = 0; run < 3; ++run) CHECK(SamePlans(first.plans, Plan(o, stream).plans));
}

TEST_CASE("Splitting the planner over threads keeps the hit ratio within 1% of one planner") {
  auto stream = ZipfStream(2, 150, 400, 20000, 3);
  PlannerOptions o;
  o.num_workers = 2;
  o.capacity = 6000;
  o.lookahead = 50;
  o.prefetch_distance = 4;
  auto hit_ratio = [&] {  // no plan checker: the plans here are large
    size_t i = 0;
    auto stats = RunPlanner(o, [&](IterationReads* r) {
      if (i == stream.size()) return false;
      *r = stream[i++];
      return true;
    });
    REQUIRE(stats.ok());
    return stats->hit_ratio();
  };
  const double one = hit_ratio();
  for (int threads : {2, 4}) {
    o.threads = threads;
    const double split = hit_ratio();
    INFO("threads " << threads << ": " << split << " vs " << one);
    CHECK(split > 0.3);
    CHECK(std::abs(split - one) <= 0.01 * one);
  }
}

TEST_CASE("Partitions spread the hot rows of every table evenly") {
  std::vector<int> count(4);
  for (uint32_t t = 0; t < 26; ++t)
    for (uint64_t r = 0; r < 1000; ++r) ++count[internal::PartitionOf(MakeKey(t, r), 4)];
  for (int c : count) CHECK(std::abs(c - 6500) < 400);
}

TEST_CASE("A partition whose share of a slice exceeds its share of the cache says so") {
  PlannerOptions o;
  o.capacity = 4;
  o.threads = 2;
  auto p = Planner::Create(o);
  REQUIRE(p.ok());
  // Four rows fit four slots, but not when three of them fall in one two-slot partition.
  std::vector<RowKey> keys;
  for (uint64_t r = 0; keys.size() < 3; ++r)
    if (internal::PartitionOf(r, 2) == 0) keys.push_back(r);
  for (uint64_t r = 0;; ++r)
    if (internal::PartitionOf(r, 2) == 1) {
      keys.push_back(r);
      break;
    }
  auto st = (*p)->Push(IterationReads{{keys}});
  CHECK(st.code() == absl::StatusCode::kResourceExhausted);
  CHECK(st.message().find("planner partition 0 of 2") != std::string::npos);
}

TEST_CASE("Bad thread counts are rejected") {
  PlannerOptions o;
  o.threads = 0;
  CHECK(Planner::Create(o).status().code() == absl::StatusCode::kInvalidArgument);
  o.threads = 65;
  CHECK(Planner::Create(o).status().code() == absl::StatusCode::kInvalidArgument);
  o.threads = 8;
  o.capacity = 4;
  CHECK(Planner::Create(o).status().code() == absl::StatusCode::kInvalidArgument);
}
