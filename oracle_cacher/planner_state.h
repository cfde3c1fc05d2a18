// Internal state of the planner (not a public header): per-row and per-worker bookkeeping.
#pragma once

#include <cstdint>
#include <limits>
#include <queue>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "oracle_cacher/planner.h"

namespace augur::planner::internal {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// Workers that read a row at one iteration inside the window.
struct Use {
  int64_t iteration;
  uint64_t workers;  // bit w set: worker w reads the row
};

struct RowState {
  std::vector<Use> uses;  // uses at iterations not yet processed, ascending; [head, end)
  size_t head = 0;
  uint64_t holders = 0;       // bit w: worker w holds the row (or has a fill for it in flight)
  int64_t version = -1;       // 1 + last iteration that touched the row; -1 unknown
  int64_t written_back = -1;  // iteration after whose step the last write-back happened

  bool has_uses() const { return head < uses.size(); }
  void PopUsesThrough(int64_t iteration);
  // First iteration > `after` at which worker w reads the row, among the known uses; kNever if
  // none is known.
  int64_t NextUse(int w, int64_t after) const;
};

// A row in a worker's cache.
struct Holding {
  int32_t slot;
  int64_t next_use;     // next known read by this worker; kNever when none inside the window
  int64_t last_needed;  // last iteration it was read, or sourced a transfer, by this worker
  uint32_t generation;  // bumps on every change so stale victim-heap entries are skipped
};

// Eviction candidates: farthest next use first, then least recently needed.
struct Candidate {
  int64_t next_use;
  int64_t last_needed;
  RowKey key;
  uint32_t generation;
  bool operator<(const Candidate& o) const {
    if (next_use != o.next_use) return next_use < o.next_use;
    return last_needed > o.last_needed;
  }
};

struct WorkerCache {
  absl::flat_hash_map<RowKey, Holding> held;
  std::vector<std::pair<int32_t, int64_t>> free_slots;  // (slot, freed after step), FIFO
  size_t free_head = 0;
  int32_t never_used = 0;  // slots [never_used, capacity) were never handed out
  std::priority_queue<Candidate> candidates;

  void Touch(RowKey key, Holding& h);  // re-files h in the candidate heap after a change
};

}  // namespace augur::planner::internal
