// The lookahead planner. See planner.h for the contract and docs/plan.md for a worked example.
//
// Needs are processed in iteration order. Processing need j requires the reads of iterations up
// to j-1+L (so that every row read at j-1 knows whether it is read again inside the window) and
// may still edit plans j-d-1 .. j: fills are issued at j-d, and a victim evicted to make room for
// such a fill leaves at j-d-1 at the earliest. Plans older than that are final and handed out.
#include <algorithm>
#include <bit>
#include <deque>

#include "absl/container/flat_hash_map.h"
#include "oracle_cacher/planner.h"
#include "oracle_cacher/partitioned_planner.h"
#include "oracle_cacher/planner_state.h"

namespace augur::planner {
namespace {
using namespace internal;

// From this many workers on, eviction state lives per held slot (StateLayout::kPerSlot).
constexpr int kPerSlotFromWorkers = 4;

// Software prefetch distance (reads) for the passes over an iteration's rows.
constexpr size_t kAhead = 16;
inline void Prefetch(const void* p) { __builtin_prefetch(p); }

// kLayout: where each worker's eviction state lives (StateLayout): chosen once in Create.
template <StateLayout kLayout>
class PlannerImpl final : public Planner {
 public:
  explicit PlannerImpl(const PlannerOptions& o) : opt_(o), W_(o.num_workers) {
    if (opt_.policy != CachePolicy::kOracle) opt_.lookahead = 1;
    if (opt_.policy == CachePolicy::kPrefetch1) opt_.prefetch_distance = 1;
    if (opt_.policy == CachePolicy::kNone) opt_.prefetch_distance = 0;
    caches_.reserve(W_);
    for (int w = 0; w < W_; ++w) caches_.emplace_back(&store_, w, opt_.lookahead);
  }

  absl::Status Push(IterationReads reads) override;
  absl::Status Close() override;
  std::optional<IterationPlan> Next() override;
  const PlannerStats& stats() const override { return stats_; }
  int64_t window_keys() const override { return static_cast<int64_t>(index_.size()); }

 private:
  struct Miss {
    int worker;
    Idx row;
    int src;           // -1: fill from the shard
    int32_t src_slot;  // the source's slot during step j-1
  };

  RowAtWorker& At(Idx row, int w) { return store_.At(row, w); }
  RowInfo& Row(Idx row) { return store_.Row(row); }
  void PrefetchRow(Idx row) {
    Prefetch(store_.Address(row));
    if (W_ > 1) Prefetch(&At(row, W_ - 1));
  }
  // Per-slot states are one more hop: once the record is in cache, start loading the state.
  void PrefetchState(Idx row, int w) {
    if constexpr (kLayout != StateLayout::kPerSlot) return;
    if (const int32_t slot = At(row, w).slot; slot >= 0) Prefetch(&caches_[w].slot_states[slot]);
  }
  Idx Intern(RowKey key);
  WindowIteration& Window(int64_t iteration) {
    return window_[static_cast<size_t>(iteration - window_base_)];
  }
  absl::Status ProcessNeed(int64_t j);
  void ProcessNeedNone(int64_t j);
  void UpdateAfterStep(int64_t step);
  absl::StatusOr<std::pair<int32_t, int64_t>> AllocateSlot(int w, int64_t j);
  void Evict(int w, Idx row, int64_t after_step);
  IterationPlan& PlanAt(int64_t iteration);
  void Forget(int64_t now);
  void Release(int64_t final_through);
  // A fill with no version may be issued prefetch_distance steps before its need; the write-back
  // it must see has to be older than writeback_horizon steps at issue time.
  int64_t ForgetAfter() const { return opt_.writeback_horizon + opt_.prefetch_distance + 1; }

