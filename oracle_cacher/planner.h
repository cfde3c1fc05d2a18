// The lookahead planner: the oracle's core, free of gRPC (it also runs inside
// `augur data analyze` and the plan-only benchmark, so what those report is what the service does).
//
// Input: for every iteration, the unique rows each worker's slice reads (`IterationReads`).
// Output: one `IterationPlan` per iteration, in order, telling every worker what to fetch into
// which cache slot and when, which rows to hand to which peer, which rows to evict and who writes
// them back, and which rows' gradients to all-reduce. docs/plan.md walks through an example.
//
// Consistency scheme ("one value, many holders"): a row may be held by several workers at once;
// every holder applies the same update (gradients of rows with >1 holder are summed in one
// all-reduce over `IterationPlan::shared`), so replicas never diverge. A worker that needs a row
// another worker holds receives it from that holder (`transfers`, a value all-reduce after the
// update step) rather than from the shard, which may be stale. A row is fetched from its shard only
// when no worker holds it, after its last holder's write-back (the fill carries the version it
// must see). Exactly one holder, the last one, writes a row back.
//
// Timeline of iteration i on a worker:
//   1. issue the fills of plan i (async shard lookups into their slots)
//   2. wait for the fills with need_at == i; train on the slice; gradients
//   3. all-reduce dense gradients + gradients of plan i's `shared` rows; apply all updates
//   4. transfers of plan i (value all-reduce: the source contributes, others -0.0)
//   5. evictions of plan i (write-back when write_back is set), freeing their slots
//
// Capacity is a hard bound per worker: when the rows a worker needs do not fit, the planner evicts
// Belady-style (farthest next use inside the window; rows with no use in the window first, those
// read fewest times since they were cached first, then least recently needed) and residency shrinks; it never overflows. Victims for a fill needed at
// j are taken first among rows last needed by j-d-1 and read next after j+d, which can leave in
// time for the fill to be issued d steps ahead; only when none will do does a fill wait for a
// younger victim (late_fills). Without that rule the best victims by next use are the one-shot
// rows read the step before, and most fills would be issued the step they are needed. A cache
// under (d+2) x the slice's distinct rows cannot keep such a pipeline: it evicts in plain
// Belady order. If a single iteration's slice
// needs more rows than the capacity, Push fails with RESOURCE_EXHAUSTED.
//
// Memory grows with the distinct rows inside the window plus resident rows, never with table size.
// Thread-safety: none; one thread drives a Planner.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/plan/plan.h"

namespace augur::planner {

// The plan vocabulary (common/plan/plan.h), used unqualified throughout the planner.
using plan::Eviction;
using plan::Fill;
using plan::IterationPlan;
using plan::IterationReads;
using plan::KeyRow;
using plan::KeyTable;
using plan::MakeKey;
using plan::RowKey;
using plan::Transfer;
using plan::WorkerPlan;

enum class CachePolicy {
  kOracle,     // lookahead planning with reuse, Belady eviction inside the window
  kPrefetch1,  // the next batch's rows fetched during the current step; evicted after use
  kNone,       // synchronous parameter server: fetch every row each step, shards apply updates
};

struct PlannerOptions {
  int num_workers = 1;
  int64_t capacity = 1 << 20;  // cache slots per worker
  int lookahead = 200;         // L: iterations of future reads the planner sees
  int prefetch_distance = 8;   // d: fills are issued d iterations before use when slots allow
  CachePolicy policy = CachePolicy::kOracle;
  // Versions of rows that left every cache are kept writeback_horizon + prefetch_distance + 1
  // iterations (a worker does not pass iteration e + writeback_horizon before its write-backs of
  // e are acknowledged, so older write-backs have landed and a fill needs no version).
  // 0 = keep every version (tests check every read).
  int writeback_horizon = 4;
  // Threads that plan, each a partition of the key space with its share of every worker's slots
  // (1..64; oracle_cacher/partitioned_planner.h). Plans stay deterministic, consistent and
  // within capacity; the hit ratio is within ~1% of one thread's.
  int threads = 1;
};

struct PlannerStats {
  int64_t iterations = 0;
  int64_t accesses = 0;   // unique (worker, row) reads
  int64_t hits = 0;       // already in the worker's cache
  int64_t fills = 0;      // fetched from a shard
  int64_t transfers = 0;  // received from a peer
  int64_t late_fills = 0;  // issued fewer than prefetch_distance iterations before use
  int64_t writebacks = 0;
  int64_t shared_rows = 0;  // summed over iterations
  int64_t peak_window_keys = 0;
  double hit_ratio() const { return accesses ? double(hits) / double(accesses) : 0.0; }
};

class Planner {
 public:
  static absl::StatusOr<std::unique_ptr<Planner>> Create(const PlannerOptions& options);
  virtual ~Planner() = default;

  // Appends the next iteration's reads. INVALID_ARGUMENT when by_worker has the wrong size;
  // RESOURCE_EXHAUSTED when a worker's slice needs more rows than its capacity; OUT_OF_RANGE
  // past 2^30 iterations in one run (a resumed job starts a new run).
  virtual absl::Status Push(IterationReads reads) = 0;
  // No more iterations: the remaining plans become ready, the last one evicting every row
  // (writing back each row once) so the shards hold the final model.
  virtual absl::Status Close() = 0;
  // The next plan whose contents are final, in iteration order; nullopt when none is ready.
  virtual std::optional<IterationPlan> Next() = 0;

  virtual const PlannerStats& stats() const = 0;
  virtual int64_t window_keys() const = 0;  // rows the planner tracks right now
};

// Runs a planner over a whole stream and returns its statistics (plans are discarded):
// `next` fills the next iteration's reads and returns false at the end.
absl::StatusOr<PlannerStats> RunPlanner(const PlannerOptions& options,
                                        const std::function<bool(IterationReads*)>& next);

}  // namespace augur::planner
