// The plan vocabulary: what the oracle's planner produces and a worker executes, shared by the
// data pipeline (which turns batches into `IterationReads`), the planner, the analyzer and the
// worker. It sits below all of them so the layering reads one way: common/plan knows nothing of
// the oracle, the worker or gRPC (the wire form is common/plan/plan_codec.h).
//
// A plan for iteration i tells every worker what to fetch into which cache slot and when
// (`Fill`), which rows to hand to which peer after the update (`Transfer`), which rows to evict
// and who writes them back (`Eviction`), and which rows' gradients to all-reduce (`shared`).
// oracle_cacher/planner.h states the consistency scheme these plans keep; docs/plan.md walks
// through an example.
#pragma once

#include <cstdint>
#include <vector>

namespace augur::plan {

// A row of the job: table id in the top 24 bits, row in the low 40.
using RowKey = uint64_t;
inline constexpr RowKey MakeKey(uint32_t table, uint64_t row) {
  return (static_cast<uint64_t>(table) << 40) | row;
}
inline constexpr uint32_t KeyTable(RowKey k) { return static_cast<uint32_t>(k >> 40); }
inline constexpr uint64_t KeyRow(RowKey k) { return k & ((uint64_t{1} << 40) - 1); }

// The rows one iteration reads: by_worker[w] = the unique keys of worker w's slice (any order).
struct IterationReads {
  std::vector<std::vector<RowKey>> by_worker;
};

// Fetch `key` from its shard into `slot` when plan `issue_at` starts; needed at `need_at`.
// `min_version` is the version the shard must have (-1: no constraint).
struct Fill {
  RowKey key;
  int32_t slot;
  int64_t need_at;
  int64_t min_version;
};

// After the update step: `src` worker's copy of key (value, state) goes to `dst` worker's slot.
struct Transfer {
  RowKey key;
  int32_t src_worker;
  int32_t src_slot;
  int32_t dst_worker;
  int32_t dst_slot;
};

// After the transfers: free `slot`; write the row back to its shard when `write_back` is set.
struct Eviction {
  RowKey key;
  int32_t slot;
  bool write_back;
};

struct WorkerPlan {
  std::vector<Fill> fills;
  std::vector<Eviction> evictions;
};

struct IterationPlan {
  int64_t iteration = 0;
  std::vector<WorkerPlan> workers;  // one per worker
  // Rows whose gradients are summed across workers at this iteration (sorted, identical on all
  // workers): every row touched at this iteration that more than one worker holds.
  std::vector<RowKey> shared;
  std::vector<Transfer> transfers;  // in this order in the value all-reduce
  // Version every touched row has after this iteration: iteration + 1.
};

// One worker's view of one iteration's plan: what the oracle streams and the worker executes.
struct WorkerIterationPlan {
  int64_t iteration = 0;
  std::vector<Fill> fills;          // issue before this iteration's step
  std::vector<Eviction> evictions;  // after this iteration's update and transfers
  std::vector<RowKey> shared;       // identical on every worker
  std::vector<Transfer> transfers;  // identical on every worker
};

// Worker w's part of a global plan.
WorkerIterationPlan SliceForWorker(const IterationPlan& plan, int worker);

}  // namespace augur::plan
