// Internal state of the planner (not a public header). Rows are interned to dense indices once
// per read, so the hot path (a cache hit) is array accesses, not hash lookups; a row's state is
// dropped (and its index reused) once no cache holds it, no window read needs it and its
// write-back is old enough.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
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

// A queued candidate. While it is current (its slot's generation has not moved on) the slot's
// SlotInfo holds exactly what was filed - next use, last needed, uses, seq - so 8 bytes do.
struct Entry {
  int32_t slot;
  uint32_t generation;
};

// A first-in first-out run of entries (a vector with a head: no per-node allocation).
class Fifo {
 public:
  bool empty() const { return head_ == v_.size(); }
  size_t size() const { return v_.size() - head_; }
  const Entry& front() const { return v_[head_]; }
  void push(Entry e) { v_.push_back(e); }
  void pop() {
    if (++head_ == v_.size()) {
      v_.clear();
      head_ = 0;
    } else if (head_ >= 1024 && head_ * 2 >= v_.size()) {
      v_.erase(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  void clear() {
    v_.clear();
    head_ = 0;
  }
  // Drops the entries `keep` rejects, keeping the others in order.
  template <class Keep>
  void Compact(const Keep& keep) {
    size_t out = 0;
    for (size_t i = head_; i < v_.size(); ++i)
      if (keep(v_[i])) v_[out++] = v_[i];
    v_.resize(out);
    head_ = 0;
  }

 private:
  std::vector<Entry> v_;
  size_t head_ = 0;
};

// Candidates bucketed by next use: one FIFO per next-use iteration of the window (a ring of
// lookahead + 2, since the live next uses span at most that many iterations) and, for rows not
// read again inside the window, one per use count. Every bucket is filed in (last_needed, seq)
// order (the planner files dormant copies oldest first and everything else as it happens), so
// each bucket's front is its best candidate by `Candidate::operator<` and the best of the queue
// is the front of the highest non-empty bucket. Stale entries are dropped when they reach a front
// and whole buckets when their iteration has been read. O(1) to file; a query walks buckets
// from the top and usually stops at the first.
class NextUseQueue {
 public:
  void Init(int ring) { fin_.assign(static_cast<size_t>(ring), Fifo()); }
  void Push(const SlotInfo& s, Entry e) {
    if (s.next_use != kNever) {
      fin_[Ring(s.next_use)].push(e);
    } else if (s.uses < kSmallUses) {
      if (never_.size() <= s.uses) never_.resize(s.uses + 1);
      never_[s.uses].push(e);
      never_min_ = std::min<size_t>(never_min_, s.uses);
    } else {
      never_big_[s.uses].push(e);
    }
  }
  // The best entry `valid` accepts with next use in (lo, hi] or none, and the bucket it is the
  // front of (pop it there); invalid fronts met on the way are dropped for good.
  template <class Valid>
  std::pair<const Entry*, Fifo*> Best(int64_t lo, int64_t hi, const Valid& valid) {
    for (; never_min_ < never_.size(); ++never_min_)
      if (Fifo* f = Front(never_[never_min_], valid)) return {&f->front(), f};
    for (auto it = never_big_.begin(); it != never_big_.end();) {
      if (Fifo* f = Front(it->second, valid)) return {&f->front(), f};
      it = never_big_.erase(it);
    }
    for (int64_t n = hi; n > lo; --n)
      if (Fifo* f = Front(fin_[Ring(n)], valid)) return {&f->front(), f};
    return {nullptr, nullptr};
  }
  // Every entry for next use `n` is stale once iteration n's reads have learned their next.
  void ClearIteration(int64_t n) { fin_[Ring(n)].clear(); }
  size_t size() const {
    size_t n = 0;
    for (const Fifo& f : fin_) n += f.size();
    for (const Fifo& f : never_) n += f.size();
    for (const auto& [uses, f] : never_big_) n += f.size();
    return n;
  }
  template <class Keep>
  void Compact(const Keep& keep) {
    for (Fifo& f : fin_) f.Compact(keep);
    for (Fifo& f : never_) f.Compact(keep);
    for (auto& [uses, f] : never_big_) f.Compact(keep);
    never_min_ = 0;
  }

 private:
  static constexpr uint32_t kSmallUses = 64;
  size_t Ring(int64_t n) const { return static_cast<size_t>(n) % fin_.size(); }
  template <class Valid>
  static Fifo* Front(Fifo& f, const Valid& valid) {
    while (!f.empty() && !valid(f.front())) f.pop();
    return f.empty() ? nullptr : &f;
  }
  std::vector<Fifo> fin_;
  std::vector<Fifo> never_;  // [uses], uses < kSmallUses
  size_t never_min_ = 0;     // never_[i] for i < never_min_ are empty
  std::map<uint32_t, Fifo> never_big_;
};

// Eviction candidates are split by when their slot could be handed to a fill. A fill for need j
// is on time when issued at j - d, so its victim must have left after step j - d - 1 at the
// latest: `ready` holds the slots last needed at or before `cutoff` (= j - d - 1 for the need
// being planned). The others are `young`: bucketed by last_needed, to move into `ready` as the
// cutoff advances, and filed in `young` too for when no ready slot will do and a fill has to be
// late (an entry there that has moved to `ready` is skipped). Choosing victims among ready slots
// first keeps a pipeline of d steps' worth of leaving rows, so fills overlap with training
// instead of waiting for the slot of a row read the step before. An entry is stale once its
// slot's generation moved on (the slot was filed again or emptied).
struct WorkerCache {
  std::vector<SlotInfo> slots;  // grows up to capacity as slots are first used
  std::vector<std::pair<int32_t, int64_t>> free_slots;  // (slot, freed after step), FIFO
  size_t free_head = 0;
  int64_t held = 0;
  NextUseQueue ready, young;
  std::deque<std::vector<Entry>> by_last_needed;  // [k]: young, last_needed == cutoff + 1 + k
  int64_t cutoff = -1;
  uint64_t filed = 0;  // candidates filed so far (Candidate::seq)

  explicit WorkerCache(int lookahead) {
    ready.Init(lookahead + 2);
    young.Init(lookahead + 2);
  }
  bool Current(Entry e) const { return slots[e.slot].generation == e.generation; }
  // The full candidate a current entry stands for.
  Candidate Of(Entry e) const {
    const SlotInfo& s = slots[e.slot];
    return {s.next_use, s.last_needed, e.slot, e.generation, s.uses, s.seq};
  }
  // Files a slot's current (next_use, last_needed) as a candidate.
  void File(int32_t slot) {
    const SlotInfo& s = slots[slot];
    const Entry e{slot, s.generation};
    if (s.last_needed <= cutoff) {
      ready.Push(s, e);
      return;
    }
    const size_t k = static_cast<size_t>(s.last_needed - cutoff - 1);
    if (by_last_needed.size() <= k) by_last_needed.resize(k + 1);
    by_last_needed[k].push_back(e);
    young.Push(s, e);
  }
  // Re-files a slot after its next_use / last_needed changed.
  void Touch(int32_t slot) {
    ++slots[slot].generation;
    slots[slot].seq = ++filed;
    File(slot);
  }
  // Slots last needed at or before `to` become ready.
  void Advance(int64_t to) {
    while (cutoff < to) {
      ++cutoff;
      if (by_last_needed.empty()) continue;
      const std::vector<Entry>& bucket = by_last_needed.front();
      for (size_t i = 0; i < bucket.size(); ++i) {
        if (i + 16 < bucket.size()) __builtin_prefetch(&slots[bucket[i + 16].slot]);
        if (Current(bucket[i])) ready.Push(slots[bucket[i].slot], bucket[i]);
      }
      by_last_needed.pop_front();
    }
  }
  // Iteration n's reads learned their next use: its buckets hold only stale entries.
  void ClearIteration(int64_t n) {
    ready.ClearIteration(n);
    young.ClearIteration(n);
  }
  // Entries held for candidates, stale ones included.
  size_t queued() const {
    size_t n = ready.size() + young.size();
    for (const auto& b : by_last_needed) n += b.size();
    return n;
  }
  // Drops every stale entry, keeping the order of the others.
  void Compact() {
    ready.Compact([this](Entry e) { return Current(e); });
    young.Compact([this](Entry e) { return Current(e) && slots[e.slot].last_needed > cutoff; });
    for (auto& b : by_last_needed) std::erase_if(b, [this](Entry e) { return !Current(e); });
  }
};

// The reads of one iteration inside the window, per worker, with each read's next read.
struct WindowIteration {
  std::vector<std::vector<Idx>> reads;     // [worker] unique rows
  std::vector<std::vector<int64_t>> next;  // [worker][pos] next iteration this worker reads it
};

}  // namespace augur::planner::internal