  PlannerOptions opt_;
  const int W_;
  RowStore store_{W_, kLayout};
  std::vector<WorkerCache<kLayout>> caches_;
  absl::flat_hash_map<RowKey, Idx> index_;
  std::vector<Idx> free_rows_;
  std::deque<WindowIteration> window_;  // iterations [window_base_, pushed_)
  int64_t window_base_ = 0;
  int64_t pushed_ = 0;
  int64_t processed_ = 0;  // needs [0, processed_) are planned
  std::deque<IterationPlan> plans_;  // iterations [plans_base_, ...)
  int64_t plans_base_ = 0;
  int64_t released_ = 0;  // plans [plans_base_, released_) may be handed out
  std::deque<std::pair<Iter, Idx>> forget_queue_;
  std::vector<Miss> misses_;  // scratch
  std::vector<Idx> interned_;  // scratch
  std::vector<Idx> dormant_;  // scratch: held rows whose next use a Push just learned
  bool closed_ = false;
  PlannerStats stats_;
};

template <StateLayout kLayout>
Idx PlannerImpl<kLayout>::Intern(RowKey key) {
  auto [it, fresh] = index_.try_emplace(key, 0);
  if (!fresh) return it->second;
  Idx idx;
  if (!free_rows_.empty()) {
    idx = free_rows_.back();
    free_rows_.pop_back();
    store_.Reset(idx);
  } else {
    idx = store_.Add();
  }
  Row(idx).key = key;
  // When every version is tracked, a row seen for the first time was never written.
  if (opt_.writeback_horizon == 0) Row(idx).version = 0;
  it->second = idx;
  return idx;
}

template <StateLayout kLayout>
IterationPlan& PlannerImpl<kLayout>::PlanAt(int64_t iteration) {
  while (plans_base_ + static_cast<int64_t>(plans_.size()) <= iteration) {
    IterationPlan p;
    p.iteration = plans_base_ + static_cast<int64_t>(plans_.size());
    p.workers.resize(W_);
    plans_.push_back(std::move(p));
  }
  return plans_[static_cast<size_t>(iteration - plans_base_)];
}

template <StateLayout kLayout>
absl::Status PlannerImpl<kLayout>::Push(IterationReads reads) {
  if (closed_) return absl::FailedPreconditionError("planner is closed");
  if (static_cast<int>(reads.by_worker.size()) != W_)
    return absl::InvalidArgumentError("reads for " + std::to_string(reads.by_worker.size()) +
                                      " workers, planner has " + std::to_string(W_));
  if (pushed_ >= kMaxIterations)
    return absl::OutOfRangeError("one planner run plans at most " +
                                 std::to_string(kMaxIterations) +
                                 " iterations; resume the job from a checkpoint to go on");
  const Iter t = static_cast<Iter>(pushed_);
  WindowIteration it;
  it.reads.resize(W_);
  it.next.resize(W_);
  window_.push_back(std::move(it));
  WindowIteration& now = window_.back();
  for (int w = 0; w < W_; ++w) {
    auto& mine = now.reads[w];
    const auto& keys = reads.by_worker[w];
    const size_t n = keys.size();
    mine.reserve(n);
    // The window holds far more rows than the CPU caches, so every step below is a cache miss;
    // each pass prefetches kAhead reads ahead (interning first, so row storage is stable).
    interned_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) index_.prefetch(keys[i + kAhead]);
      interned_[i] = Intern(keys[i]);
    }
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) PrefetchRow(interned_[i + kAhead]);
      if (i + kAhead / 2 < n) {  // its record should be in cache by now
        const RowAtWorker& b = At(interned_[i + kAhead / 2], w);
        PrefetchState(interned_[i + kAhead / 2], w);
        if (b.last_iter >= window_base_ && b.last_iter < t)
          Prefetch(&Window(b.last_iter).next[w][b.last_pos]);
      }
      Idx r = interned_[i];
      RowAtWorker& a = At(r, w);
      if (a.last_iter == t) continue;  // duplicate within the slice
      // The previous read learns its next read; a dormant cached copy learns its next use.
      if (a.last_iter >= window_base_)
        Window(a.last_iter).next[w][a.last_pos] = static_cast<uint16_t>(t - a.last_iter);
      if (a.slot >= 0) {
        CacheState& cs = caches_[w].State(r);
        if (cs.next_use == kNever) {
          cs.next_use = t;
          dormant_.push_back(r);
        }
      }
      a.last_iter = t;
      a.last_pos = static_cast<int32_t>(mine.size());
      Row(r).last_read = t;
      mine.push_back(r);
    }
    // Dormant copies are filed least recently needed first, so every next-use bucket is filed
    // in (last_needed, filing) order.
    auto& c = caches_[w];
    std::sort(dormant_.begin(), dormant_.end(), [&](Idx x, Idx y) {
      const CacheState &sx = c.State(x), &sy = c.State(y);
      return sx.last_needed != sy.last_needed ? sx.last_needed < sy.last_needed
                                              : At(x, w).slot < At(y, w).slot;
    });
    for (Idx r : dormant_) c.Touch(r);
    dormant_.clear();
    now.next[w].assign(mine.size(), kNoNextRead);
    if (static_cast<int64_t>(mine.size()) > opt_.capacity)
      return absl::ResourceExhaustedError(
          "worker " + std::to_string(w) + " reads " + std::to_string(mine.size()) +
          " distinct rows at iteration " + std::to_string(t) + " but its cache holds only " +
          std::to_string(opt_.capacity) + " (raise capacity or lower the batch size)");
  }
  ++pushed_;
  stats_.peak_window_keys = std::max<int64_t>(stats_.peak_window_keys, index_.size());
  while (processed_ < pushed_ && pushed_ >= processed_ + opt_.lookahead) {
    auto st = ProcessNeed(processed_);
    if (!st.ok()) return st;
    ++processed_;
  }
  return absl::OkStatus();
}

