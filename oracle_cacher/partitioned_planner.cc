#include "oracle_cacher/partitioned_planner.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace augur::planner::internal {
namespace {

// Runs task(0..n-1) with task(0) on the caller's thread and the others on n-1 threads kept
// across calls; Run returns when every task is done.
class ForkJoin {
 public:
  explicit ForkJoin(int n) {
    for (int i = 1; i < n; ++i) threads_.emplace_back([this, i] { Loop(i); });
  }
  ~ForkJoin() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Run(const std::function<void(int)>& task) {
    {
      std::lock_guard<std::mutex> l(mu_);
      task_ = &task;
      pending_ = static_cast<int>(threads_.size());
      ++generation_;
    }
    start_.notify_all();
    task(0);
    std::unique_lock<std::mutex> l(mu_);
    done_.wait(l, [this] { return pending_ == 0; });
    task_ = nullptr;
  }

 private:
  void Loop(int i) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* task;
      {
        std::unique_lock<std::mutex> l(mu_);
        start_.wait(l, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        task = task_;
      }
      (*task)(i);
      std::lock_guard<std::mutex> l(mu_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex mu_;
  std::condition_variable start_, done_;
  const std::function<void(int)>* task_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

class PartitionedPlanner final : public Planner {
 public:
  PartitionedPlanner(const PlannerOptions& o, std::vector<std::unique_ptr<Planner>> parts,
                     std::vector<int32_t> slot_base)
      : W_(o.num_workers),
        parts_(std::move(parts)),
        slot_base_(std::move(slot_base)),
        ready_(parts_.size()),
        status_(parts_.size()),
        split_(parts_.size()),
        pool_(static_cast<int>(parts_.size())) {}

  absl::Status Push(IterationReads reads) override {
    if (static_cast<int>(reads.by_worker.size()) != W_)
      return absl::InvalidArgumentError("reads for " + std::to_string(reads.by_worker.size()) +
                                        " workers, planner has " + std::to_string(W_));
    const int P = static_cast<int>(parts_.size());
    for (auto& s : split_) {
      s.by_worker.resize(W_);
      for (auto& keys : s.by_worker) keys.clear();
    }
    for (int w = 0; w < W_; ++w)
      for (RowKey k : reads.by_worker[w]) split_[PartitionOf(k, P)].by_worker[w].push_back(k);
    return RunOnParts([this](int p) { return parts_[p]->Push(std::move(split_[p])); });
  }

  absl::Status Close() override {
    return RunOnParts([this](int p) { return parts_[p]->Close(); });
  }

  std::optional<IterationPlan> Next() override {
    for (const auto& r : ready_)
      if (r.empty()) return std::nullopt;
    IterationPlan out;
    out.iteration = ready_[0].front().iteration;
    out.workers.resize(W_);
    for (size_t p = 0; p < parts_.size(); ++p) {
      IterationPlan& part = ready_[p].front();
      const int32_t base = slot_base_[p];
      for (int w = 0; w < W_; ++w) {
        for (Fill f : part.workers[w].fills) {
          f.slot += base;
          out.workers[w].fills.push_back(f);
        }
        for (Eviction e : part.workers[w].evictions) {
          e.slot += base;
          out.workers[w].evictions.push_back(e);
        }
      }
      for (Transfer t : part.transfers) {
        t.src_slot += base;
        t.dst_slot += base;
        out.transfers.push_back(t);
      }
      const size_t mid = out.shared.size();
      out.shared.insert(out.shared.end(), part.shared.begin(), part.shared.end());
      std::inplace_merge(out.shared.begin(), out.shared.begin() + mid, out.shared.end());
      ready_[p].pop_front();
    }
    return out;
  }

  const PlannerStats& stats() const override {
    PlannerStats s;
    s.iterations = parts_[0]->stats().iterations;
    for (const auto& part : parts_) {
      const PlannerStats& x = part->stats();
      s.accesses += x.accesses;
      s.hits += x.hits;
      s.fills += x.fills;
      s.transfers += x.transfers;
      s.late_fills += x.late_fills;
      s.writebacks += x.writebacks;
      s.shared_rows += x.shared_rows;
    }
    s.peak_window_keys = peak_window_keys_;
    stats_ = s;
    return stats_;
  }

  int64_t window_keys() const override {
    int64_t n = 0;
    for (const auto& part : parts_) n += part->window_keys();
    return n;
  }

 private:
  // Runs `step` on every partition in parallel, then moves the plans each made ready into its
  // queue; the first failing partition's error (in partition order) is the result.
  absl::Status RunOnParts(const std::function<absl::Status(int)>& step) {
    pool_.Run([&](int p) {
      status_[p] = step(p);
      while (status_[p].ok()) {
        auto plan = parts_[p]->Next();
        if (!plan) break;
        ready_[p].push_back(std::move(*plan));
      }
    });
    peak_window_keys_ = std::max(peak_window_keys_, window_keys());
    for (size_t p = 0; p < parts_.size(); ++p)
      if (!status_[p].ok()) {
        if (status_[p].code() != absl::StatusCode::kResourceExhausted) return status_[p];
        return absl::ResourceExhaustedError(
            std::string(status_[p].message()) + " (planner partition " + std::to_string(p) +
            " of " + std::to_string(parts_.size()) +
            ": each planner thread plans its share of the rows in its share of the cache)");
      }
    return absl::OkStatus();
  }

  const int W_;
  std::vector<std::unique_ptr<Planner>> parts_;
  std::vector<int32_t> slot_base_;
  std::vector<std::deque<IterationPlan>> ready_;
  std::vector<absl::Status> status_;
  std::vector<IterationReads> split_;
  int64_t peak_window_keys_ = 0;
  mutable PlannerStats stats_;
  ForkJoin pool_;  // last: its threads stop before the state they use goes away
};

}  // namespace

std::unique_ptr<Planner> MakePartitionedPlanner(const PlannerOptions& options) {
  const int P = options.threads;
  std::vector<std::unique_ptr<Planner>> parts;
  std::vector<int32_t> base;
  int64_t next = 0;
  for (int p = 0; p < P; ++p) {
    PlannerOptions o = options;
    o.threads = 1;
    o.capacity = options.capacity / P + (p < options.capacity % P ? 1 : 0);
    base.push_back(static_cast<int32_t>(next));
    next += o.capacity;
    parts.push_back(std::move(*Planner::Create(o)));
  }
  return std::make_unique<PartitionedPlanner>(options, std::move(parts), std::move(base));
}

}  // namespace augur::planner::internal
