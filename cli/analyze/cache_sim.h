// Replayable cache policies for `augur data analyze`: each worker has its own cache of `capacity`
// rows; an iteration's unique (worker, row) reads either hit (the row was cached before the
// iteration) or miss (the row is brought in). Hit rate = hits / unique (worker, row) reads, the
// same definition as planner::PlannerStats, so the lookahead oracle (the real planner, run by
// trace_analysis.cc) is compared like for like.
//
//   LRU        evict the least recently used row
//   LFU        evict the row with the fewest uses since it entered the cache (ties: least recent)
//   static     the `capacity` most frequent rows of the worker's whole trace, pinned (the GPU
//              software-cache policy); computed from counts, no replay (StaticTopKHits); the
//              first read of a pinned row counts as a miss (it is fetched once, like elsewhere)
//   MIN        Belady: after each iteration keep the rows whose next use is soonest; the ceiling
//              for any policy that does not prefetch, given the whole future (BeladyNextUse)
//
// A row read in an iteration is always counted, even when one slice has more unique rows than
// the capacity (LRU/LFU/MIN then keep only `capacity` of them afterwards).
// Memory: LRU/LFU/MIN hold O(capacity) per worker; BeladyNextUse and the top-k counts hold one
// entry per access / per distinct row of the whole trace. Thread-safety: none.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/plan/plan.h"

namespace augur::analyze {

using plan::IterationReads;
using plan::RowKey;

struct HitCount {
  int64_t accesses = 0;
  int64_t hits = 0;
  double rate() const { return accesses ? double(hits) / double(accesses) : 0.0; }
};

class CacheSim {
 public:
  virtual ~CacheSim() = default;
  virtual void Step(const IterationReads& reads) = 0;
  const HitCount& count() const { return count_; }

 protected:
  HitCount count_;
};

std::unique_ptr<CacheSim> MakeLruSim(int num_workers, int64_t capacity);
std::unique_ptr<CacheSim> MakeLfuSim(int num_workers, int64_t capacity);

// For MIN: the iteration of each access's next use, in replay order (worker-major within an
// iteration, keys in the order given). Build it with one pass of Observe over the trace.
class BeladyNextUse {
 public:
  explicit BeladyNextUse(int num_workers);
  void Observe(const IterationReads& reads);
  static constexpr int32_t kNever = INT32_MAX;
  // next[w][j] = iteration of worker w's next read of its j-th access's row, or kNever.
  std::vector<std::vector<int32_t>> next;

 private:
  int64_t iteration_ = 0;
  struct State;
  std::shared_ptr<State> state_;
};
// Consumes `next_use` (moved in); replay the same trace in the same order.
std::unique_ptr<CacheSim> MakeBeladySim(int num_workers, int64_t capacity,
                                        std::shared_ptr<const BeladyNextUse> next_use);

// Per-worker access counts of every row over a whole trace, for the static top-k policy.
class AccessCounts {
 public:
  explicit AccessCounts(int num_workers);
  void Observe(const IterationReads& reads);
  // Hits of pinning each worker's `capacity` most frequent rows.
  HitCount StaticTopKHits(int64_t capacity);
  int64_t distinct_rows() const;  // distinct rows over all workers
  int64_t max_slice_rows() const { return max_slice_rows_; }

 private:
  struct State;
  std::shared_ptr<State> state_;
  int64_t max_slice_rows_ = 0;
};

}  // namespace augur::analyze
