// Same-memory cache policies for `augur data analyze`. Every policy models the cache a worker
// trains from: during iteration t all of worker w's slice S(w,t) is resident, inside the same
// `capacity` rows that also keep whatever the policy carries between iterations. A read of the
// slice hits when the row was resident before the iteration; a miss brings the row in; a victim is
// never a row of the slice being trained (eviction back under capacity happens among the others).
// Hit rate = hits / unique (worker, row) reads, as planner::PlannerStats counts it, so the
// lookahead oracle (the real planner, run by trace_analysis.cc) is compared like for like.
//
//   lru        evict the least recently used row
//   lfu        evict the row with the fewest uses since it entered the cache (ties: least recent)
//   static     pin the K most frequent rows of the worker's whole trace, the largest K for which
//              K pinned rows plus every slice's non-pinned rows fit in `capacity` (exact, not
//              capacity - largest slice); non-pinned rows are fetched for their slice and dropped.
//              A pinned row's first read is a miss (it is fetched once, like everywhere else).
//   batch-min  Belady at iteration granularity with the whole future known: before iteration t the
//              cache holds C; reads of S(w,t) not in C miss; then, among rows not in S(w,t), the
//              ones read again farthest in the future (never-again first) leave until |C| <=
//              capacity. No policy that keeps the slice resident in this capacity does better
//              (tests/data/batch_min_test.cc checks it against exhaustive search): the ceiling.
//   min        Belady where only the rows carried from one iteration to the next take capacity
//              and the slice itself is free scratch (the analyzer's definition before the slice
//              rule). A relaxation of batch-min, so min >= batch-min: a looser upper bound, kept
//              to show how much of the gap is the memory the slice needs.
//
// Rows are dense ids (row_interner.h numbers the (table, row) keys; ids are shared by all
// workers, each worker keeps its own state). Both Belady policies are computed forward without
// next-use arrays: a hit is a reuse interval [previous read, this read] the optimum keeps, and
// keeping intervals greedily in the order they end, whenever the capacity they span allows, is
// optimal (the interval-scheduling form of Belady, as in Hawkeye's OPTgen). So no policy needs
// the future stored: memory is O(distinct rows + iterations) per worker, never O(accesses).
//
// Precondition of every Step: slice.size() <= capacity (RunTraceAnalysis refuses larger slices
// with RESOURCE_EXHAUSTED, as the planner does). Thread-safety: none; one thread per sim.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace augur::analyze {

struct HitCount {
  int64_t accesses = 0;
  int64_t hits = 0;
  double rate() const { return accesses ? double(hits) / double(accesses) : 0.0; }
};

class CacheSim {
 public:
  virtual ~CacheSim() = default;
  // Worker w's slice at iteration t: unique dense ids. Call for every worker of every iteration
  // (empty slices too), iterations 0, 1, 2, ... in order; workers in any order within one.
  virtual void Step(int w, int64_t t, std::span<const uint32_t> slice) = 0;
  // Hits and accesses of the steps so far (static: of the whole trace, once it has been stepped).
  virtual HitCount Result() const = 0;
  // Sizes the per-id state for ids < num_ids up front (it grows by doubling otherwise): saves
  // the copies and the memory the doubling leaves unused, when the id count is known.
  virtual void Reserve(int64_t /*num_ids*/) {}
};

std::unique_ptr<CacheSim> MakeLruSim(int num_workers, int64_t capacity);
std::unique_ptr<CacheSim> MakeLfuSim(int num_workers, int64_t capacity);
std::unique_ptr<CacheSim> MakeBatchMinSim(int num_workers, int64_t capacity);
std::unique_ptr<CacheSim> MakeMinSim(int num_workers, int64_t capacity);

// Per-worker read counts of every dense id over a whole trace: the static policy's input.
// Memory: one uint32 per (worker, id).
class RowCounts {
 public:
  explicit RowCounts(int num_workers) : counts_(num_workers) {}
  void Observe(int w, std::span<const uint32_t> slice);
  const std::vector<uint32_t>& of(int w) const { return counts_[w]; }
  int num_workers() const { return static_cast<int>(counts_.size()); }

 private:
  std::vector<std::vector<uint32_t>> counts_;
};

// The static policy: ranks rows by count once (shared by every capacity), then each sim finds its
// pin count K while replaying the trace the counts came from, and counts the hits at the end.
// Memory: a uint32 rank and an int64 prefix sum per (worker, id).
class FrequencyRanks {
 public:
  explicit FrequencyRanks(const RowCounts& counts);
  struct Worker {
    std::vector<uint32_t> rank;       // by id; ids never read by this worker rank last
    std::vector<int64_t> top_reads;   // top_reads[k] = reads of the k most frequent rows
  };
  const Worker& of(int w) const { return workers_[w]; }
  int num_workers() const { return static_cast<int>(workers_.size()); }

 private:
  std::vector<Worker> workers_;
};
std::unique_ptr<CacheSim> MakeStaticTopKSim(int64_t capacity,
                                            std::shared_ptr<const FrequencyRanks> ranks);

}  // namespace augur::analyze
