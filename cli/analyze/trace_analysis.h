// `augur data analyze`: replays a dataset's id stream (per worker, per iteration, deduplicated
// keys, exactly what the oracle plans on) through several cache policies and capacities. Every
// policy keeps the slice being trained resident inside the capacity (cache_sim.h says what each
// policy is and which are bounds: batch-min is the ceiling, min a looser one).
//
// The lookahead oracle is planner::RunPlanner with CachePolicy::kOracle: the code the oracle
// service runs, not a model of it. It is available when augur_planner_core is linked
// (AUGUR_HAVE_PLANNER); otherwise asking for it is UNIMPLEMENTED.
//
// Passes: the dataset's trace is read once, its row keys interned to dense ids (so the simulators
// keep arrays, not hash maps) and spilled to a file (spilled_trace.h), with per-row counts when
// the static policy asks; then one replay of the spill per capacity steps every simulated policy
// at once; the oracle is one planner run per capacity on the trace itself. Memory is
// O(distinct rows x workers x policies + iterations), never O(reads): the trace lives on disk and
// no policy stores its future (cache_sim.h).
// Thread-safety: RunTraceAnalysis is reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/plan/plan.h"

namespace augur::analyze {

enum class Policy { kLru, kLfu, kStaticTopK, kOracle, kBeladyMin, kBatchMin };
// "lru", "lfu", "static", "oracle", "min", "batch-min"
std::string_view PolicyName(Policy p);
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
  // Where the interned trace is spilled (spilled_trace.h): 4 bytes per read, unlinked at once.
  std::string spill_dir = "/tmp";
};

struct PolicyResult {
  Policy policy;
  std::string capacity_text;
  int64_t capacity = 0;  // rows per worker
  int64_t accesses = 0;
  int64_t hits = 0;
  double hit_rate = 0;
  // Time in this policy's simulator; the oracle's is the whole planner run, reading included.
  double seconds = 0;
};

struct AnalyzeReport {
  // Of the trace, from the analyzer's first pass; -1 when only the oracle ran on row capacities.
  int64_t iterations = -1;
  int64_t distinct_keys = -1;
  int64_t max_slice_keys = -1;  // most unique keys of one worker's slice
  int64_t reads = 0;            // unique (worker, row) reads of one pass
  double trace_seconds = 0;     // reading and interning the trace, all passes together
  std::vector<PolicyResult> results;  // policy-major, capacities in the given order
};

// INVALID_ARGUMENT for an empty policy or capacity list, a capacity of 0 rows, or a trace
// iteration with other than num_workers slices; INTERNAL when the spill file fails;
// RESOURCE_EXHAUSTED, naming the capacity, worker and iteration, when one worker's slice has more
// unique rows than a capacity (no policy can train it, as the planner refuses it too);
// UNIMPLEMENTED for the oracle without the planner; planner errors pass through.
absl::StatusOr<AnalyzeReport> RunTraceAnalysis(const Trace& trace, const AnalyzeOptions& options);

}  // namespace augur::analyze
