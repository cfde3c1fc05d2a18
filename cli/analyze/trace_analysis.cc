#include "cli/analyze/trace_analysis.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <span>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/analyze/cache_sim.h"
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

// (table, row) keys -> dense ids 0, 1, 2, ... in order of first sight, shared by all workers and
// kept across passes, so a row has the same id in the counting pass and in every replay.
class RowInterner {
 public:
  void Intern(const std::vector<plan::RowKey>& keys, std::vector<uint32_t>* ids) {
    ids->resize(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      auto [it, inserted] = ids_.try_emplace(keys[i], static_cast<uint32_t>(ids_.size()));
      (*ids)[i] = it->second;
    }
  }
  int64_t size() const { return static_cast<int64_t>(ids_.size()); }

 private:
  absl::flat_hash_map<plan::RowKey, uint32_t> ids_;
};

struct SliceRef {
  int worker;
  int64_t iteration;
  std::span<const uint32_t> ids;
};

// One pass over the whole trace: every worker's slice of every iteration, interned, to `visit`.
// Fills the report's trace facts and adds the pass's own time to trace_seconds.
absl::Status ForEachSlice(const Trace& trace, RowInterner* interner, AnalyzeReport* report,
                          const std::function<absl::Status(const SliceRef&)>& visit) {
  plan::IterationReads reads;
  std::vector<uint32_t> ids;
  double visiting = 0;
  auto t0 = Clock::now();
  trace.reset();
  int64_t t = 0, total = 0, largest = 0;
  for (; trace.next(&reads); ++t) {
    if (static_cast<int>(reads.by_worker.size()) != trace.num_workers) {
      return absl::InvalidArgumentError(absl::StrCat("iteration ", t, " has ",
                                                     reads.by_worker.size(), " slices for ",
                                                     trace.num_workers, " workers"));
    }
    for (int w = 0; w < trace.num_workers; ++w) {
      interner->Intern(reads.by_worker[w], &ids);
      total += static_cast<int64_t>(ids.size());
      largest = std::max<int64_t>(largest, ids.size());
      auto v0 = Clock::now();
      AUGUR_RETURN_IF_ERROR(visit({w, t, ids}));
      visiting += Since(v0);
    }
  }
  report->iterations = t;
  report->reads = total;
  report->distinct_keys = interner->size();
  report->max_slice_keys = largest;
  report->trace_seconds += Since(t0) - visiting;
  return absl::OkStatus();
}

// The planner's refusal (RESOURCE_EXHAUSTED, same words), naming the capacity asked for.
absl::Status SliceTooBig(const CapacitySpec& spec, int64_t capacity, const SliceRef& s) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "capacity ", spec.text, ": worker ", s.worker, " reads ", s.ids.size(),
      " distinct rows at iteration ", s.iteration, " but its cache holds only ", capacity,
      " (raise capacity or lower the batch size)"));
}

struct TimedSim {
  Policy policy;
  std::unique_ptr<CacheSim> sim;
  double seconds = 0;
};