template <StateLayout kLayout>
absl::Status PlannerImpl<kLayout>::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  // No plan from here on is out yet (Next runs after Close), though processing releases them.
  const int64_t open = released_;
  while (processed_ < pushed_) {
    auto st = ProcessNeed(processed_);
    if (!st.ok()) return st;
    ++processed_;
  }
  if (pushed_ > 0) {
    const int64_t last = pushed_ - 1;
    if (opt_.policy != CachePolicy::kNone) UpdateAfterStep(last);
    // The final flush: every cached row leaves once no step updates it again, and its last
    // holder writes it back. A row last updated in a plan that is not out yet leaves right
    // after that update; the rows last updated before those plans are spread evenly over
    // them, so the flush crosses the link while the last steps train, not after them.
    const int64_t first = std::min<int64_t>(open, last);
    const int64_t span = last - first + 1;
    int64_t spread = 0;
    for (int w = W_ - 1; w >= 0; --w) {
      std::vector<std::pair<RowKey, Idx>> held;
      for (Idx r = 0; r < store_.size(); ++r)
        if (Row(r).key != kFreeKey && At(r, w).slot >= 0) held.push_back({Row(r).key, r});
      std::sort(held.begin(), held.end());
      for (auto& [k, r] : held) {
        int64_t leave = std::max<int64_t>(int64_t{Row(r).version} - 1,
                                          int64_t{caches_[w].State(r).last_needed});
        if (leave < first) leave = first + spread++ % span;
        Evict(w, r, std::min(leave, last));
      }
    }
  }
  Release(pushed_);
  return absl::OkStatus();
}

template <StateLayout kLayout>
std::optional<IterationPlan> PlannerImpl<kLayout>::Next() {
  if (plans_base_ >= released_ || plans_.empty()) return std::nullopt;
  IterationPlan p = std::move(plans_.front());
  plans_.pop_front();
  ++plans_base_;
  return p;
}

template <StateLayout kLayout>
void PlannerImpl<kLayout>::Release(int64_t final_through) {
  if (final_through > released_) {
    PlanAt(final_through - 1);
    released_ = final_through;
  }
  // Only the reads of the step before the next need are still looked at.
  while (window_base_ < processed_ - 1 && !window_.empty()) {
    window_.pop_front();
    ++window_base_;
  }
}

template <StateLayout kLayout>
void PlannerImpl<kLayout>::Evict(int w, Idx row, int64_t after_step) {
  auto& c = caches_[w];
  RowAtWorker& a = At(row, w);
  const int32_t slot = a.slot;
  ++c.State(row).generation;
  a.slot = -1;
  --c.held;
  c.free_slots.push_back({slot, after_step});
  RowInfo& ri = Row(row);
  ri.holders &= ~(uint64_t{1} << w);
  bool write_back = ri.holders == 0 && opt_.policy != CachePolicy::kNone;
  if (write_back) {
    ri.written_back = std::max<Iter>(ri.written_back, static_cast<Iter>(after_step));
    ++stats_.writebacks;
    if (opt_.writeback_horizon > 0)
      forget_queue_.push_back({static_cast<Iter>(after_step + ForgetAfter() + 1), row});
  }
  PlanAt(after_step).workers[w].evictions.push_back({ri.key, slot, write_back});
}

