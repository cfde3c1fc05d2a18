// The cache-trace analyzer: policy simulators on hand-made traces, and the policy ordering on a
// synthetic Criteo trace (MIN >= oracle >= LRU, oracle close to MIN at lookahead 200).
#include "cli/analyze/trace_analysis.h"

#include <catch2/catch.hpp>
#include <map>

#include "cli/analyze/cache_sim.h"
#include "common/data/dedup.h"
#include "common/data/synthetic.h"
#include "tests/support/test_paths.h"

using namespace augur::analyze;
using augur::plan::IterationReads;
using augur::plan::RowKey;

namespace {

// A one-worker trace from a list of iterations.
Trace VectorTrace(std::vector<std::vector<RowKey>> its) {
  auto data = std::make_shared<std::vector<std::vector<RowKey>>>(std::move(its));
  auto pos = std::make_shared<size_t>(0);
  Trace t;
  t.num_workers = 1;
  t.reset = [pos] { *pos = 0; };
  t.next = [data, pos](IterationReads* r) {
    if (*pos >= data->size()) return false;
    r->by_worker = {(*data)[(*pos)++]};
    return true;
  };
  return t;
}

std::map<std::string, double> Rates(const AnalyzeReport& r) {
  std::map<std::string, double> m;
  for (const auto& x : r.results) m[std::string(PolicyName(x.policy))] = x.hit_rate;
  return m;
}

}  // namespace

TEST_CASE("LRU, LFU and MIN count hits on a small trace as worked out by hand") {
  // Capacity 2, one key per iteration: a b a c b a.
  std::vector<std::vector<RowKey>> its = {{1}, {2}, {1}, {3}, {2}, {1}};
  AnalyzeOptions o;
  o.policies = {Policy::kLru, Policy::kLfu, Policy::kBeladyMin, Policy::kStaticTopK};
  o.capacities = {{2, false, "2"}};
  auto r = RunTraceAnalysis(VectorTrace(its), o);
  REQUIRE(r.ok());
  auto m = Rates(*r);
  // LRU: a b [a hit] c(evict b) b(evict a) a(evict c) -> 1 hit.
  CHECK(m["lru"] == Approx(1.0 / 6));
  // LFU: a b [a hit, a=2] c evicts b; b evicts c; [a hit] -> 2 hits.
  CHECK(m["lfu"] == Approx(2.0 / 6));
  // MIN: after reading c it keeps a and b (next used sooner) and drops c -> b, a hit: 3 hits.
  CHECK(m["min"] == Approx(3.0 / 6));
  // static top-2 = {a (3), b (2)}: 5 reads, minus 2 compulsory fetches = 3 hits.
  CHECK(m["static"] == Approx(3.0 / 6));
  CHECK(r->distinct_keys == 3);
}

TEST_CASE("a capacity below the largest slice is rejected with both numbers") {
  AnalyzeOptions o;
  o.policies = {Policy::kStaticTopK};  // runs the counting pass that measures slices
  o.capacities = {{2, false, "2"}};
  auto r = RunTraceAnalysis(VectorTrace({{1, 2, 3}, {1}}), o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() ==
        "capacity 2 (2 rows) is below the 3 unique rows of the largest slice; a slice must fit "
        "in its worker's cache");
}

TEST_CASE("capacity and policy lists parse rows and percentages and reject junk") {
  auto c = ParseCapacities("100,2.5%,100%");
  REQUIRE(c.ok());
  CHECK(c->size() == 3);
  CHECK((*c)[1].percent);
  CHECK((*c)[1].value == 2.5);
  CHECK_FALSE(ParseCapacities("10x").ok());
  CHECK_FALSE(ParseCapacities("1.5").ok());
  CHECK_FALSE(ParseCapacities("101%").ok());
  CHECK_FALSE(ParsePolicies("lru,arc").ok());
  CHECK(ParsePolicies("min,lru")->front() == Policy::kBeladyMin);
}

TEST_CASE("on a synthetic Criteo trace MIN >= oracle >= LRU and the oracle is within 3% of MIN") {
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
  o.policies = {Policy::kLru, Policy::kBeladyMin};
  if (OracleAvailable()) o.policies.push_back(Policy::kOracle);
  o.capacities = {{5, true, "5%"}, {15, true, "15%"}};
  o.lookahead = 200;
  auto r = RunTraceAnalysis(t, o);
  REQUIRE(r.ok());
  std::map<std::pair<std::string, int64_t>, double> rate;
  for (const auto& x : r->results) rate[{std::string(PolicyName(x.policy)), x.capacity}] = x.hit_rate;
  for (const auto& x : r->results) {
    double min = rate[{"min", x.capacity}], lru = rate[{"lru", x.capacity}];
    CHECK(min > lru);
    if (OracleAvailable()) {
      double oracle = rate[{"oracle", x.capacity}];
      INFO("capacity " << x.capacity << " min " << min << " oracle " << oracle << " lru " << lru);
      CHECK(min >= oracle);
      CHECK(oracle >= lru);
      CHECK(oracle >= min - 0.03);
    }
  }
  if (!OracleAvailable()) WARN("augur_planner_core absent: oracle policy not checked");
}
