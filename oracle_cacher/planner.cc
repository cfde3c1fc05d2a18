// The lookahead planner. See planner.h for the contract and docs/plan.md for a worked example.
//
// Needs are processed in iteration order. Processing need j requires the reads of iterations up
// to j-1+L (so that every row read at j-1 knows whether it is read again inside the window) and
// may still edit plans j-d-1 .. j: fills are issued at j-d, and a victim evicted to make room for
// such a fill leaves at j-d-1 at the earliest. Plans older than that are final and handed out.
#include <algorithm>
#include <bit>
#include <deque>

#include "oracle_cacher/planner.h"
#include "oracle_cacher/planner_state.h"

namespace augur::planner {
namespace internal {

void RowState::PopUsesThrough(int64_t iteration) {
  while (head < uses.size() && uses[head].iteration <= iteration) ++head;
  if (head > 16 && head * 2 > uses.size()) {
    uses.erase(uses.begin(), uses.begin() + static_cast<ptrdiff_t>(head));
    head = 0;
  }
}

int64_t RowState::NextUse(int w, int64_t after) const {
  for (size_t i = head; i < uses.size(); ++i)
    if (uses[i].iteration > after && (uses[i].workers >> w & 1)) return uses[i].iteration;
  return kNever;
}

void WorkerCache::Touch(RowKey key, Holding& h) {
  ++h.generation;
  candidates.push({h.next_use, h.last_needed, key, h.generation});
  // Stale entries pile up as holdings change; rebuild before they dominate the heap.
  if (candidates.size() > 4 * held.size() + 4096) {
    std::priority_queue<Candidate> fresh;
    for (auto& [k, hh] : held) fresh.push({hh.next_use, hh.last_needed, k, hh.generation});
    candidates.swap(fresh);
  }
}

}  // namespace internal

namespace {
using namespace internal;

class PlannerImpl final : public Planner {
 public:
  explicit PlannerImpl(const PlannerOptions& o) : opt_(o), caches_(o.num_workers) {
    if (opt_.policy != CachePolicy::kOracle) opt_.lookahead = 1;
    if (opt_.policy == CachePolicy::kPrefetch1) opt_.prefetch_distance = 1;
    if (opt_.policy == CachePolicy::kNone) opt_.prefetch_distance = 0;
  }

  absl::Status Push(IterationReads reads) override;
  absl::Status Close() override;
  std::optional<IterationPlan> Next() override;
  const PlannerStats& stats() const override { return stats_; }
  int64_t window_keys() const override { return static_cast<int64_t>(rows_.size()); }

 private:
  struct Miss {
    int worker;
    RowKey key;
    int src;           // -1: fill from the shard
    int32_t src_slot;  // the source's slot during step j-1
  };

  absl::Status ProcessNeed(int64_t j);
  absl::Status ProcessNeedNone(int64_t j);
  void UpdateAfterStep(int64_t step);
  absl::StatusOr<std::pair<int32_t, int64_t>> AllocateSlot(int w, int64_t j);
  void Evict(int w, RowKey key, int64_t after_step);
  IterationPlan& PlanAt(int64_t iteration);
  const std::vector<RowKey>& ReadsAt(int64_t iteration, int w) const {
    return reads_[static_cast<size_t>(iteration - reads_base_)].by_worker[w];
  }
  void Forget(int64_t now);
  // A fill with no version may be issued prefetch_distance steps before its need; the write-back
  // it must see has to be older than writeback_horizon steps at issue time.
  int64_t ForgetAfter() const { return opt_.writeback_horizon + opt_.prefetch_distance + 1; }
  void Release(int64_t final_through);

