#include "cli/analyze/trace_analysis.h"

#include <chrono>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/analyze/cache_sim.h"
#include "common/status.h"
#ifdef AUGUR_HAVE_PLANNER
#include "oracle_cacher/planner.h"
#endif

namespace augur::analyze {
namespace {

constexpr std::array<std::string_view, 5> kPolicyNames = {"lru", "lfu", "static", "oracle",
                                                          "min"};

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Replays the whole trace through `sim`.
void Replay(const Trace& trace, CacheSim* sim) {
  plan::IterationReads reads;
  trace.reset();
  while (trace.next(&reads)) sim->Step(reads);
}

absl::StatusOr<HitCount> RunOracle(const Trace& trace, const AnalyzeOptions& o, int64_t capacity) {
#ifdef AUGUR_HAVE_PLANNER
  planner::PlannerOptions po;
  po.num_workers = trace.num_workers;
  po.capacity = capacity;
  po.lookahead = o.lookahead;
  po.prefetch_distance = o.prefetch_distance;
  po.policy = planner::CachePolicy::kOracle;
  trace.reset();
  AUGUR_ASSIGN_OR_RETURN(planner::PlannerStats stats, planner::RunPlanner(po, trace.next));
  return HitCount{stats.accesses, stats.hits};
#else
  return absl::UnimplementedError(
      "the oracle policy needs augur_planner_core, which was not built with this augur");
#endif
}

}  // namespace

std::string_view PolicyName(Policy p) { return kPolicyNames[static_cast<int>(p)]; }

bool OracleAvailable() {
#ifdef AUGUR_HAVE_PLANNER
  return true;
#else
  return false;
#endif
}

absl::StatusOr<std::vector<Policy>> ParsePolicies(const std::string& list) {
  std::vector<Policy> out;
  for (absl::string_view name : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    bool found = false;
    for (size_t i = 0; i < kPolicyNames.size(); ++i) {
      if (name == absl::string_view(kPolicyNames[i].data(), kPolicyNames[i].size())) {
        out.push_back(static_cast<Policy>(i));
        found = true;
      }
    }
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown policy '", name, "' (lru, lfu, static, oracle, min)"));
    }
  }
  if (out.empty()) return absl::InvalidArgumentError("no policies given");
  return out;
}

absl::StatusOr<std::vector<CapacitySpec>> ParseCapacities(const std::string& list) {
  std::vector<CapacitySpec> out;
  for (absl::string_view part : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    CapacitySpec c;
    c.text = std::string(part);
    std::string num = c.text;
    if (!num.empty() && num.back() == '%') {
      c.percent = true;
      num.pop_back();
    }
    char* end = nullptr;
    c.value = std::strtod(num.c_str(), &end);
    if (num.empty() || end != num.c_str() + num.size() || !(c.value > 0) ||
        (c.percent && c.value > 100) || (!c.percent && c.value != std::floor(c.value))) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad capacity '", c.text, "' (rows, e.g. 50000, or a percentage of the "
                       "distinct ids, e.g. 5%)"));
    }
    out.push_back(c);
  }
  if (out.empty()) return absl::InvalidArgumentError("no capacities given");
  return out;
}

absl::StatusOr<AnalyzeReport> RunTraceAnalysis(const Trace& trace, const AnalyzeOptions& o) {
  if (o.policies.empty()) return absl::InvalidArgumentError("no policies given");
  if (o.capacities.empty()) return absl::InvalidArgumentError("no capacities given");
  bool want_counts = false, want_min = false;
  for (Policy p : o.policies) {
    want_counts |= p == Policy::kStaticTopK;
    want_min |= p == Policy::kBeladyMin;
    if (p == Policy::kOracle && !OracleAvailable()) return RunOracle(trace, o, 1).status();
  }
  for (const auto& c : o.capacities) want_counts |= c.percent;

  AnalyzeReport report;
  AccessCounts counts(trace.num_workers);
  plan::IterationReads reads;
  if (want_counts) {
    trace.reset();
    while (trace.next(&reads)) counts.Observe(reads), ++report.iterations;
    report.distinct_keys = counts.distinct_rows();
    report.max_slice_keys = counts.max_slice_rows();
  }
  std::vector<int64_t> rows;
  for (const auto& c : o.capacities) {
    int64_t r = c.percent ? static_cast<int64_t>(std::ceil(c.value / 100.0 * report.distinct_keys))
                          : static_cast<int64_t>(c.value);
    if (r < 1) return absl::InvalidArgumentError(absl::StrCat("capacity ", c.text, " is 0 rows"));
    if (report.max_slice_keys > r) {
      return absl::InvalidArgumentError(absl::StrCat(
          "capacity ", c.text, " (", r, " rows) is below the ", report.max_slice_keys,
          " unique rows of the largest slice; a slice must fit in its worker's cache"));
    }
    rows.push_back(r);
  }
  std::shared_ptr<BeladyNextUse> next_use;
  if (want_min) {
    next_use = std::make_shared<BeladyNextUse>(trace.num_workers);
    trace.reset();
    int64_t n = 0;
    while (trace.next(&reads)) next_use->Observe(reads), ++n;
    report.iterations = n;
  }
  for (Policy p : o.policies) {
    for (size_t i = 0; i < rows.size(); ++i) {
      auto t0 = std::chrono::steady_clock::now();
      HitCount h;
      switch (p) {
        case Policy::kLru:
        case Policy::kLfu:
        case Policy::kBeladyMin: {
          auto sim = p == Policy::kLru   ? MakeLruSim(trace.num_workers, rows[i])
                     : p == Policy::kLfu ? MakeLfuSim(trace.num_workers, rows[i])
                                         : MakeBeladySim(trace.num_workers, rows[i], next_use);
          Replay(trace, sim.get());
          h = sim->count();
          break;
        }
        case Policy::kStaticTopK: h = counts.StaticTopKHits(rows[i]); break;
        case Policy::kOracle: {
          AUGUR_ASSIGN_OR_RETURN(h, RunOracle(trace, o, rows[i]));
          break;
        }
      }
      report.results.push_back(
          {p, o.capacities[i].text, rows[i], h.accesses, h.hits, h.rate(), Since(t0)});
    }
  }
  return report;
}

}  // namespace augur::analyze
