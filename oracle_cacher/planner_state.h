// Internal state of the planner (not a public header). Rows are interned to dense indices once
// per read, and everything the planner knows about a row - its versions and holders, and for
// each worker its slot, reads and eviction rank - lives in one record, so the hot path is one
// record per read, not a chain of lookups. A row's record is dropped (and its index reused) once
// no cache holds it, no window read needs it and its write-back is old enough.
//
// Iterations are 32-bit inside the planner (a run plans at most kMaxIterations; plans carry
// 64-bit iterations), which keeps a row's record small: 32 bytes, plus 28 per worker with the
// eviction state inline (up to three workers) or 12 with it per held slot (StateLayout).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <vector>

#include "oracle_cacher/planner.h"

namespace augur::planner::internal {

using Iter = int32_t;
inline constexpr Iter kNever = std::numeric_limits<Iter>::max();
// Iterations one planner run may plan: far beyond any job (2^30 steps at 10K steps/s is 30
// hours of planning ahead of nothing), with room for `iteration + lookahead` in 32 bits.
inline constexpr int64_t kMaxIterations = int64_t{1} << 30;
using Idx = uint32_t;
// Marks a recycled row index (a real key never reaches table 2^24-1, row 2^40-1).
inline constexpr RowKey kFreeKey = ~RowKey{0};

struct RowInfo {
  RowKey key = 0;
  uint64_t holders = 0;    // bit w: worker w holds the row (or has its fill in flight)
  Iter version = -1;       // 1 + last iteration that touched it; -1 unknown
  Iter written_back = -1;  // the step after which its last write-back happened
  Iter last_read = -1;     // the last pushed iteration that reads it
  uint32_t unused = 0;
};
static_assert(sizeof(RowInfo) == 32);

// A row as one worker sees it: its reads and, while the worker holds it, its slot.
struct RowAtWorker {
  int32_t slot = -1;      // where this worker holds it, -1 if not
  int32_t last_pos = -1;  // position of its last pushed read in that iteration's read list
  Iter last_iter = -1;    // iteration of its last pushed read by this worker
};
static_assert(sizeof(RowAtWorker) == 12);

// A held row's rank as one worker's eviction candidate.
struct CacheState {
  Iter next_use = kNever;   // next known read by this worker; kNever: none inside the window
  Iter last_needed = -1;    // last read, or transfer sourced, by this worker
  uint32_t uses = 0;        // reads by this worker since the row was filled
  uint32_t generation = 0;  // bumps whenever its candidate entry goes stale; never reset
};
static_assert(sizeof(CacheState) == 16);

// Where a worker's CacheStates live. Inline (up to three workers): in the row's record, right
// after its RowAtWorker, so for one worker a read touches one 64-byte line. Per slot (four
// workers or more): in the worker's slot array, so rows a worker does not hold cost it no state -
// most rows of a window are held by one worker or none, and inline states would cost every row
// 16 bytes per worker.
enum class StateLayout { kInline, kPerSlot };

// The records of every interned row: RowInfo then per worker a RowAtWorker (and its CacheState
// when inline), back to back. Growing moves them: take references only after interning.
class RowStore {
 public:
  RowStore(int workers, StateLayout layout)
      : workers_(workers),
        per_worker_(sizeof(RowAtWorker) +
                    (layout == StateLayout::kInline ? sizeof(CacheState) : 0)),
        stride_((sizeof(RowInfo) + workers * per_worker_ + 7) / 8 * 8) {}
  size_t size() const { return size_; }
  RowInfo& Row(Idx r) { return *reinterpret_cast<RowInfo*>(Base(r)); }
  RowAtWorker& At(Idx r, int w) {
    return *reinterpret_cast<RowAtWorker*>(Base(r) + sizeof(RowInfo) + w * per_worker_);
  }
  CacheState& Inline(Idx r, int w) {
    return *reinterpret_cast<CacheState*>(Base(r) + sizeof(RowInfo) + w * per_worker_ +
                                          sizeof(RowAtWorker));
  }
  const char* Address(Idx r) const { return data() + size_t{r} * stride_; }
  // A fresh record at the end (capacity doubles; only the records in use are initialized).
  Idx Add() {
    const size_t lines = ((size_ + 1) * stride_ + sizeof(Line) - 1) / sizeof(Line);
    if (lines > lines_.size()) {
      if (lines > lines_.capacity()) lines_.reserve(std::max(lines, 2 * lines_.capacity()));
      lines_.resize(lines);
    }
    Reset(static_cast<Idx>(size_), /*keep_generations=*/false);
    return static_cast<Idx>(size_++);
  }
  // Clears a record for reuse. Inline generations survive (a stale entry must never match again).
  void Reset(Idx r, bool keep_generations = true) {
    Row(r) = RowInfo{};
    for (int w = 0; w < workers_; ++w) {
      At(r, w) = RowAtWorker{};
      if (per_worker_ == sizeof(RowAtWorker)) continue;
      const uint32_t g = keep_generations ? Inline(r, w).generation : 0;
      Inline(r, w) = CacheState{};
      Inline(r, w).generation = g;
    }
  }