  PlannerOptions opt_;
  std::vector<WorkerCache> caches_;
  absl::flat_hash_map<RowKey, RowState> rows_;
  std::deque<IterationReads> reads_;  // iterations [reads_base_, pushed_)
  int64_t reads_base_ = 0;
  int64_t pushed_ = 0;
  int64_t processed_ = 0;  // needs [0, processed_) are planned
  std::deque<IterationPlan> plans_;  // iterations [plans_base_, ...)
  int64_t plans_base_ = 0;
  int64_t released_ = 0;  // plans [plans_base_, released_) may be handed out
  std::deque<std::pair<int64_t, RowKey>> forget_queue_;
  bool closed_ = false;
  PlannerStats stats_;
};

IterationPlan& PlannerImpl::PlanAt(int64_t iteration) {
  while (plans_base_ + static_cast<int64_t>(plans_.size()) <= iteration) {
    IterationPlan p;
    p.iteration = plans_base_ + static_cast<int64_t>(plans_.size());
    p.workers.resize(opt_.num_workers);
    plans_.push_back(std::move(p));
  }
  return plans_[static_cast<size_t>(iteration - plans_base_)];
}

absl::Status PlannerImpl::Push(IterationReads reads) {
  if (closed_) return absl::FailedPreconditionError("planner is closed");
  if (static_cast<int>(reads.by_worker.size()) != opt_.num_workers)
    return absl::InvalidArgumentError("reads for " + std::to_string(reads.by_worker.size()) +
                                      " workers, planner has " +
                                      std::to_string(opt_.num_workers));
  const int64_t t = pushed_;
  for (int w = 0; w < opt_.num_workers; ++w) {
    auto& keys = reads.by_worker[w];
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    if (static_cast<int64_t>(keys.size()) > opt_.capacity)
      return absl::ResourceExhaustedError(
          "worker " + std::to_string(w) + " reads " + std::to_string(keys.size()) +
          " distinct rows at iteration " + std::to_string(t) + " but its cache holds only " +
          std::to_string(opt_.capacity) + " (raise capacity or lower the batch size)");
    for (RowKey k : keys) {
      RowState& rs = rows_[k];
      if (rs.uses.empty() && rs.head == 0 && rs.holders == 0 && rs.version < 0 &&
          opt_.writeback_horizon == 0)
        rs.version = 0;  // every version is tracked: a row first seen was never written
      if (!rs.uses.empty() && rs.uses.back().iteration == t)
        rs.uses.back().workers |= uint64_t{1} << w;
      else
        rs.uses.push_back({t, uint64_t{1} << w});
      // A dormant cached copy learns its next read as soon as the window reaches it.
      auto it = caches_[w].held.find(k);
      if (it != caches_[w].held.end() && it->second.next_use == kNever) {
        it->second.next_use = t;
        caches_[w].Touch(k, it->second);
      }
    }
  }
  reads_.push_back(std::move(reads));
  ++pushed_;
  stats_.peak_window_keys = std::max<int64_t>(stats_.peak_window_keys, rows_.size());
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
    for (int w = opt_.num_workers - 1; w >= 0; --w) {
      std::vector<RowKey> keys;
      for (auto& [k, h] : caches_[w].held) keys.push_back(k);
      std::sort(keys.begin(), keys.end());
      for (RowKey k : keys) Evict(w, k, last);
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
  while (reads_base_ < processed_ - 1 && !reads_.empty()) {
    reads_.pop_front();
    ++reads_base_;
  }
}

void PlannerImpl::Evict(int w, RowKey key, int64_t after_step) {
  WorkerCache& c = caches_[w];
  auto it = c.held.find(key);
  Holding h = it->second;
  c.held.erase(it);
  c.free_slots.push_back({h.slot, after_step});
  RowState& rs = rows_[key];
  rs.holders &= ~(uint64_t{1} << w);
  bool write_back = rs.holders == 0 && opt_.policy != CachePolicy::kNone;
  if (write_back) {
    rs.written_back = std::max(rs.written_back, after_step);
    ++stats_.writebacks;
    if (opt_.writeback_horizon > 0)
      forget_queue_.push_back({after_step + ForgetAfter() + 1, key});
  }
  PlanAt(after_step).workers[w].evictions.push_back({key, h.slot, write_back});
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
  if (c.never_used < opt_.capacity) return std::make_pair(c.never_used++, int64_t{-1});
  while (!c.candidates.empty()) {
    Candidate top = c.candidates.top();
    auto it = c.held.find(top.key);
    if (it == c.held.end() || it->second.generation != top.generation) {
      c.candidates.pop();
      continue;
    }
    if (top.next_use <= j) break;  // every cached row is read at j
    c.candidates.pop();
    const RowState& rs = rows_[top.key];
    // Leave as early as the fill wants the slot, but never before the copy's last read or
    // transfer, nor before the row's last update (a write-back must carry the latest value).
    int64_t leave = std::max({top.last_needed, rs.version - 1, j - opt_.prefetch_distance - 1,
                              released_});
    int32_t slot = it->second.slot;
    Evict(w, top.key, leave);
    c.free_head = c.free_slots.size();  // the slot is handed out right here
    return std::make_pair(slot, leave);
  }
  return absl::ResourceExhaustedError("worker " + std::to_string(w) +
                                      " cache cannot hold the rows of iteration " +
                                      std::to_string(j));
}

// After step `step`: rows read at `step` learn their next read (the window now reaches
// step+L); prefetch1 evicts the ones not read again at once.
void PlannerImpl::UpdateAfterStep(int64_t step) {
  for (int w = 0; w < opt_.num_workers; ++w) {
    WorkerCache& c = caches_[w];
    for (RowKey k : ReadsAt(step, w)) {
      RowState& rs = rows_[k];
      rs.PopUsesThrough(step);
      auto it = c.held.find(k);
      if (it == c.held.end()) continue;
      it->second.next_use = rs.NextUse(w, step);
      if (opt_.policy == CachePolicy::kPrefetch1 && it->second.next_use > step + 1)
        Evict(w, k, step);
      else
        c.Touch(k, it->second);
    }
  }
}

absl::Status PlannerImpl::ProcessNeedNone(int64_t j) {
  IterationPlan& plan = PlanAt(j);
  for (int w = 0; w < opt_.num_workers; ++w) {
    int32_t slot = 0;
    for (RowKey k : ReadsAt(j, w)) {
      RowState& rs = rows_[k];
      plan.workers[w].fills.push_back({k, slot, j, rs.version});
      plan.workers[w].evictions.push_back({k, slot, false});
      ++slot;
    }
    stats_.accesses += slot;
    stats_.fills += slot;
  }
  // The shards apply the step's gradients; the planner only tracks the versions they will have.
  for (int w = 0; w < opt_.num_workers; ++w)
    for (RowKey k : ReadsAt(j, w)) {
      RowState& rs = rows_[k];
      rs.PopUsesThrough(j);
      rs.version = j + 1;
      rs.written_back = j;
      if (opt_.writeback_horizon > 0 && !rs.has_uses())
        forget_queue_.push_back({j + ForgetAfter() + 1, k});
    }
  Forget(j);
  return absl::OkStatus();
}

absl::Status PlannerImpl::ProcessNeed(int64_t j) {
  ++stats_.iterations;
  if (opt_.policy == CachePolicy::kNone) {
    auto st = ProcessNeedNone(j);
    Release(j + 1);
    return st;
  }
  const int W = opt_.num_workers;
  // 1. Classify reads against the caches as they stand during step j-1.
  std::vector<Miss> misses;
  for (int w = 0; w < W; ++w) {
    for (RowKey k : ReadsAt(j, w)) {
      ++stats_.accesses;
      if (caches_[w].held.contains(k)) {
        ++stats_.hits;
        continue;
      }
      uint64_t holders = rows_[k].holders;
      int src = holders ? std::countr_zero(holders) : -1;
      misses.push_back({w, k, src, src >= 0 ? caches_[src].held.at(k).slot : -1});
    }
  }
  for (const Miss& m : misses) {
    if (m.src >= 0) {
      Holding& h = caches_[m.src].held[m.key];
      h.last_needed = std::max(h.last_needed, j - 1);
      caches_[m.src].Touch(m.key, h);
    }
    rows_[m.key].holders |= uint64_t{1} << m.worker;
  }
  // 2. Rows read at j-1 learn their next read; prefetch1 evicts.
  if (j > 0) UpdateAfterStep(j - 1);
  // 3. Slots: shard fills first (they gain from early slots), then transfers.
  std::stable_sort(misses.begin(), misses.end(),
                   [](const Miss& a, const Miss& b) { return (a.src >= 0) < (b.src >= 0); });
  for (const Miss& m : misses) {
    auto slot = AllocateSlot(m.worker, j);
    if (!slot.ok()) return slot.status();
    auto [s, freed] = *slot;
    RowState& rs = rows_[m.key];
    if (m.src < 0) {
      int64_t issue = std::max({j - opt_.prefetch_distance, freed + 1, rs.written_back + 1,
                                released_, int64_t{0}});
      if (issue > std::max<int64_t>(j - opt_.prefetch_distance, 0)) ++stats_.late_fills;
      PlanAt(issue).workers[m.worker].fills.push_back({m.key, s, j, rs.version});
      ++stats_.fills;
    } else {
      PlanAt(j - 1).transfers.push_back({m.key, m.src, m.src_slot, m.worker, s});
      ++stats_.transfers;
    }
    Holding h{s, j, j, 0};
    caches_[m.worker].held[m.key] = h;
    caches_[m.worker].Touch(m.key, caches_[m.worker].held[m.key]);
  }
  // 4. Step j touches its rows; rows held by more than one worker are all-reduced.
  IterationPlan& plan = PlanAt(j);
  for (int w = 0; w < W; ++w) {
    for (RowKey k : ReadsAt(j, w)) {
      RowState& rs = rows_[k];
      rs.version = j + 1;
      Holding& h = caches_[w].held[k];
      h.last_needed = j;
      if (std::popcount(rs.holders) > 1) plan.shared.push_back(k);
    }
  }
  std::sort(plan.shared.begin(), plan.shared.end());
  plan.shared.erase(std::unique(plan.shared.begin(), plan.shared.end()), plan.shared.end());
  stats_.shared_rows += static_cast<int64_t>(plan.shared.size());
  Forget(j);
  Release(j - opt_.prefetch_distance);
  return absl::OkStatus();
}

// Rows no cache holds, no window read needs, and whose write-back is old enough are dropped.
void PlannerImpl::Forget(int64_t now) {
  while (!forget_queue_.empty() && forget_queue_.front().first <= now) {
    RowKey k = forget_queue_.front().second;
    forget_queue_.pop_front();
    auto it = rows_.find(k);
    if (it != rows_.end() && it->second.holders == 0 && !it->second.has_uses() &&
        it->second.written_back + ForgetAfter() < now)
      rows_.erase(it);
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
