#include "cli/analyze/trace_analysis.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <span>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/analyze/cache_sim.h"
#include "cli/analyze/row_interner.h"
#include "cli/analyze/spilled_trace.h"
#include "common/status.h"
#ifdef AUGUR_HAVE_PLANNER
#include "oracle_cacher/planner.h"
#endif

namespace augur::analyze {
namespace {

constexpr std::array<std::string_view, 6> kPolicyNames = {"lru", "lfu", "static", "oracle",
                                                          "min", "batch-min"};

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The first of the largest slices: what a too-small capacity is refused with.
struct LargestSlice {
  int worker = 0;
  int64_t iteration = 0;
  int64_t rows = 0;
};

// The one pass over the dataset's trace: interns every slice, spills it (when `spill`), and counts
// reads per row (when `counts`). Fills the report's trace facts.
absl::Status FirstPass(const Trace& trace, RowInterner* interner, SpilledTrace* spill,
                       RowCounts* counts, LargestSlice* largest, AnalyzeReport* report) {
  auto t0 = Clock::now();
  plan::IterationReads reads;
  std::vector<uint32_t> ids;
  trace.reset();
  int64_t t = 0;
  report->reads = 0;
  for (; trace.next(&reads); ++t) {
    if (static_cast<int>(reads.by_worker.size()) != trace.num_workers) {
      return absl::InvalidArgumentError(absl::StrCat("iteration ", t, " has ",
                                                     reads.by_worker.size(), " slices for ",
                                                     trace.num_workers, " workers"));
    }
    for (int w = 0; w < trace.num_workers; ++w) {
      interner->Intern(reads.by_worker[w], &ids);
      if (spill != nullptr) AUGUR_RETURN_IF_ERROR(spill->Append(ids));
      if (counts != nullptr) counts->Observe(w, ids);
      const int64_t n = static_cast<int64_t>(ids.size());
      report->reads += n;
      if (n > largest->rows) *largest = {w, t, n};
    }
  }
  report->iterations = t;
  report->distinct_keys = interner->size();
  report->max_slice_keys = largest->rows;
  report->trace_seconds += Since(t0);
  return absl::OkStatus();
}

// The planner's refusal (RESOURCE_EXHAUSTED, same words), naming the capacity asked for.
absl::Status SliceTooBig(const CapacitySpec& spec, int64_t capacity, const LargestSlice& s) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "capacity ", spec.text, ": worker ", s.worker, " reads ", s.rows,
      " distinct rows at iteration ", s.iteration, " but its cache holds only ", capacity,
      " (raise capacity or lower the batch size)"));
}

struct TimedSim {
  Policy policy;
  std::unique_ptr<CacheSim> sim;
  double seconds = 0;
};

// One replay of the spilled trace at one capacity, stepping every simulated policy at once.
absl::StatusOr<std::vector<TimedSim>> ReplayAt(int num_workers, int64_t rows,
                                               const std::vector<Policy>& policies,
                                               std::shared_ptr<const FrequencyRanks> ranks,
                                               SpilledTrace* spill, AnalyzeReport* report) {
  std::vector<TimedSim> sims;
  for (Policy p : policies) {
    switch (p) {
      case Policy::kLru: sims.push_back({p, MakeLruSim(num_workers, rows)}); break;
      case Policy::kLfu: sims.push_back({p, MakeLfuSim(num_workers, rows)}); break;
      case Policy::kStaticTopK: sims.push_back({p, MakeStaticTopKSim(rows, ranks)}); break;
      case Policy::kBeladyMin: sims.push_back({p, MakeMinSim(num_workers, rows)}); break;
      case Policy::kBatchMin: sims.push_back({p, MakeBatchMinSim(num_workers, rows)}); break;
      case Policy::kOracle: break;  // the planner runs on its own (RunOracle)
    }
  }
  for (TimedSim& s : sims) s.sim->Reserve(report->distinct_keys);
  auto t0 = Clock::now();
  double stepping = 0;
  AUGUR_RETURN_IF_ERROR(
      spill->Replay(num_workers, [&](int w, int64_t t, std::span<const uint32_t> ids) {
        for (TimedSim& s : sims) {
          auto s0 = Clock::now();
          s.sim->Step(w, t, ids);
          const double d = Since(s0);
          s.seconds += d;
          stepping += d;
        }
        return absl::OkStatus();
      }));
  report->trace_seconds += Since(t0) - stepping;
  return sims;
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
          absl::StrCat("unknown policy '", name, "' (lru, lfu, static, oracle, batch-min, min)"));
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

