// Helpers for the analyzer tests: traces written out by hand or drawn at random, and a way to run
// one simulator over them.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cli/analyze/cache_sim.h"
#include "cli/analyze/trace_analysis.h"

namespace augur::testing {

// its[t][w] = the unique rows worker w reads at iteration t.
using SliceTrace = std::vector<std::vector<std::vector<plan::RowKey>>>;

inline analyze::Trace MakeTrace(SliceTrace its, int num_workers) {
  auto data = std::make_shared<SliceTrace>(std::move(its));
  auto pos = std::make_shared<size_t>(0);
  analyze::Trace t;
  t.num_workers = num_workers;
  t.reset = [pos] { *pos = 0; };
  t.next = [data, pos](plan::IterationReads* r) {
    if (*pos >= data->size()) return false;
    r->by_worker = (*data)[(*pos)++];
    return true;
  };
  return t;
}

// A one-worker trace: its[t] = the rows read at iteration t.
inline analyze::Trace OneWorkerTrace(const std::vector<std::vector<plan::RowKey>>& its) {
  SliceTrace s;
  for (const auto& slice : its) s.push_back({slice});
  return MakeTrace(std::move(s), 1);
}

// Hit rate by policy name, for a report with one capacity.
inline std::map<std::string, double> RatesByPolicy(const analyze::AnalyzeReport& r) {
  std::map<std::string, double> m;
  for (const auto& x : r.results) m[std::string(analyze::PolicyName(x.policy))] = x.hit_rate;
  return m;
}

inline analyze::CapacitySpec Rows(int64_t rows) {
  return {static_cast<double>(rows), false, std::to_string(rows)};
}

// Hits of one simulator over a one-worker trace whose rows are already dense ids.
inline int64_t SimHits(analyze::CacheSim* sim, const std::vector<std::vector<uint32_t>>& its) {
  for (size_t t = 0; t < its.size(); ++t) sim->Step(0, static_cast<int64_t>(t), its[t]);
  return sim->Result().hits;
}

// A random trace of `iterations` x `workers` slices over rows 0..universe-1, skewed so that low
// rows are read often (reuse is what the policies differ on), each slice at most `max_slice` rows.
inline SliceTrace RandomTrace(std::mt19937* rng, int iterations, int workers, int universe,
                              int max_slice) {
  SliceTrace its(iterations, std::vector<std::vector<plan::RowKey>>(workers));
  std::uniform_int_distribution<int> size(0, max_slice);
  std::uniform_real_distribution<double> u(0, 1);
  for (auto& it : its) {
    for (auto& slice : it) {
      const int n = size(*rng);
      std::vector<bool> taken(universe, false);
      for (int tries = 0; static_cast<int>(slice.size()) < n && tries < 50 * n; ++tries) {
        const int row = static_cast<int>(universe * u(*rng) * u(*rng));  // skewed to low rows
        if (!taken[row]) taken[row] = true, slice.push_back(plan::MakeKey(row % 3, row));
      }
    }
  }
  return its;
}

}  // namespace augur::testing