template <StateLayout kLayout>
absl::StatusOr<std::pair<int32_t, int64_t>> PlannerImpl<kLayout>::AllocateSlot(int w,
                                                                            int64_t j) {
  auto& c = caches_[w];
  if (c.free_head < c.free_slots.size()) {
    auto s = c.free_slots[c.free_head++];
    if (c.free_head > 1024 && c.free_head * 2 > c.free_slots.size()) {
      c.free_slots.erase(c.free_slots.begin(), c.free_slots.begin() + c.free_head);
      c.free_head = 0;
    }
    return s;
  }
  if (c.slots < opt_.capacity) return std::make_pair(c.NewSlot(), int64_t{-1});
  // A ready victim lets the fill go out on time. When the cache can hold d+2 steps of this
  // slice's rows (the pipeline of leaving rows plus the step's own), take it if its next read is
  // beyond the prefetch distance: keeping the pipeline costs at most a refetch that is itself on
  // time. Otherwise - or when no such row is ready - plain Belady order between the two queues
  // (ties to the ready one): a cache that small cannot keep a pipeline, and evicting rows for it
  // would only cost hits. Rows read at j are never victims.
  const int64_t d = opt_.prefetch_distance;
  const int64_t hi = pushed_ - 1;
  const bool pipeline =
      opt_.capacity >= (d + 2) * static_cast<int64_t>(Window(j).reads[w].size());
  NextUseQueue* queue = &c.ready;
  auto [ready, from] = c.ready.Best(j, hi, [&](Entry e) { return c.Current(e); });
  if (!pipeline || ready == nullptr || c.State(*ready).next_use <= j + d) {
    auto [young, in] = c.young.Best(
        j, hi, [&](Entry e) { return c.Current(e) && c.State(e).last_needed > c.cutoff; });
    if (young != nullptr && (ready == nullptr || c.Of(*ready) < c.Of(*young)))
      ready = young, from = in, queue = &c.young;
  }
  if (ready == nullptr)
    return absl::ResourceExhaustedError("worker " + std::to_string(w) +
                                        " cache cannot hold the rows of iteration " +
                                        std::to_string(j));
  // The next victims are likely the entries behind this one: start loading their records.
  for (size_t k = 2; k <= 4; ++k)
    if (const Entry* e = from->peek(k)) c.PrefetchState(*e);
  const Idx victim = c.RowOf(*ready);
  queue->Pop(from);
  const int32_t slot = At(victim, w).slot;
  const CacheState& a = c.State(victim);
  // Leave as early as the fill wants the slot, but never before the copy's last read or
  // transfer, nor before the row's last update (a write-back must carry the latest value).
  const int64_t leave = std::max<int64_t>(
      {a.last_needed, int64_t{Row(victim).version} - 1, j - d - 1, released_});
  Evict(w, victim, leave);
  c.free_head = c.free_slots.size();  // the slot is handed out right here
  return std::make_pair(slot, leave);
}

// After step `step`: rows read at `step` learn their next read (the window now reaches
// step+L); prefetch1 evicts the ones not read again at once.
template <StateLayout kLayout>
void PlannerImpl<kLayout>::UpdateAfterStep(int64_t step) {
  WindowIteration& it = Window(step);
  for (int w = 0; w < W_; ++w) {
    auto& c = caches_[w];
    const auto& reads = it.reads[w];
    for (size_t p = 0; p < reads.size(); ++p) {
      if (p + kAhead < reads.size()) Prefetch(&At(reads[p + kAhead], w));
      if (p + kAhead / 2 < reads.size()) PrefetchState(reads[p + kAhead / 2], w);
      if (At(reads[p], w).slot < 0) continue;
      CacheState& a = c.State(reads[p]);
      const uint16_t gap = it.next[w][p];
      const Iter next = gap == kNoNextRead ? kNever : static_cast<Iter>(step + gap);
      a.next_use = next;
      if (opt_.policy == CachePolicy::kPrefetch1 && next > step + 1)
        Evict(w, reads[p], step);
      else
        c.Touch(reads[p]);
    }
    c.ClearIteration(step);
    // Stale entries pile up in buckets no query reaches; drop them before they dominate.
    if (c.queued() > 4 * static_cast<size_t>(c.held) + 4096) c.Compact();
  }
}

