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

// Software prefetch distance (reads) for the passes over an iteration's rows.
constexpr size_t kAhead = 16;
inline void Prefetch(const void* p) { __builtin_prefetch(p); }

class PlannerImpl final : public Planner {
 public:
  explicit PlannerImpl(const PlannerOptions& o) : opt_(o), W_(o.num_workers) {
    if (opt_.policy != CachePolicy::kOracle) opt_.lookahead = 1;
    if (opt_.policy == CachePolicy::kPrefetch1) opt_.prefetch_distance = 1;
    if (opt_.policy == CachePolicy::kNone) opt_.prefetch_distance = 0;
    caches_.assign(W_, WorkerCache(opt_.lookahead));
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

  RowAtWorker& At(Idx row, int w) { return at_[static_cast<size_t>(row) * W_ + w]; }
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
  std::vector<WorkerCache> caches_;
  absl::flat_hash_map<RowKey, Idx> index_;
  std::vector<RowInfo> rows_;
  std::vector<RowAtWorker> at_;  // rows_.size() x W
  std::vector<Idx> free_rows_;
  std::deque<WindowIteration> window_;  // iterations [window_base_, pushed_)
  int64_t window_base_ = 0;
  int64_t pushed_ = 0;
  int64_t processed_ = 0;  // needs [0, processed_) are planned
  std::deque<IterationPlan> plans_;  // iterations [plans_base_, ...)
  int64_t plans_base_ = 0;
  int64_t released_ = 0;  // plans [plans_base_, released_) may be handed out
  std::deque<std::pair<int64_t, Idx>> forget_queue_;
  std::vector<Miss> misses_;  // scratch
  std::vector<Idx> interned_;  // scratch
  std::vector<int32_t> dormant_;  // scratch: cached slots whose next use a Push just learned
  bool closed_ = false;
  PlannerStats stats_;
};

Idx PlannerImpl::Intern(RowKey key) {
  auto [it, fresh] = index_.try_emplace(key, 0);
  if (!fresh) return it->second;
  Idx idx;
  if (!free_rows_.empty()) {
    idx = free_rows_.back();
    free_rows_.pop_back();
    rows_[idx] = RowInfo{};
    for (int w = 0; w < W_; ++w) At(idx, w) = RowAtWorker{};
  } else {
    idx = static_cast<Idx>(rows_.size());
    rows_.emplace_back();
    at_.resize(at_.size() + W_);
  }
  rows_[idx].key = key;
  // When every version is tracked, a row seen for the first time was never written.
  if (opt_.writeback_horizon == 0) rows_[idx].version = 0;
  it->second = idx;
  return idx;
}

IterationPlan& PlannerImpl::PlanAt(int64_t iteration) {
  while (plans_base_ + static_cast<int64_t>(plans_.size()) <= iteration) {
    IterationPlan p;
    p.iteration = plans_base_ + static_cast<int64_t>(plans_.size());
    p.workers.resize(W_);
    plans_.push_back(std::move(p));
  }
  return plans_[static_cast<size_t>(iteration - plans_base_)];
}

absl::Status PlannerImpl::Push(IterationReads reads) {
  if (closed_) return absl::FailedPreconditionError("planner is closed");
  if (static_cast<int>(reads.by_worker.size()) != W_)
    return absl::InvalidArgumentError("reads for " + std::to_string(reads.by_worker.size()) +
                                      " workers, planner has " + std::to_string(W_));
  const int64_t t = pushed_;
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
      if (i + kAhead < n) {
        Prefetch(&At(interned_[i + kAhead], w));
        Prefetch(&rows_[interned_[i + kAhead]]);
      }
      if (i + kAhead / 2 < n) {  // its row state should be in cache by now
        const RowAtWorker& b = At(interned_[i + kAhead / 2], w);
        if (b.slot >= 0) Prefetch(&caches_[w].slots[b.slot]);
        if (b.last_iter >= window_base_ && b.last_iter < t)
          Prefetch(&Window(b.last_iter).next[w][b.last_pos]);
      }
      Idx r = interned_[i];
      RowAtWorker& a = At(r, w);
      if (a.last_iter == t) continue;  // duplicate within the slice
      // The previous read learns its next read; a dormant cached copy learns its next use.
      if (a.last_iter >= window_base_) Window(a.last_iter).next[w][a.last_pos] = t;
      if (a.slot >= 0 && caches_[w].slots[a.slot].next_use == kNever) {
        caches_[w].slots[a.slot].next_use = t;
        dormant_.push_back(a.slot);
      }
      a.last_iter = t;
      a.last_pos = static_cast<int32_t>(mine.size());
      rows_[r].last_read = t;
      mine.push_back(r);
    }
    // Dormant copies are filed least recently needed first, so every next-use bucket is filed
    // in (last_needed, seq) order.
    WorkerCache& c = caches_[w];
    std::sort(dormant_.begin(), dormant_.end(), [&](int32_t x, int32_t y) {
      return c.slots[x].last_needed != c.slots[y].last_needed
                 ? c.slots[x].last_needed < c.slots[y].last_needed
                 : x < y;
    });
    for (int32_t slot : dormant_) c.Touch(slot);
    dormant_.clear();
    now.next[w].assign(mine.size(), kNever);
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

absl::Status PlannerImpl::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  while (processed_ < pushed_) {
    auto st = ProcessNeed(processed_);
    if (!st.ok()) return st;
    ++processed_;
  }
  if (pushed_ > 0) {
    const int64_t last = pushed_ - 1;
    if (opt_.policy != CachePolicy::kNone) UpdateAfterStep(last);
    // The final flush: every cached row leaves after the last step; its last holder writes it.
    for (int w = W_ - 1; w >= 0; --w) {
      std::vector<std::pair<RowKey, Idx>> held;
      for (auto& s : caches_[w].slots)
        if (At(s.row, w).slot >= 0 && &caches_[w].slots[At(s.row, w).slot] == &s)
          held.push_back({rows_[s.row].key, s.row});
      std::sort(held.begin(), held.end());
      for (auto& [k, r] : held) Evict(w, r, last);
    }
  }
  Release(pushed_);
  return absl::OkStatus();
}