// One replay at one capacity, stepping every simulated policy of `policies` at once.
absl::StatusOr<std::vector<TimedSim>> ReplayAt(const Trace& trace, const CapacitySpec& spec,
                                               int64_t rows, const std::vector<Policy>& policies,
                                               std::shared_ptr<const FrequencyRanks> ranks,
                                               RowInterner* interner, AnalyzeReport* report) {
  std::vector<TimedSim> sims;
  for (Policy p : policies) {
    const int w = trace.num_workers;
    switch (p) {
      case Policy::kLru: sims.push_back({p, MakeLruSim(w, rows)}); break;
      case Policy::kLfu: sims.push_back({p, MakeLfuSim(w, rows)}); break;
      case Policy::kStaticTopK: sims.push_back({p, MakeStaticTopKSim(rows, ranks)}); break;
      case Policy::kBeladyMin: sims.push_back({p, MakeMinSim(w, rows)}); break;
      case Policy::kBatchMin: sims.push_back({p, MakeBatchMinSim(w, rows)}); break;
      case Policy::kOracle: break;  // the planner runs on its own (RunOracle)
    }
  }
  if (sims.empty()) return sims;
  AUGUR_RETURN_IF_ERROR(ForEachSlice(trace, interner, report, [&](const SliceRef& s) {
    if (static_cast<int64_t>(s.ids.size()) > rows) return SliceTooBig(spec, rows, s);
    for (TimedSim& t : sims) {
      auto t0 = Clock::now();
      t.sim->Step(s.worker, s.iteration, s.ids);
      t.seconds += Since(t0);
    }
    return absl::OkStatus();
  }));
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

absl::StatusOr<AnalyzeReport> RunTraceAnalysis(const Trace& trace, const AnalyzeOptions& o) {
  if (o.policies.empty()) return absl::InvalidArgumentError("no policies given");
  if (o.capacities.empty()) return absl::InvalidArgumentError("no capacities given");
  bool want_counts = false;
  for (Policy p : o.policies) {
    want_counts |= p == Policy::kStaticTopK;
    if (p == Policy::kOracle && !OracleAvailable()) return RunOracle(trace, o, 1).status();
  }
  for (const auto& c : o.capacities) want_counts |= c.percent;

  AnalyzeReport report;
  RowInterner interner;
  RowCounts counts(trace.num_workers);
  SliceRef largest{0, 0, {}};     // the first of the largest slices, for the error
  std::vector<uint32_t> largest_ids;
  if (want_counts) {
    AUGUR_RETURN_IF_ERROR(ForEachSlice(trace, &interner, &report, [&](const SliceRef& s) {
      counts.Observe(s.worker, s.ids);
      if (s.ids.size() > largest_ids.size()) {
        largest = s;
        largest_ids.assign(s.ids.begin(), s.ids.end());
      }
      return absl::OkStatus();
    }));
    largest.ids = largest_ids;
  }
  std::vector<int64_t> rows;
  for (const auto& c : o.capacities) {
    int64_t r = c.percent ? static_cast<int64_t>(std::ceil(c.value / 100.0 * report.distinct_keys))
                          : static_cast<int64_t>(c.value);
    if (r < 1) return absl::InvalidArgumentError(absl::StrCat("capacity ", c.text, " is 0 rows"));
    // Known up front after a counting pass: refuse before any replay.
    if (want_counts && report.max_slice_keys > r) return SliceTooBig(c, r, largest);
    rows.push_back(r);
  }
  std::shared_ptr<const FrequencyRanks> ranks;
  if (want_counts) ranks = std::make_shared<const FrequencyRanks>(counts);
  counts = RowCounts(0);  // the ranks hold what static needs

  // results[policy index][capacity index], filled capacity by capacity.
  std::vector<std::vector<PolicyResult>> results(o.policies.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    AUGUR_ASSIGN_OR_RETURN(std::vector<TimedSim> sims,
                           ReplayAt(trace, o.capacities[i], rows[i], o.policies, ranks,
                                    &interner, &report));
    size_t next_sim = 0;
    for (size_t p = 0; p < o.policies.size(); ++p) {
      PolicyResult r{o.policies[p], o.capacities[i].text, rows[i]};
      HitCount h;
      if (o.policies[p] == Policy::kOracle) {
        auto t0 = Clock::now();
        AUGUR_ASSIGN_OR_RETURN(h, RunOracle(trace, o, rows[i]));
        r.seconds = Since(t0);
      } else {
        const TimedSim& s = sims[next_sim++];
        h = s.sim->Result();
        r.seconds = s.seconds;
      }
      r.accesses = h.accesses;
      r.hits = h.hits;
      r.hit_rate = h.rate();
      results[p].push_back(r);
    }
  }
  for (auto& by_capacity : results) {
    for (auto& r : by_capacity) report.results.push_back(std::move(r));
  }
  return report;
}

}  // namespace augur::analyze