// The shards apply the step's gradients; the planner only tracks the versions they will have.
template <StateLayout kLayout>
void PlannerImpl<kLayout>::ProcessNeedNone(int64_t j) {
  IterationPlan& plan = PlanAt(j);
  WindowIteration& it = Window(j);
  for (int w = 0; w < W_; ++w) {
    int32_t slot = 0;
    for (Idx r : it.reads[w]) {
      plan.workers[w].fills.push_back({Row(r).key, slot, j, Row(r).version});
      plan.workers[w].evictions.push_back({Row(r).key, slot, false});
      ++slot;
    }
    stats_.accesses += slot;
    stats_.fills += slot;
  }
  for (int w = 0; w < W_; ++w)
    for (Idx r : it.reads[w]) {
      RowInfo& ri = Row(r);
      if (ri.version == j + 1) continue;
      ri.version = static_cast<Iter>(j + 1);
      ri.written_back = static_cast<Iter>(j);
      if (opt_.writeback_horizon > 0)
        forget_queue_.push_back({static_cast<Iter>(j + ForgetAfter() + 1), r});
    }
  Forget(j);
}

template <StateLayout kLayout>
absl::Status PlannerImpl<kLayout>::ProcessNeed(int64_t j) {
  ++stats_.iterations;
  if (opt_.policy == CachePolicy::kNone) {
    ProcessNeedNone(j);
    Release(j + 1);
    return absl::OkStatus();
  }
  WindowIteration& now = Window(j);
  // 1. Classify reads against the caches as they stand during step j-1.
  misses_.clear();
  for (int w = 0; w < W_; ++w) {
    const auto& reads = now.reads[w];
    for (size_t p = 0; p < reads.size(); ++p) {
      if (p + kAhead < reads.size()) PrefetchRow(reads[p + kAhead]);
      if (p + kAhead / 2 < reads.size()) PrefetchState(reads[p + kAhead / 2], w);
      const Idx r = reads[p];
      ++stats_.accesses;
      if (At(r, w).slot >= 0) {
        ++stats_.hits;
        ++caches_[w].State(r).uses;
        continue;
      }
      uint64_t holders = Row(r).holders;
      int src = holders ? std::countr_zero(holders) : -1;
      misses_.push_back({w, r, src, src >= 0 ? At(r, src).slot : -1});
    }
  }
  for (const Miss& m : misses_) {
    if (m.src >= 0) {
      CacheState& s = caches_[m.src].State(m.row);
      s.last_needed = std::max<Iter>(s.last_needed, static_cast<Iter>(j - 1));
      caches_[m.src].Touch(m.row);
    }
    Row(m.row).holders |= uint64_t{1} << m.worker;
  }
  // 2. Rows read at j-1 learn their next read; prefetch1 evicts.
  if (j > 0) UpdateAfterStep(j - 1);
  // 3. Slots: shard fills first (they gain from early slots), then transfers. Every step moves
  // the candidates that became ready, whether or not this step needs a victim.
  for (auto& c : caches_) c.Advance(j - opt_.prefetch_distance - 1);
  std::stable_partition(misses_.begin(), misses_.end(), [](const Miss& m) { return m.src < 0; });
  for (size_t k = 0; k < misses_.size(); ++k) {
    if (k + kAhead < misses_.size()) PrefetchRow(misses_[k + kAhead].row);
    const Miss& m = misses_[k];
    auto slot = AllocateSlot(m.worker, j);
    if (!slot.ok()) return slot.status();
    auto [s, freed] = *slot;
    RowInfo& ri = Row(m.row);
    if (m.src < 0) {
      int64_t issue = std::max<int64_t>({j - opt_.prefetch_distance, freed + 1,
                                         int64_t{ri.written_back} + 1, released_, 0});
      if (issue > std::max<int64_t>(j - opt_.prefetch_distance, 0)) ++stats_.late_fills;
      PlanAt(issue).workers[m.worker].fills.push_back({ri.key, s, j, ri.version});
      ++stats_.fills;
    } else {
      PlanAt(j - 1).transfers.push_back({ri.key, m.src, m.src_slot, m.worker, s});
      ++stats_.transfers;
    }
    auto& c = caches_[m.worker];
    At(m.row, m.worker).slot = s;
    if constexpr (kLayout == StateLayout::kPerSlot) c.slot_states[s].row = m.row;
    CacheState& a = c.State(m.row);
    a.next_use = static_cast<Iter>(j);
    a.last_needed = static_cast<Iter>(j);
    a.uses = 1;
    ++c.held;
    c.Touch(m.row);
  }
  // 4. Step j touches its rows; rows held by more than one worker are all-reduced.
  IterationPlan& plan = PlanAt(j);
  for (int w = 0; w < W_; ++w) {
    const auto& reads = now.reads[w];
    for (size_t p = 0; p < reads.size(); ++p) {
      if (p + kAhead < reads.size()) PrefetchRow(reads[p + kAhead]);
      if (p + kAhead / 2 < reads.size()) PrefetchState(reads[p + kAhead / 2], w);
      const Idx r = reads[p];
      caches_[w].State(r).last_needed = static_cast<Iter>(j);
      RowInfo& ri = Row(r);
      if (ri.version == j + 1) continue;  // already seen through another worker
      ri.version = static_cast<Iter>(j + 1);
      if (std::popcount(ri.holders) > 1) plan.shared.push_back(ri.key);
    }
  }
  std::sort(plan.shared.begin(), plan.shared.end());
  stats_.shared_rows += static_cast<int64_t>(plan.shared.size());
  Forget(j);
  Release(j - opt_.prefetch_distance);
  return absl::OkStatus();
}

