// Internal state of the planner (not a public header). Rows are interned to dense indices once
// per read, so the hot path (a cache hit) is array accesses, not hash lookups; a row's state is
// dropped (and its index reused) once no cache holds it, no window read needs it and its
// write-back is old enough.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <queue>
#include <vector>

#include "oracle_cacher/planner.h"

namespace augur::planner::internal {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
using Idx = uint32_t;
// Marks a recycled row index (a real key never reaches table 2^24-1, row 2^40-1).
inline constexpr RowKey kFreeKey = ~RowKey{0};

struct RowInfo {
  RowKey key = 0;
  uint64_t holders = 0;       // bit w: worker w holds the row (or has its fill in flight)
  int64_t version = -1;       // 1 + last iteration that touched it; -1 unknown
  int64_t written_back = -1;  // the step after which its last write-back happened
  int64_t last_read = -1;     // the last pushed iteration that reads it
};

// A row as one worker sees it.
struct RowAtWorker {
  int32_t slot = -1;       // where this worker holds it, -1 if not
  int32_t last_pos = -1;   // position of its last pushed read in that iteration's read list
  int64_t last_iter = -1;  // iteration of its last pushed read by this worker
};

// What occupies a cache slot.
struct SlotInfo {
  Idx row = 0;
  int64_t next_use = kNever;  // next known read by this worker; kNever: none inside the window
  int64_t last_needed = -1;   // last read, or transfer sourced, by this worker
  uint32_t uses = 0;          // reads by this worker since the row entered this slot
  uint32_t generation = 0;    // bumps on every change so stale heap entries are skipped
  uint64_t seq = 0;           // when this slot was last filed as a candidate (the last tie-break)
};

// Eviction candidates: farthest next use first; among rows not read again inside the window, the
// fewest uses since they entered the cache (what the window cannot see, frequency predicts on
// skewed data); then least recently needed; then the one filed first. The order is total, so
// plans do not depend on how the candidates are stored.
struct Candidate {
  int64_t next_use;
  int64_t last_needed;
  int32_t slot;
  uint32_t generation;
  uint32_t uses;
  uint64_t seq;
  bool operator<(const Candidate& o) const {
    if (next_use != o.next_use) return next_use < o.next_use;
    if (next_use == kNever && uses != o.uses) return uses > o.uses;
    if (last_needed != o.last_needed) return last_needed > o.last_needed;
    return seq > o.seq;
  }
};

// Eviction candidates are split by when their slot could be handed to a fill. A fill for need j
// is on time when issued at j - d, so its victim must have left after step j - d - 1 at the
// latest: `ready` holds the slots last needed at or before `cutoff` (= j - d - 1 for the need
// being planned), in Belady order. The others are `young`: bucketed by last_needed, to move
// into `ready` as the cutoff advances, and in `young_heap` (Belady order) for when no ready slot
// will do and a fill has to be late. young_heap is built from the buckets when first needed and
// dropped after a step that did not use it, so a cache that keeps its pipeline never pays for it. Choosing victims among ready slots first keeps a
// pipeline of d steps' worth of leaving rows, so fills overlap with training instead of waiting
// for the slot of a row read the step before. Heaps hold stale entries (generation mismatch,
// or young entries already promoted); they are skipped when popped.
struct WorkerCache {
  std::vector<SlotInfo> slots;  // grows up to capacity as slots are first used
  std::vector<std::pair<int32_t, int64_t>> free_slots;  // (slot, freed after step), FIFO
  size_t free_head = 0;
  int64_t held = 0;
  std::priority_queue<Candidate> ready, young_heap;
  std::deque<std::vector<Candidate>> young;  // young[k]: last_needed == cutoff + 1 + k
  size_t young_entries = 0;                  // over all buckets
  int64_t cutoff = -1;
  bool young_heap_live = false;  // young_heap mirrors the buckets
  bool young_heap_used = false;  // ... and was popped since the last Advance
  uint64_t filed = 0;            // candidates filed so far (Candidate::seq)

  // Files a slot's current (next_use, last_needed) as a candidate.
  void File(int32_t slot) {
    const SlotInfo& s = slots[slot];
    const Candidate c{s.next_use, s.last_needed, slot, s.generation, s.uses, s.seq};
    if (c.last_needed <= cutoff) {
      ready.push(c);
      return;
    }
    const size_t k = static_cast<size_t>(c.last_needed - cutoff - 1);
    if (young.size() <= k) young.resize(k + 1);
    young[k].push_back(c);
    ++young_entries;
    if (young_heap_live) young_heap.push(c);
  }
  // Re-files a slot after its next_use / last_needed changed.
  void Touch(int32_t slot) {
    ++slots[slot].generation;
    slots[slot].seq = ++filed;
    File(slot);
  }
  // The fallback heap of young slots, built on first use.
  std::priority_queue<Candidate>& YoungHeap() {
    young_heap_used = true;
    if (!young_heap_live) {
      std::vector<Candidate> all;
      for (const auto& bucket : young)
        for (const Candidate& c : bucket)
          if (slots[c.slot].generation == c.generation) all.push_back(c);
      young_heap = std::priority_queue<Candidate>(std::less<Candidate>(), std::move(all));
      young_heap_live = true;
    }
    return young_heap;
  }
  // Slots last needed at or before `to` become ready.
  void Advance(int64_t to) {
    if (cutoff >= to) return;
    if (young_heap_live && !young_heap_used) {
      young_heap = {};
      young_heap_live = false;
    }
    young_heap_used = false;
    while (cutoff < to) {
      ++cutoff;
      if (young.empty()) continue;
      const std::vector<Candidate>& bucket = young.front();
      young_entries -= bucket.size();
      for (size_t i = 0; i < bucket.size(); ++i) {
        if (i + 16 < bucket.size()) __builtin_prefetch(&slots[bucket[i + 16].slot]);
        const Candidate& c = bucket[i];
        if (slots[c.slot].generation == c.generation) ready.push(c);
      }
      young.pop_front();
    }
  }
  // Entries held for candidates, stale ones included (the planner rebuilds past a bound).
  size_t queued() const { return ready.size() + young_heap.size() + young_entries; }
  void ClearCandidates() {
    ready = {};
    young_heap = {};
    young_heap_live = false;
    young.clear();
    young_entries = 0;
  }
};

// The reads of one iteration inside the window, per worker, with each read's next read.
struct WindowIteration {
  std::vector<std::vector<Idx>> reads;     // [worker] unique rows
  std::vector<std::vector<int64_t>> next;  // [worker][pos] next iteration this worker reads it
};

}  // namespace augur::planner::internal