std::optional<IterationPlan> PlannerImpl::Next() {
  if (plans_base_ >= released_ || plans_.empty()) return std::nullopt;
  IterationPlan p = std::move(plans_.front());
  plans_.pop_front();
  ++plans_base_;
  return p;
}

void PlannerImpl::Release(int64_t final_through) {
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

void PlannerImpl::Evict(int w, Idx row, int64_t after_step) {
  WorkerCache& c = caches_[w];
  RowAtWorker& a = At(row, w);
  int32_t slot = a.slot;
  a.slot = -1;
  ++c.slots[slot].generation;
  --c.held;
  c.free_slots.push_back({slot, after_step});
  RowInfo& ri = rows_[row];
  ri.holders &= ~(uint64_t{1} << w);
  bool write_back = ri.holders == 0 && opt_.policy != CachePolicy::kNone;
  if (write_back) {
    ri.written_back = std::max(ri.written_back, after_step);
    ++stats_.writebacks;
    if (opt_.writeback_horizon > 0) forget_queue_.push_back({after_step + ForgetAfter() + 1, row});
  }
  PlanAt(after_step).workers[w].evictions.push_back({ri.key, slot, write_back});
}

absl::StatusOr<std::pair<int32_t, int64_t>> PlannerImpl::AllocateSlot(int w, int64_t j) {
  WorkerCache& c = caches_[w];
  if (c.free_head < c.free_slots.size()) {
    auto s = c.free_slots[c.free_head++];
    if (c.free_head > 1024 && c.free_head * 2 > c.free_slots.size()) {
      c.free_slots.erase(c.free_slots.begin(), c.free_slots.begin() + c.free_head);
      c.free_head = 0;
    }
    return s;
  }
  if (static_cast<int64_t>(c.slots.size()) < opt_.capacity) {
    c.slots.emplace_back();
    return std::make_pair(static_cast<int32_t>(c.slots.size() - 1), int64_t{-1});
  }
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
  auto [ready, from] = c.ready.Best(j, hi, [&](Entry e) { return c.Current(e); });
  if (!pipeline || ready == nullptr || c.slots[ready->slot].next_use <= j + d) {
    auto [young, in] = c.young.Best(j, hi, [&](Entry e) {
      return c.Current(e) && c.slots[e.slot].last_needed > c.cutoff;
    });
    if (young != nullptr && (ready == nullptr || c.Of(*ready) < c.Of(*young)))
      ready = young, from = in;
  }
  if (ready != nullptr) {
    const Candidate top = c.Of(*ready);
    from->pop();
    const RowInfo& ri = rows_[c.slots[top.slot].row];
    // Leave as early as the fill wants the slot, but never before the copy's last read or
    // transfer, nor before the row's last update (a write-back must carry the latest value).
    int64_t leave = std::max({top.last_needed, ri.version - 1, j - d - 1, released_});
    Evict(w, c.slots[top.slot].row, leave);
    c.free_head = c.free_slots.size();  // the slot is handed out right here
    return std::make_pair(top.slot, leave);
  }
  return absl::ResourceExhaustedError("worker " + std::to_string(w) +
                                      " cache cannot hold the rows of iteration " +
                                      std::to_string(j));
}

// After step `step`: rows read at `step` learn their next read (the window now reaches
// step+L); prefetch1 evicts the ones not read again at once.
void PlannerImpl::UpdateAfterStep(int64_t step) {
  WindowIteration& it = Window(step);
  for (int w = 0; w < W_; ++w) {
    WorkerCache& c = caches_[w];
    const auto& reads = it.reads[w];
    for (size_t p = 0; p < reads.size(); ++p) {
      if (p + kAhead < reads.size()) Prefetch(&At(reads[p + kAhead], w));
      if (p + kAhead / 2 < reads.size()) {
        const int32_t ahead = At(reads[p + kAhead / 2], w).slot;
        if (ahead >= 0) Prefetch(&c.slots[ahead]);
      }
      int32_t slot = At(reads[p], w).slot;
      if (slot < 0) continue;
      int64_t next = it.next[w][p];
      c.slots[slot].next_use = next;
      if (opt_.policy == CachePolicy::kPrefetch1 && next > step + 1)
        Evict(w, reads[p], step);
      else
        c.Touch(slot);
    }
    c.ClearIteration(step);
    // Stale entries pile up in buckets no query reaches; drop them before they dominate.
    if (c.queued() > 4 * static_cast<size_t>(c.held) + 4096) c.Compact();
  }
}

// The shards apply the step's gradients; the planner only tracks the versions they will have.
void PlannerImpl::ProcessNeedNone(int64_t j) {
  IterationPlan& plan = PlanAt(j);
  WindowIteration& it = Window(j);
  for (int w = 0; w < W_; ++w) {
    int32_t slot = 0;
    for (Idx r : it.reads[w]) {
      plan.workers[w].fills.push_back({rows_[r].key, slot, j, rows_[r].version});
      plan.workers[w].evictions.push_back({rows_[r].key, slot, false});
      ++slot;
    }
    stats_.accesses += slot;
    stats_.fills += slot;
  }
  for (int w = 0; w < W_; ++w)
    for (Idx r : it.reads[w]) {
      RowInfo& ri = rows_[r];
      if (ri.version == j + 1) continue;
      ri.version = j + 1;
      ri.written_back = j;
      if (opt_.writeback_horizon > 0) forget_queue_.push_back({j + ForgetAfter() + 1, r});
    }
  Forget(j);
}

absl::Status PlannerImpl::ProcessNeed(int64_t j) {
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
      if (p + kAhead < reads.size()) {
        Prefetch(&At(reads[p + kAhead], w));
        Prefetch(&rows_[reads[p + kAhead]]);
      }
      const Idx r = reads[p];
      ++stats_.accesses;
      if (const int32_t slot = At(r, w).slot; slot >= 0) {
        ++stats_.hits;
        ++caches_[w].slots[slot].uses;
        continue;
      }
      uint64_t holders = rows_[r].holders;
      int src = holders ? std::countr_zero(holders) : -1;
      misses_.push_back({w, r, src, src >= 0 ? At(r, src).slot : -1});
    }
  }
  for (const Miss& m : misses_) {
    if (m.src >= 0) {
      SlotInfo& s = caches_[m.src].slots[m.src_slot];
      s.last_needed = std::max(s.last_needed, j - 1);
      caches_[m.src].Touch(m.src_slot);
    }
    rows_[m.row].holders |= uint64_t{1} << m.worker;
  }
  // 2. Rows read at j-1 learn their next read; prefetch1 evicts.
  if (j > 0) UpdateAfterStep(j - 1);
  // 3. Slots: shard fills first (they gain from early slots), then transfers. Every step moves
  // the candidates that became ready, whether or not this step needs a victim.
  for (WorkerCache& c : caches_) c.Advance(j - opt_.prefetch_distance - 1);
  std::stable_partition(misses_.begin(), misses_.end(), [](const Miss& m) { return m.src < 0; });
  for (const Miss& m : misses_) {
    auto slot = AllocateSlot(m.worker, j);
    if (!slot.ok()) return slot.status();
    auto [s, freed] = *slot;
    RowInfo& ri = rows_[m.row];
    if (m.src < 0) {
      int64_t issue = std::max({j - opt_.prefetch_distance, freed + 1, ri.written_back + 1,
                                released_, int64_t{0}});
      if (issue > std::max<int64_t>(j - opt_.prefetch_distance, 0)) ++stats_.late_fills;
      PlanAt(issue).workers[m.worker].fills.push_back({ri.key, s, j, ri.version});
      ++stats_.fills;
    } else {
      PlanAt(j - 1).transfers.push_back({ri.key, m.src, m.src_slot, m.worker, s});
      ++stats_.transfers;
    }
    WorkerCache& c = caches_[m.worker];
    c.slots[s].row = m.row;
    c.slots[s].next_use = j;
    c.slots[s].last_needed = j;
    c.slots[s].uses = 1;
    ++c.held;
    At(m.row, m.worker).slot = s;
    c.Touch(s);
  }
  // 4. Step j touches its rows; rows held by more than one worker are all-reduced.
  IterationPlan& plan = PlanAt(j);
  for (int w = 0; w < W_; ++w) {
    WorkerCache& c = caches_[w];
    const auto& reads = now.reads[w];
    for (size_t p = 0; p < reads.size(); ++p) {
      if (p + kAhead < reads.size()) {
        Prefetch(&At(reads[p + kAhead], w));
        Prefetch(&rows_[reads[p + kAhead]]);
      }
      if (p + kAhead / 2 < reads.size()) Prefetch(&c.slots[At(reads[p + kAhead / 2], w).slot]);
      const Idx r = reads[p];
      RowInfo& ri = rows_[r];
      c.slots[At(r, w).slot].last_needed = j;
      if (ri.version == j + 1) continue;  // already seen through another worker
      ri.version = j + 1;
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
void PlannerImpl::Forget(int64_t now) {
  while (!forget_queue_.empty() && forget_queue_.front().first <= now) {
    if (forget_queue_.size() > kAhead) Prefetch(&rows_[forget_queue_[kAhead].second]);
    Idx r = forget_queue_.front().second;
    forget_queue_.pop_front();
    RowInfo& ri = rows_[r];
    if (ri.key == kFreeKey || ri.holders != 0 || ri.last_read > now ||
        ri.written_back + ForgetAfter() >= now)
      continue;
    index_.erase(ri.key);
    ri.key = kFreeKey;
    free_rows_.push_back(r);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Planner>> Planner::Create(const PlannerOptions& o) {
  if (o.num_workers < 1 || o.num_workers > 64)
    return absl::InvalidArgumentError("num_workers must be in 1..64");
  if (o.capacity < 1) return absl::InvalidArgumentError("capacity must be >= 1 row");
  if (o.capacity > (int64_t{1} << 31) - 1)
    return absl::InvalidArgumentError("capacity must fit 32-bit slot indices");
  if (o.lookahead < 1) return absl::InvalidArgumentError("lookahead must be >= 1");
  if (o.prefetch_distance < 0 || o.prefetch_distance > o.lookahead)
    return absl::InvalidArgumentError("prefetch_distance must be in 0..lookahead");
  if (o.writeback_horizon < 0) return absl::InvalidArgumentError("writeback_horizon must be >= 0");
  if (o.threads < 1 || o.threads > 64) return absl::InvalidArgumentError("threads must be in 1..64");
  if (o.threads > o.capacity)
    return absl::InvalidArgumentError("threads must not exceed the capacity (each plans a share)");
  if (o.threads > 1) return internal::MakePartitionedPlanner(o);
  return std::unique_ptr<Planner>(new PlannerImpl(o));
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