// Rows no cache holds, no window read needs, and whose write-back is old enough are dropped.
template <StateLayout kLayout>
void PlannerImpl<kLayout>::Forget(int64_t now) {
  for (size_t k = 0; k < forget_queue_.size() && forget_queue_[k].first <= now; ++k) {
    // Load records ahead, then the index slots of their keys.
    if (k + 2 * kAhead < forget_queue_.size())
      Prefetch(store_.Address(forget_queue_[k + 2 * kAhead].second));
    if (k + kAhead < forget_queue_.size()) {
      const RowKey ahead = Row(forget_queue_[k + kAhead].second).key;
      if (ahead != kFreeKey) index_.prefetch(ahead);
    }
    const Idx r = forget_queue_[k].second;
    RowInfo& ri = Row(r);
    if (ri.key == kFreeKey || ri.holders != 0 || ri.last_read > now ||
        ri.written_back + ForgetAfter() >= now)
      continue;
    index_.erase(ri.key);
    ri.key = kFreeKey;
    free_rows_.push_back(r);
  }
  while (!forget_queue_.empty() && forget_queue_.front().first <= now) forget_queue_.pop_front();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Planner>> Planner::Create(const PlannerOptions& o) {
  if (o.num_workers < 1 || o.num_workers > 64)
    return absl::InvalidArgumentError("num_workers must be in 1..64");
  if (o.capacity < 1) return absl::InvalidArgumentError("capacity must be >= 1 row");
  if (o.capacity > (int64_t{1} << 31) - 1)
    return absl::InvalidArgumentError("capacity must fit 32-bit slot indices");
  if (o.lookahead < 1 || o.lookahead > internal::kMaxLookahead)
    return absl::InvalidArgumentError("lookahead must be in 1.." +
                                      std::to_string(internal::kMaxLookahead));
  if (o.prefetch_distance < 0 || o.prefetch_distance > o.lookahead)
    return absl::InvalidArgumentError("prefetch_distance must be in 0..lookahead");
  if (o.writeback_horizon < 0) return absl::InvalidArgumentError("writeback_horizon must be >= 0");
  if (o.threads < 1 || o.threads > 64) return absl::InvalidArgumentError("threads must be in 1..64");
  if (o.threads > o.capacity)
    return absl::InvalidArgumentError("threads must not exceed the capacity (each plans a share)");
  if (o.threads > 1) return internal::MakePartitionedPlanner(o);
  // Few workers: eviction state inline in the row's record (one worker: a read is one line).
  // Many: per held slot, since most rows of a window are held by one worker or none. On 8M
  // criteo-kaggle samples (B 4096, L 200, 5%) per slot vs inline: W 2 -6% speed, -5% peak
  // memory; W 4 -5%, -10%; W 8 +12% speed, -18% memory.
  if (o.num_workers < kPerSlotFromWorkers)
    return std::unique_ptr<Planner>(new PlannerImpl<StateLayout::kInline>(o));
  return std::unique_ptr<Planner>(new PlannerImpl<StateLayout::kPerSlot>(o));
}

absl::StatusOr<PlannerStats> RunPlanner(const PlannerOptions& options,
                                        const std::function<bool(IterationReads*)>& next) {
  auto planner = Planner::Create(options);
  if (!planner.ok()) return planner.status();
  IterationReads reads;
  while (next(&reads)) {
    auto st = (*planner)->Push(std::move(reads));
    if (!st.ok()) return st;
    reads = IterationReads{};
    while ((*planner)->Next()) {
    }
  }
  auto st = (*planner)->Close();
  if (!st.ok()) return st;
  while ((*planner)->Next()) {
  }
  return (*planner)->stats();
}

}  // namespace augur::planner
