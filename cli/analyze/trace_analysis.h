// `augur data analyze`: replays a dataset's id stream (per worker, per iteration, deduplicated
// keys, exactly what the oracle plans on) through several cache policies and capacities.
//
// The lookahead oracle is planner::RunPlanner with CachePolicy::kOracle: the code the oracle
// service runs, not a model of it. It is available when augur_planner_core is linked
// (AUGUR_HAVE_PLANNER); otherwise asking for it is UNIMPLEMENTED.
//
// Passes over the trace: one counting pass when a capacity is a percentage or the static policy
// is asked for; one next-use pass for MIN; then one replay per (policy, capacity). The oracle
// replay's memory is bounded by the planner's window, so it is the one to use on huge traces.
// Thread-safety: RunTraceAnalysis is reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/plan/plan.h"

namespace augur::analyze {

enum class Policy { kLru, kLfu, kStaticTopK, kOracle, kBeladyMin };
std::string_view PolicyName(Policy p);  // "lru", "lfu", "static", "oracle", "min"
// Parses a comma-separated policy list; INVALID_ARGUMENT naming an unknown one.
absl::StatusOr<std::vector<Policy>> ParsePolicies(const std::string& list);
bool OracleAvailable();

// A capacity in rows, or a percentage of the trace's distinct (table, row) keys.
struct CapacitySpec {
  double value = 0;
  bool percent = false;
  std::string text;  // as given
};
// "1000,5%,20%" -> specs; INVALID_ARGUMENT for anything else.
absl::StatusOr<std::vector<CapacitySpec>> ParseCapacities(const std::string& list);

// A restartable stream of iterations: Reset() then Next() until false.
struct Trace {
  int num_workers = 1;
  std::function<void()> reset;
  std::function<bool(plan::IterationReads*)> next;
};

struct AnalyzeOptions {
  std::vector<Policy> policies;
  std::vector<CapacitySpec> capacities;
  int lookahead = 200;
  int prefetch_distance = 8;
};

struct PolicyResult {
  Policy policy;
  std::string capacity_text;
  int64_t capacity = 0;  // rows per worker
  int64_t accesses = 0;
  int64_t hits = 0;
  double hit_rate = 0;
  double seconds = 0;  // replay time of this (policy, capacity)
};

struct AnalyzeReport {
  int64_t iterations = 0;
  int64_t distinct_keys = -1;   // -1 when no counting pass ran
  int64_t max_slice_keys = -1;  // largest unique-key count of one slice (counting pass)
  std::vector<PolicyResult> results;  // policy-major, capacities in the given order
};

// INVALID_ARGUMENT for an empty policy or capacity list, a capacity below 1 row or (when known)
// below the largest slice's unique keys; UNIMPLEMENTED for the oracle without the planner;
// planner errors pass through.
absl::StatusOr<AnalyzeReport> RunTraceAnalysis(const Trace& trace, const AnalyzeOptions& options);

}  // namespace augur::analyze