namespace {

// Rows per worker for each capacity; refuses 0 rows and, once the first pass measured it, a
// capacity below the largest slice.
absl::StatusOr<std::vector<int64_t>> CapacityRows(const std::vector<CapacitySpec>& capacities,
                                                  const AnalyzeReport& report,
                                                  const LargestSlice& largest) {
  std::vector<int64_t> rows;
  for (const auto& c : capacities) {
    int64_t r = c.percent ? static_cast<int64_t>(std::ceil(c.value / 100.0 * report.distinct_keys))
                          : static_cast<int64_t>(c.value);
    if (r < 1) return absl::InvalidArgumentError(absl::StrCat("capacity ", c.text, " is 0 rows"));
    // Known once the first pass ran (otherwise only the planner reads the trace, and refuses).
    if (largest.rows > r) return SliceTooBig(c, r, largest);
    rows.push_back(r);
  }
  return rows;
}

// Every policy at capacity `i`: one replay of the spill for the simulated ones, one planner run
// for the oracle. Appends to by_policy[p] in the order of o.policies.
absl::Status AnalyzeAt(const Trace& trace, const AnalyzeOptions& o, size_t i, int64_t rows,
                       std::shared_ptr<const FrequencyRanks> ranks, SpilledTrace* spill,
                       AnalyzeReport* report, std::vector<std::vector<PolicyResult>>* by_policy) {
  std::vector<TimedSim> sims;
  if (spill != nullptr) {
    AUGUR_ASSIGN_OR_RETURN(sims, ReplayAt(trace.num_workers, rows, o.policies, std::move(ranks),
                                          spill, report));
  }
  size_t next_sim = 0;
  for (size_t p = 0; p < o.policies.size(); ++p) {
    PolicyResult r{o.policies[p], o.capacities[i].text, rows};
    HitCount h;
    if (o.policies[p] == Policy::kOracle) {
      auto t0 = Clock::now();
      AUGUR_ASSIGN_OR_RETURN(h, RunOracle(trace, o, rows));
      r.seconds = Since(t0);
    } else {
      const TimedSim& s = sims[next_sim++];
      h = s.sim->Result();
      r.seconds = s.seconds;
    }
    r.accesses = h.accesses;
    r.hits = h.hits;
    r.hit_rate = h.rate();
    (*by_policy)[p].push_back(r);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AnalyzeReport> RunTraceAnalysis(const Trace& trace, const AnalyzeOptions& o) {
  if (o.policies.empty()) return absl::InvalidArgumentError("no policies given");
  if (o.capacities.empty()) return absl::InvalidArgumentError("no capacities given");
  bool want_counts = false, want_sims = false, want_distinct = false;
  for (Policy p : o.policies) {
    want_counts |= p == Policy::kStaticTopK;
    want_sims |= p != Policy::kOracle;
    if (p == Policy::kOracle && !OracleAvailable()) return RunOracle(trace, o, 1).status();
  }
  for (const auto& c : o.capacities) want_distinct |= c.percent;

  AnalyzeReport report;
  RowInterner interner;
  std::unique_ptr<SpilledTrace> spill;
  std::optional<RowCounts> counts;
  LargestSlice largest;
  if (want_sims) {
    AUGUR_ASSIGN_OR_RETURN(spill, SpilledTrace::Create(o.spill_dir));
  }
  if (want_counts) counts.emplace(trace.num_workers);
  if (want_sims || want_distinct) {
    AUGUR_RETURN_IF_ERROR(FirstPass(trace, &interner, spill.get(), counts ? &*counts : nullptr,
                                    &largest, &report));
  }
  AUGUR_ASSIGN_OR_RETURN(std::vector<int64_t> rows,
                         CapacityRows(o.capacities, report, largest));
  std::shared_ptr<const FrequencyRanks> ranks;
  if (counts) ranks = std::make_shared<const FrequencyRanks>(*counts);
  counts.reset();  // the ranks hold what static needs

  std::vector<std::vector<PolicyResult>> by_policy(o.policies.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    AUGUR_RETURN_IF_ERROR(AnalyzeAt(trace, o, i, rows[i], ranks, spill.get(), &report, &by_policy));
  }
  for (auto& results : by_policy) {
    for (auto& r : results) report.results.push_back(std::move(r));
  }
  return report;
}

}  // namespace augur::analyze
