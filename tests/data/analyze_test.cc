// The trace analyzer's driver: every policy on a small trace worked out by hand, the refusals
// (bad capacities, slices larger than the cache), and the policy ordering on a synthetic Criteo
// trace. The simulators' own behaviour is in cache_sim_test.cc, batch-min's optimality in
// batch_min_test.cc.
#include "cli/analyze/trace_analysis.h"

#include <catch2/catch.hpp>
#include <map>

#include "common/data/dedup.h"
#include "common/data/synthetic.h"
#include "tests/data/analyze_test_util.h"
#include "tests/support/test_paths.h"

using namespace augur::analyze;
using augur::plan::IterationReads;
using augur::testing::OneWorkerTrace;
using augur::testing::RatesByPolicy;
using augur::testing::Rows;

TEST_CASE("every policy counts hits on a small trace as worked out by hand") {
  // Capacity 2, one row per iteration: a b a c b a.
  AnalyzeOptions o;
  o.policies = {Policy::kLru, Policy::kLfu, Policy::kStaticTopK, Policy::kBatchMin,
                Policy::kBeladyMin};
  o.capacities = {Rows(2)};
  auto r = RunTraceAnalysis(OneWorkerTrace({{1}, {2}, {1}, {3}, {2}, {1}}), o);
  REQUIRE(r.ok());
  auto m = RatesByPolicy(*r);
  // LRU: a b [a hit] c (evict b) b (evict a) a (evict c) -> 1 hit.
  CHECK(m["lru"] == Approx(1.0 / 6));
  // LFU: a b [a hit, a=2] c evicts b; b evicts c; [a hit] -> 2 hits.
  CHECK(m["lfu"] == Approx(2.0 / 6));
  // static: pinning a and b leaves no room for the slice {c}; pin a only: 3 reads, 1 fetch.
  CHECK(m["static"] == Approx(2.0 / 6));
  // batch-min: [a hit]; for c, a (read next at 5) leaves and b (read next at 4) stays; [b hit];
  // a misses -> 2 hits.
  CHECK(m["batch-min"] == Approx(2.0 / 6));
  // min: the slice is free scratch, so c never displaces a or b: a, b, a all hit.
  CHECK(m["min"] == Approx(3.0 / 6));
  CHECK(r->distinct_keys == 3);
  CHECK(r->iterations == 6);
  CHECK(r->max_slice_keys == 1);
  CHECK(r->reads == 6);
}

TEST_CASE("a slice larger than the capacity is refused naming capacity, worker and iteration") {
  const std::string expected =
      "capacity 2: worker 1 reads 3 distinct rows at iteration 1 but its cache holds only 2 "
      "(raise capacity or lower the batch size)";
  auto trace = augur::testing::MakeTrace({{{1}, {1}}, {{1, 2}, {1, 2, 3}}}, 2);
  for (Policy p : {Policy::kLru, Policy::kLfu, Policy::kStaticTopK, Policy::kBatchMin,
                   Policy::kBeladyMin}) {
    AnalyzeOptions o;
    o.policies = {p};
    o.capacities = {Rows(2)};
    auto r = RunTraceAnalysis(trace, o);
    INFO(PolicyName(p));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kResourceExhausted);
    CHECK(r.status().message() == expected);
  }
}

TEST_CASE("the oracle refuses a slice larger than the capacity as the other policies do") {
  if (!OracleAvailable()) {
    WARN("augur_planner_core absent: oracle not checked");
    return;
  }
  AnalyzeOptions o;
  o.policies = {Policy::kOracle};
  o.capacities = {Rows(2)};
  auto r = RunTraceAnalysis(OneWorkerTrace({{1, 2, 3}}), o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kResourceExhausted);
}

TEST_CASE("a capacity that comes to 0 rows is refused") {
  AnalyzeOptions o;
  o.policies = {Policy::kLru};
  o.capacities = {{5, true, "5%"}};
  auto r = RunTraceAnalysis(OneWorkerTrace({{}, {}}), o);  // no rows at all: 5% of 0
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r.status().message() == "capacity 5% is 0 rows");
}