 private:
  struct alignas(64) Line {
    char bytes[64];
  };
  char* data() { return reinterpret_cast<char*>(lines_.data()); }
  const char* data() const { return reinterpret_cast<const char*>(lines_.data()); }
  char* Base(Idx r) { return data() + size_t{r} * stride_; }
  const int workers_;
  const size_t per_worker_;
  const size_t stride_;
  size_t size_ = 0;
  std::vector<Line> lines_;
};

// Eviction candidates: farthest next use first; among rows not read again inside the window, the
// fewest uses since they entered the cache (what the window cannot see, frequency predicts on
// skewed data); then least recently needed; then the one filed first (the queues below keep
// filing order, which is what makes the order total and plans independent of storage).
struct Candidate {
  Iter next_use;
  Iter last_needed;
  uint32_t uses;
  // Whether `o` is a better victim (ties broken by the caller's filing order).
  bool operator<(const Candidate& o) const {
    if (next_use != o.next_use) return next_use < o.next_use;
    if (next_use == kNever && uses != o.uses) return uses > o.uses;
    return last_needed > o.last_needed;
  }
};

// A queued candidate: a row this worker holds, named by row (inline states) or by slot. While it
// is current (its generation has not moved on) the state holds exactly what was filed, so
// 8 bytes do.
struct Entry {
  uint32_t id;
  uint32_t generation;
};

// A first-in first-out run of entries (a vector with a head: no per-node allocation).
class Fifo {
 public:
  bool empty() const { return head_ == v_.size(); }
  size_t size() const { return v_.size() - head_; }
  const Entry& front() const { return v_[head_]; }
  // The entry k places behind the front, or null.
  const Entry* peek(size_t k) const { return head_ + k < v_.size() ? &v_[head_ + k] : nullptr; }
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
// read again inside the window, one per use count. Every bucket is filed in (last_needed, filing)
// order (the planner files dormant copies oldest first and everything else as it happens), so
// each bucket's front is its best candidate and the best of the queue is the front of the
// highest non-empty bucket. Stale entries are dropped when they reach a front, and whole buckets
// when their iteration has been read. O(1) to file; a query walks buckets from the top and
// usually stops at the first.
class NextUseQueue {
 public:
  void Init(int ring) { fin_.assign(static_cast<size_t>(ring), Fifo()); }
  void Push(const CacheState& a, Entry e) {
    ++size_;
    if (a.next_use != kNever) {
      fin_[Ring(a.next_use)].push(e);
    } else if (a.uses < kSmallUses) {
      if (never_.size() <= a.uses) never_.resize(a.uses + 1);
      never_[a.uses].push(e);
      never_min_ = std::min<size_t>(never_min_, a.uses);
    } else {
      never_big_[a.uses].push(e);
    }
  }
  // The best entry `valid` accepts with next use in (lo, hi] or none, and the bucket it is the
  // front of (Pop it there); invalid fronts met on the way are dropped for good.
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
  void ClearIteration(int64_t n) {
    Fifo& f = fin_[Ring(n)];
    size_ -= f.size();
    f.clear();
  }
  size_t size() const { return size_; }  // entries, stale ones included
  // Pops the entry Best returned from its bucket.
  void Pop(Fifo* f) {
    f->pop();
    --size_;
  }
  template <class Keep>
  void Compact(const Keep& keep) {
    size_ = 0;
    for (Fifo& f : fin_) f.Compact(keep), size_ += f.size();
    for (Fifo& f : never_) f.Compact(keep), size_ += f.size();
    for (auto it = never_big_.begin(); it != never_big_.end();) {
      it->second.Compact(keep);
      size_ += it->second.size();
      it = it->second.empty() ? never_big_.erase(it) : std::next(it);
    }
    never_min_ = 0;
  }

 private:
  static constexpr uint32_t kSmallUses = 64;
  size_t Ring(int64_t n) const { return static_cast<size_t>(n) % fin_.size(); }
  template <class Valid>
  Fifo* Front(Fifo& f, const Valid& valid) {
    while (!f.empty() && !valid(f.front())) f.pop(), --size_;
    return f.empty() ? nullptr : &f;
  }
  std::vector<Fifo> fin_;
  std::vector<Fifo> never_;  // [uses], uses < kSmallUses
  size_t never_min_ = 0;     // never_[i] for i < never_min_ are empty
  std::map<uint32_t, Fifo> never_big_;  // uses >= kSmallUses (use counts grow without bound)
  size_t size_ = 0;
};

// One worker's cache. Eviction candidates are split by when their slot could be handed to a
// fill. A fill for need j is on time when issued at j - d, so its victim must have left after
// step j - d - 1 at the latest: `ready` holds the rows last needed at or before `cutoff`
// (= j - d - 1 for the need being planned). The others are `young`: bucketed by last_needed, to
// move into `ready` as the cutoff advances, and filed in `young` too for when no ready row will
// do and a fill has to be late (an entry there that has moved to `ready` is skipped). Choosing
// victims among ready rows first keeps a pipeline of d steps' worth of leaving rows, so fills
// overlap with training instead of waiting for the slot of a row read the step before.
template <StateLayout kLayout>
struct WorkerCache {
  static constexpr bool per_slot = kLayout == StateLayout::kPerSlot;
  RowStore* rows = nullptr;
  int w = 0;
  int64_t slots = 0;      // slots handed out so far (grows up to capacity)
  struct SlotState {
    CacheState state;
    Idx row = 0;
  };
  std::vector<SlotState> slot_states;  // per-slot layout: [slot]
  std::vector<std::pair<int32_t, int64_t>> free_slots;  // (slot, freed after step), FIFO
  size_t free_head = 0;
  int64_t held = 0;
  NextUseQueue ready, young;
  std::deque<std::vector<Entry>> by_last_needed;  // [k]: young, last_needed == cutoff + 1 + k
  size_t by_last_needed_entries = 0;
  int64_t cutoff = -1;