TEST_CASE("capacity and policy lists parse rows and percentages and reject junk") {
  auto c = ParseCapacities("100,2.5%,100%");
  REQUIRE(c.ok());
  CHECK(c->size() == 3);
  CHECK((*c)[1].percent);
  CHECK((*c)[1].value == 2.5);
  CHECK_FALSE(ParseCapacities("10x").ok());
  CHECK_FALSE(ParseCapacities("1.5").ok());
  CHECK_FALSE(ParseCapacities("0").ok());
  CHECK_FALSE(ParseCapacities("101%").ok());
  CHECK_FALSE(ParsePolicies("lru,arc").ok());
  CHECK(ParsePolicies("min,lru")->front() == Policy::kBeladyMin);
  CHECK(ParsePolicies("batch-min")->front() == Policy::kBatchMin);
}

TEST_CASE("results come policy-major with capacities in the order given") {
  AnalyzeOptions o;
  o.policies = {Policy::kBatchMin, Policy::kLru};
  o.capacities = {Rows(3), Rows(2)};
  auto r = RunTraceAnalysis(OneWorkerTrace({{1, 2}, {3}, {1, 2}}), o);
  REQUIRE(r.ok());
  REQUIRE(r->results.size() == 4);
  CHECK(r->results[0].policy == Policy::kBatchMin);
  CHECK(r->results[0].capacity == 3);
  CHECK(r->results[1].capacity == 2);
  CHECK(r->results[2].policy == Policy::kLru);
  CHECK(r->results[3].capacity == 2);
}

TEST_CASE("on a synthetic Criteo trace min >= batch-min >= oracle >= LRU, oracle within 3%") {
  augur::testing::ScratchDir tmp("analyze-synth");
  augur::data::SyntheticOptions g;
  g.samples = 120000;
  g.seed = 11;
  REQUIRE(augur::data::GenerateDataset(g, tmp.path() + "/d").ok());
  auto ds = augur::data::Dataset::Open(tmp.path() + "/d", {.sparse_only = true});
  REQUIRE(ds.ok());
  augur::data::BatchShape shape{256, 2};
  auto stream = std::make_shared<std::unique_ptr<augur::data::IterationReadsStream>>();
  Trace t;
  t.num_workers = 2;
  t.reset = [&] { *stream = std::make_unique<augur::data::IterationReadsStream>(**ds, shape); };
  t.next = [stream](IterationReads* r) { return (*stream)->Next(r); };
  AnalyzeOptions o;
  o.policies = {Policy::kLru, Policy::kBatchMin, Policy::kBeladyMin};
  if (OracleAvailable()) o.policies.push_back(Policy::kOracle);
  o.capacities = {{5, true, "5%"}, {15, true, "15%"}};
  o.lookahead = 200;
  auto r = RunTraceAnalysis(t, o);
  REQUIRE(r.ok());
  std::map<std::pair<std::string, int64_t>, double> rate;
  for (const auto& x : r->results) rate[{std::string(PolicyName(x.policy)), x.capacity}] = x.hit_rate;
  for (const auto& x : r->results) {
    double min = rate[{"min", x.capacity}], batch_min = rate[{"batch-min", x.capacity}],
           lru = rate[{"lru", x.capacity}];
    INFO("capacity " << x.capacity << " min " << min << " batch-min " << batch_min << " lru " << lru);
    CHECK(min >= batch_min);
    CHECK(batch_min > lru);
    if (OracleAvailable()) {
      double oracle = rate[{"oracle", x.capacity}];
      INFO("oracle " << oracle);
      CHECK(batch_min >= oracle);
      CHECK(oracle >= lru);
      CHECK(oracle >= batch_min - 0.03);
    }
  }
  if (!OracleAvailable()) WARN("augur_planner_core absent: oracle policy not checked");
}