  WorkerCache(RowStore* store, int worker, int lookahead) : rows(store), w(worker) {
    ready.Init(lookahead + 2);
    young.Init(lookahead + 2);
  }
  RowAtWorker& At(Idx r) const { return rows->At(r, w); }
  // A new slot (per-slot states grow with it).
  int32_t NewSlot() {
    if constexpr (per_slot) slot_states.emplace_back();
    return static_cast<int32_t>(slots++);
  }
  // The state of a row this worker holds (per slot: its slot must be set).
  CacheState& State(Idx r) {
    if constexpr (per_slot) return slot_states[At(r).slot].state;
    else return rows->Inline(r, w);
  }
  CacheState& State(Entry e) {
    if constexpr (per_slot) return slot_states[e.id].state;
    else return rows->Inline(e.id, w);
  }
  Idx RowOf(Entry e) const {
    if constexpr (per_slot) return slot_states[e.id].row;
    else return e.id;
  }
  void PrefetchState(Entry e) const {
    if constexpr (per_slot) __builtin_prefetch(&slot_states[e.id]);
    else __builtin_prefetch(rows->Address(e.id));
  }
  bool Current(Entry e) { return State(e).generation == e.generation; }
  Candidate Of(Entry e) {
    const CacheState& a = State(e);
    return {a.next_use, a.last_needed, a.uses};
  }
  // Files a held row's current (next_use, last_needed) as a candidate.
  void File(Idx r) {
    const CacheState& a = State(r);
    const Entry e{per_slot ? static_cast<uint32_t>(At(r).slot) : r, a.generation};
    if (a.last_needed <= cutoff) {
      ready.Push(a, e);
      return;
    }
    const size_t k = static_cast<size_t>(a.last_needed - cutoff - 1);
    if (by_last_needed.size() <= k) by_last_needed.resize(k + 1);
    by_last_needed[k].push_back(e);
    ++by_last_needed_entries;
    young.Push(a, e);
  }
  // Re-files a held row after its next_use / last_needed changed.
  void Touch(Idx r) {
    ++State(r).generation;
    File(r);
  }
  // Rows last needed at or before `to` become ready.
  void Advance(int64_t to) {
    while (cutoff < to) {
      ++cutoff;
      if (by_last_needed.empty()) continue;
      const std::vector<Entry>& bucket = by_last_needed.front();
      for (size_t i = 0; i < bucket.size(); ++i) {
        if (i + 16 < bucket.size()) PrefetchState(bucket[i + 16]);
        if (Current(bucket[i])) ready.Push(State(bucket[i]), bucket[i]);
      }
      by_last_needed_entries -= bucket.size();
      by_last_needed.pop_front();
    }
  }
  // Iteration n's reads learned their next use: its buckets hold only stale entries.
  void ClearIteration(int64_t n) {
    ready.ClearIteration(n);
    young.ClearIteration(n);
  }
  // Entries held for candidates, stale ones included.
  size_t queued() const { return ready.size() + young.size() + by_last_needed_entries; }
  // Drops every stale entry, keeping the order of the others.
  void Compact() {
    ready.Compact([this](Entry e) { return Current(e); });
    young.Compact([this](Entry e) { return Current(e) && State(e).last_needed > cutoff; });
    by_last_needed_entries = 0;
    for (auto& b : by_last_needed) {
      std::erase_if(b, [this](Entry e) { return !Current(e); });
      by_last_needed_entries += b.size();
    }
  }
};

// The reads of one iteration inside the window, per worker, with each read's next read as a
// distance: the previous read of a row is inside the window, at most lookahead + 1 iterations
// back, so 16 bits do (6 bytes per read in the window instead of 12).
inline constexpr uint16_t kNoNextRead = 0;  // not read again inside the window
inline constexpr int kMaxLookahead = 65534;
struct WindowIteration {
  std::vector<std::vector<Idx>> reads;       // [worker] unique rows
  std::vector<std::vector<uint16_t>> next;   // [worker][pos] iterations to its next read here
};

}  // namespace augur::planner::internal
