#include "oracle_cacher/job_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <deque>
#include <optional>
#include <random>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/data/dataset.h"
#include "common/data/dedup.h"
#include "common/limits.h"
#include "common/metrics.h"
#include "common/status.h"
#include "oracle_cacher/planner.h"
#include "worker/model/job_model.h"

namespace augur::oracle {

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kPending: return "PENDING";
    case JobState::kRunning: return "RUNNING";
    case JobState::kSucceeded: return "SUCCEEDED";
    case JobState::kFailed: return "FAILED";
    case JobState::kCancelled: return "CANCELLED";
  }
  return "?";
}

int JobEmbeddingDim(const job::JobSpec& spec) {
  if (spec.model.dim > 0) return spec.model.dim;
  // The preset's dim (the one place presets are defined); a spec that names no valid model
  // fails elsewhere first.
  auto c = worker::ModelConfigOf(spec);
  return c.ok() ? c->dim : 16;
}

std::vector<TableSpec> JobTables(const job::JobSpec& spec, const std::vector<uint64_t>& table_rows,
                                 int dim, const std::vector<std::string>& names) {
  std::vector<TableSpec> out;
  for (size_t f = 0; f < table_rows.size(); ++f) {
    TableSpec t;
    t.id = static_cast<uint32_t>(f);
    t.name = f < names.size() ? names[f] : "C" + std::to_string(f + 1);
    t.rows = std::max<uint64_t>(table_rows[f], 1);
    t.dim = static_cast<uint32_t>(dim);
    float bound = static_cast<float>(std::sqrt(1.0 / static_cast<double>(t.rows)));
    t.init_lo = -bound;
    t.init_hi = bound;
    t.seed = spec.seed;
    t.optimizer = spec.training.embedding_optimizer;
    out.push_back(t);
  }
  return out;
}

planner::PlannerOptions PlannerOptionsOf(const job::JobSpec& spec, int writeback_horizon,
                                         int planner_threads, int64_t ids_per_sample) {
  planner::PlannerOptions po;
  po.num_workers = spec.cluster.workers;
  po.capacity = spec.cache.capacity;
  po.lookahead = spec.cache.lookahead;
  po.prefetch_distance = spec.cache.prefetch_distance;
  po.policy = spec.cache.policy == "none"        ? planner::CachePolicy::kNone
              : spec.cache.policy == "prefetch1" ? planner::CachePolicy::kPrefetch1
                                                 : planner::CachePolicy::kOracle;
  po.writeback_horizon = writeback_horizon;
  const int64_t slice_rows =
      spec.training.batch_size * (ids_per_sample > 0 ? ids_per_sample : int64_t{26});
  if (po.capacity >= 2 * slice_rows) po.threads = std::max(1, planner_threads);
  return po;
}

namespace {
// 128 random bits, hex: unguessable by another client of the oracle.
std::string NewToken() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof(buf), "%08x", static_cast<unsigned>(rd()));
    out += buf;
  }
  return out;
}
}  // namespace

class JobRunner::Impl {
 public:
  Impl(job::JobSpec spec, std::string id, JobRunnerOptions o, ResumePoint resume)
      : spec_(std::move(spec)),
        id_(std::move(id)),
        opt_(o),
        W_(spec_.cluster.workers),
        first_(resume.iteration),
        automatic_(resume.automatic) {
    checkpoints_.assign(resume.checkpoints.begin(), resume.checkpoints.end());
  }

  absl::Status Init(ShardTables* tables);
  // Set in Init, before the runner is shared; read-only afterwards.
  const job::JobSpec& spec() const { return spec_; }
  void PlanLoop();
  absl::StatusOr<Registration> Register(int requested);
  absl::StatusOr<std::vector<plan::WorkerIterationPlan>> Plans(int w, const std::string& token,
                                                                  int64_t from,
                                                                  absl::Duration wait, bool* end);
  absl::Status CheckWorker(int w, const std::string& token) const {
    absl::MutexLock l(&mu_);
    return CheckWorkerLocked(w, token);
  }
  absl::Status CheckWorkerLocked(int w, const std::string& token) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (w < 0 || w >= W_)
      return absl::InvalidArgumentError("worker_index " + std::to_string(w) + " is outside 0.." +
                                        std::to_string(W_ - 1));
    if (!workers_[w].registered)
      return absl::FailedPreconditionError("worker " + std::to_string(w) + " is not registered");
    if (token != workers_[w].token)
      return absl::PermissionDeniedError("worker_token is not worker " + std::to_string(w) +
                                         "'s registration");
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Report(const WorkerReport& r);
  // `recoverable`: JobStatus::recoverable.
  void Fail(JobState state, const std::string& reason, bool recoverable = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A running job ends CANCELLED only once every worker flushed its cache and reported done, so
  // the next job never starts on shards that are still receiving write-backs.
  void Cancel(const std::string& reason) {
    absl::MutexLock l(&mu_);
    bool any = std::any_of(workers_.begin(), workers_.end(), [](auto& w) { return w.registered; });
    if (state_ == JobState::kRunning && any) {
      if (!cancel_requested_) cancel_reason_ = reason;
      cancel_requested_ = true;
      Changed();
    } else {
      Fail(JobState::kCancelled, reason);
    }
  }
  JobStatus Status() const;
  uint64_t Changes() const { return changes_.load(std::memory_order_acquire); }
  JobState WaitFinal(absl::Duration timeout) const;
  JobState WaitFinalOrChange(uint64_t seen, absl::Duration timeout) const;
  void StreamLost(int w) {
    absl::MutexLock l(&mu_);
    if (w < 0 || w >= W_ || !workers_[w].registered || workers_[w].done ||
        workers_[w].errored || IsFinal(state_) || cancel_requested_)
      return;
    std::string reason = "worker " + std::to_string(w) + " went away at iteration " +
                         std::to_string(workers_[w].completed) + " (its plan stream broke)";
    // A peer's error just before is most likely this loss seen from the other side (a broken
    // collective): the dead worker is the cause, the peer's error the consequence.
    if (pending_error_) reason += "; then " + pending_error_->reason;
    Fail(JobState::kFailed, reason, /*recoverable=*/true);
  }
  void CheckHealth() {
    absl::MutexLock l(&mu_);
    CheckTimeouts();
  }
  void Stop() {
    {
      absl::MutexLock l(&mu_);
      stopping_ = true;
    }
    if (planner_thread_.joinable()) planner_thread_.join();
  }

 private:
  int64_t MinCompleted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int64_t m = iterations_;
    for (auto& w : workers_) m = std::min(m, w.completed);
    return m;
  }
  void CheckTimeouts() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckReport(const WorkerReport& r) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks a change of what Status shows other than the progress counters (state, reason,
  // registrations, checkpoints, eval), so a cached snapshot of the status is not served.
  void Changed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    changes_.fetch_add(1, std::memory_order_release);
  }

  struct WorkerInfo {
    bool registered = false;
    std::string token;
    int64_t completed = 0;
    bool done = false;
    absl::Time last_report;
    double loss_sum = 0, stall = 0, busy = 0;
    int64_t samples = 0, hits = 0, misses = 0, rows_fetched = 0, bytes_fetched = 0;
    bool errored = false;        // it reported an error (its stream breaking is no news)
    double window_loss_sum = 0;  // the latest report's loss window
    int64_t window_samples = 0;
  };

  job::JobSpec spec_;
  std::string id_;
  JobRunnerOptions opt_;
  const int W_;
  std::unique_ptr<data::Dataset> dataset_;
  std::unique_ptr<planner::Planner> planner_;
  int64_t num_batches_ = 0;
  int64_t iterations_ = 0;
  // The first iteration planned and trained (ResumePoint::iteration). The planner numbers its
  // iterations from 0: its plans are shifted by first_ on the way out (Shift).
  const int64_t first_;
  const bool automatic_;  // ResumePoint::automatic
  bool recoverable_ ABSL_GUARDED_BY(mu_) = false;  // JobStatus::recoverable
  absl::Time start_ = absl::Now();
  absl::Time end_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();  // when the job became final
  std::thread planner_thread_;

  mutable absl::Mutex mu_;
  std::atomic<uint64_t> changes_{0};  // see Changed()
  JobState state_ ABSL_GUARDED_BY(mu_) = JobState::kPending;
  std::string reason_ ABSL_GUARDED_BY(mu_);
  bool cancel_requested_ ABSL_GUARDED_BY(mu_) = false;
  std::string cancel_reason_ ABSL_GUARDED_BY(mu_);
  // The first error a worker reported, while the job waits kPeerLossGrace to learn whether a
  // peer died (see Report).
  struct PendingError {
    std::string reason;
    absl::Time at;
  };
  std::optional<PendingError> pending_error_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<WorkerInfo> workers_ ABSL_GUARDED_BY(mu_);
  std::deque<plan::IterationPlan> plans_ ABSL_GUARDED_BY(mu_);  // [plans_base_, planned_)
  int64_t plans_base_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t planned_ ABSL_GUARDED_BY(mu_) = 0;
  planner::PlannerStats stats_ ABSL_GUARDED_BY(mu_);
  int64_t window_keys_ ABSL_GUARDED_BY(mu_) = 0;
  double last_loss_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<double> eval_auc_ ABSL_GUARDED_BY(mu_), eval_logloss_ ABSL_GUARDED_BY(mu_);
  std::deque<int64_t> checkpoints_ ABSL_GUARDED_BY(mu_);  // reported by worker 0, ascending
};

absl::Status JobRunner::Impl::Init(ShardTables* tables) {
  data::DatasetOpenOptions o;
  o.sparse_only = true;
  auto ds = data::Dataset::Open(spec_.data.train, o);
  if (!ds.ok()) return ds.status();
  dataset_ = std::move(*ds);
  data::BatchShape shape{spec_.training.batch_size, W_};
  num_batches_ = dataset_->num_batches(shape);
  if (num_batches_ < 1)
    return absl::InvalidArgumentError("dataset " + spec_.data.train + " has " +
                                      std::to_string(dataset_->num_rows()) +
                                      " samples, fewer than one global batch of " +
                                      std::to_string(shape.global()));
  iterations_ = spec_.training.iterations;
  if (iterations_ == 0) {
    double epochs = spec_.training.epochs > 0 ? spec_.training.epochs : 1.0;
    iterations_ = std::max<int64_t>(1, static_cast<int64_t>(epochs * num_batches_));
  }
  // The model's input widths are the dataset's: recorded in the spec every worker receives.
  const int nd = dataset_->num_dense(), ns = dataset_->num_sparse();
  if ((spec_.data.num_dense >= 0 && spec_.data.num_dense != nd) ||
      (spec_.data.num_sparse > 0 && spec_.data.num_sparse != ns))
    return absl::InvalidArgumentError(
        "data: the job expects " + std::to_string(spec_.data.num_dense) + " dense and " +
        std::to_string(spec_.data.num_sparse) + " sparse features, " + spec_.data.train +
        " has " + std::to_string(nd) + " and " + std::to_string(ns));
  spec_.data.num_dense = nd;
  spec_.data.num_sparse = ns;
  spec_.data.mean_pooled.clear();
  for (int f = 0; f < ns; ++f) {
    if (dataset_->manifest().sparse[f].pooling == data::Pooling::kMean)
      spec_.data.mean_pooled.push_back(f);
  }
  if (auto c = worker::ModelConfigOf(spec_); !c.ok()) return c.status();
  if (first_ < 0 || first_ >= iterations_)
    return absl::FailedPreconditionError(
        "cannot resume at iteration " + std::to_string(first_) + ": the job has " +
        std::to_string(iterations_) + " iterations");
  std::vector<uint64_t> rows;
  std::vector<std::string> names;
  for (int f = 0; f < ns; ++f) {
    rows.push_back(dataset_->table_rows(f));
    names.push_back(dataset_->manifest().sparse[f].name);
  }
  auto specs = JobTables(spec_, rows, JobEmbeddingDim(spec_), names);
  absl::Status st;
  if (first_ > 0) {
    // A shard that died with the job may still be coming back: retry while it is unreachable.
    const absl::Time give_up = absl::Now() + opt_.shard_wait;
    while (true) {
      st = tables->Restore(id_, spec_, specs, job::CheckpointDir(spec_, id_, first_));
      const bool unreachable = st.code() == absl::StatusCode::kUnavailable ||
                               st.code() == absl::StatusCode::kDeadlineExceeded;
      if (!unreachable || absl::Now() >= give_up) break;
      spdlog::info("job {}: waiting for its shards to restore it: {}", id_, st.ToString());
      absl::SleepFor(absl::Seconds(1));
    }
  } else {
    st = tables->Create(id_, spec_, specs);
  }
  if (!st.ok()) return st;
  planner::PlannerOptions po = PlannerOptionsOf(spec_, opt_.writeback_horizon, opt_.planner_threads,
                                                dataset_->manifest().max_ids_per_sample());
  auto p = planner::Planner::Create(po);
  if (!p.ok()) return p.status();
  planner_ = std::move(*p);
  {
    absl::MutexLock l(&mu_);
    workers_.resize(W_);
    for (auto& w : workers_) w.completed = first_;
    plans_base_ = planned_ = first_;
    state_ = JobState::kPending;
  }
  planner_thread_ = std::thread([this] { PlanLoop(); });
  return absl::OkStatus();
}

namespace {
// A worker's error worth a resume: anything but a diverged step (the trainer's words for it),
// which a resume would only repeat.
bool RecoverableError(const std::string& reason) {
  return reason.find("not finite") == std::string::npos;
}

// A plan the planner numbered from 0, for a job that started at iteration `first`: its
// iterations move by `first`, and so do the versions its fills must see — a version v > 0 was
// written by the planner's iteration v - 1, i.e. by iteration first + v - 1. Version 0 ("never
// written since planning began", when every version is tracked) becomes unknown (-1): the row
// holds whatever the checkpoint holds.
void Shift(plan::IterationPlan& p, int64_t first) {
  if (first == 0) return;
  p.iteration += first;
  for (auto& w : p.workers)
    for (auto& f : w.fills) {
      f.need_at += first;
      f.min_version = f.min_version > 0 ? f.min_version + first : -1;
    }
}
}  // namespace

// Plans the whole job, staying a bounded distance ahead of the slowest worker so memory stays
// bounded by the window, not by the job length.
void JobRunner::Impl::PlanLoop() {
  data::BatchShape shape{spec_.training.batch_size, W_};
  data::BatchDeduplicator dedup;
  const int64_t ahead = spec_.cache.plans_in_flight + spec_.cache.lookahead + 16;
  auto publish = [&] {
    absl::MutexLock l(&mu_);
    while (auto plan = planner_->Next()) {
      Shift(*plan, first_);
      plans_.push_back(std::move(*plan));
      ++planned_;
    }
    stats_ = planner_->stats();
    window_keys_ = planner_->window_keys();
    UpdateGauges();
  };
  for (int64_t i = first_; i < iterations_; ++i) {
    {
      absl::MutexLock l(&mu_);
      auto ready = [this, i, ahead]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || IsFinal(state_) || i - MinCompleted() < ahead;
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_ || IsFinal(state_)) return;
    }
    plan::IterationReads reads;
    auto st = data::FillIterationReads(*dataset_, i % num_batches_, shape, &dedup, &reads);
    if (st.ok()) st = planner_->Push(std::move(reads));
    if (!st.ok()) {
      absl::MutexLock l(&mu_);
      Fail(JobState::kFailed, "planning iteration " + std::to_string(i) + ": " + std::string(st.message()));
      return;
    }
    publish();
  }
  auto st = planner_->Close();
  if (!st.ok()) {
    absl::MutexLock l(&mu_);
    Fail(JobState::kFailed, "planning: " + std::string(st.message()));
    return;
  }
  publish();
}

absl::StatusOr<Registration> JobRunner::Impl::Register(int requested) {
  absl::MutexLock l(&mu_);
  if (IsFinal(state_)) return absl::FailedPreconditionError("job " + id_ + " is over: " + reason_);
  if (requested >= W_) return absl::OutOfRangeError("worker index " + std::to_string(requested) +
                                                    " but the job has " + std::to_string(W_) + " workers");
  int w = requested;
  if (w < 0) {
    for (w = 0; w < W_ && workers_[w].registered; ++w) {
    }
    if (w == W_) return absl::ResourceExhaustedError("all " + std::to_string(W_) + " workers are registered");
  } else if (workers_[w].registered) {
    return absl::AlreadyExistsError("worker " + std::to_string(w) + " is already registered");
  }
  workers_[w].registered = true;
  workers_[w].last_report = absl::Now();
  workers_[w].token = NewToken();
  Changed();
  bool all = std::all_of(workers_.begin(), workers_.end(), [](auto& x) { return x.registered; });
  if (all && state_ == JobState::kPending) {
    state_ = JobState::kRunning;
    start_ = absl::Now();
  }
  spdlog::info("job {}: worker {} registered", id_, w);
  return Registration{w, iterations_, job::ToYaml(spec_), workers_[w].token, first_};
}

absl::StatusOr<std::vector<plan::WorkerIterationPlan>> JobRunner::Impl::Plans(
    int w, const std::string& token, int64_t from, absl::Duration wait, bool* end) {
  *end = false;
  absl::MutexLock l(&mu_);
  AUGUR_RETURN_IF_ERROR(CheckWorkerLocked(w, token));
  // Past the last plan the stream stays open until the worker reports done: while it is open
  // the worker is alive, and when it breaks early the worker is gone (StreamLost).
  auto available = [this, w, from]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return IsFinal(state_) || stopping_ || (from >= iterations_ && workers_[w].done) ||
           (from < iterations_ && planned_ > from &&
            from < workers_[w].completed + spec_.cache.plans_in_flight);
  };
  mu_.AwaitWithTimeout(absl::Condition(&available), wait);
  if (state_ == JobState::kCancelled) return absl::CancelledError(reason_);
  if (IsFinal(state_) && state_ != JobState::kSucceeded) return absl::AbortedError(reason_);
  if (from >= iterations_) {
    *end = workers_[w].done || IsFinal(state_) || stopping_;
    return std::vector<plan::WorkerIterationPlan>{};
  }
  if (from < plans_base_) return absl::OutOfRangeError("plan " + std::to_string(from) + " was already dropped");
  std::vector<plan::WorkerIterationPlan> out;
  int64_t limit = std::min(planned_, workers_[w].completed + spec_.cache.plans_in_flight);
  for (int64_t i = from; i < limit; ++i)
    out.push_back(plan::SliceForWorker(plans_[static_cast<size_t>(i - plans_base_)], w));
  return out;
}

// A report is believed only as far as it is checked: it must come from a registered worker,
// carry no negative or non-finite counter, never move `completed` backwards or past the job's
// end, and say `done` only at the last iteration (or once the job is being cancelled). A rejected
// report changes nothing. A non-finite loss is believed: the job diverged and fails.
absl::Status JobRunner::Impl::CheckReport(const WorkerReport& r) const {
  AUGUR_RETURN_IF_ERROR(CheckWorkerLocked(r.worker, r.token));
  const WorkerInfo& w = workers_[r.worker];
  AUGUR_RETURN_IF_ERROR(CheckLength("error", r.error, kMaxReasonBytes));
  if (!r.error.empty()) return absl::OkStatus();  // a failure report carries no progress
  for (auto [name, v] : {std::pair{"samples", r.samples}, {"cache_hits", r.cache_hits},
                         {"cache_misses", r.cache_misses}, {"rows_fetched", r.rows_fetched},
                         {"bytes_fetched", r.bytes_fetched}, {"eval_samples", r.eval_samples},
                         {"window_samples", r.window_samples}})
    if (v < 0) return absl::InvalidArgumentError(std::string(name) + " must be >= 0");
  for (auto [name, v] : {std::pair{"stall_seconds", r.stall_seconds}, {"busy_seconds", r.busy_seconds}})
    if (!(v >= 0) || !std::isfinite(v))
      return absl::InvalidArgumentError(std::string(name) + " must be finite and >= 0");
  if (r.completed < w.completed || r.completed > iterations_)
    return absl::InvalidArgumentError("completed " + std::to_string(r.completed) +
                                      " is outside " + std::to_string(w.completed) + ".." +
                                      std::to_string(iterations_) + " (it only grows)");
  // A loss window covers at most the iterations done, and no more than the longest window.
  const int64_t window_most =
      std::min(r.completed, kMaxLossWindowIterations) * spec_.training.batch_size;
  if (r.window_samples > window_most)
    return absl::InvalidArgumentError("window_samples " + std::to_string(r.window_samples) +
                                      " exceed the " + std::to_string(window_most) +
                                      " samples of the iterations it may cover");
  if (std::isfinite(r.window_loss_sum) && r.window_loss_sum < 0)
    return absl::InvalidArgumentError("window_loss_sum must be >= 0 (a sum of BCE losses)");
  // Every trained sample of a new iteration is reported once.
  const int64_t most = (r.completed - w.completed) * spec_.training.batch_size;
  if (r.samples > most)
    return absl::InvalidArgumentError("samples " + std::to_string(r.samples) + " exceed the " +
                                      std::to_string(most) + " of the iterations it completes");
  if (r.done && r.completed != iterations_ && !cancel_requested_ && !IsFinal(state_))
    return absl::InvalidArgumentError("done at " + std::to_string(r.completed) + " of " +
                                      std::to_string(iterations_) + " iterations");
  if (r.checkpoint != 0) {
    const int64_t every = spec_.checkpoint.every;
    const int64_t last = checkpoints_.empty() ? 0 : checkpoints_.back();
    if (r.worker != 0 || every <= 0 || r.checkpoint != r.completed || r.checkpoint % every != 0 ||
        r.checkpoint <= last)
      return absl::InvalidArgumentError(
          "checkpoint " + std::to_string(r.checkpoint) +
          ": only worker 0 reports checkpoints, at `completed`, a multiple of checkpoint.every, "
          "after the last one (" + std::to_string(last) + ")");
  }
  if (r.eval_auc) {
    bool ok = *r.eval_auc >= 0 && *r.eval_auc <= 1 && r.eval_logloss &&
              std::isfinite(*r.eval_logloss) && *r.eval_logloss >= 0 && r.eval_iteration >= 0 &&
              r.eval_iteration <= iterations_;
    if (!ok)
      return absl::InvalidArgumentError(
          "eval: auc must be in [0, 1], logloss finite and >= 0, eval_iteration in 0..iterations");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> JobRunner::Impl::Report(const WorkerReport& r) {
  absl::MutexLock l(&mu_);
  AUGUR_RETURN_IF_ERROR(CheckReport(r));
  WorkerInfo& w = workers_[r.worker];
  w.last_report = absl::Now();
  if (!r.error.empty()) {
    w.errored = true;
    std::string reason = "worker " + std::to_string(r.worker) + ": " + r.error;
    // With peers, the error may be a dead peer seen through a collective: wait kPeerLossGrace
    // for a plan stream to break (StreamLost names the dead worker) before failing with it.
    if (W_ == 1) {
      Fail(JobState::kFailed, reason, RecoverableError(reason));
    } else if (!pending_error_) {
      pending_error_ = PendingError{reason, absl::Now()};
    }
    return reason;
  }
  if (!std::isfinite(r.loss_sum))
    Fail(JobState::kFailed, "worker " + std::to_string(r.worker) +
                                ": the training loss is not finite (diverged) by iteration " +
                                std::to_string(r.completed));
  w.completed = r.completed;
  if (std::isfinite(r.loss_sum)) w.loss_sum += r.loss_sum;
  w.samples += r.samples;
  w.hits += r.cache_hits;
  w.misses += r.cache_misses;
  w.stall += r.stall_seconds;
  w.busy += r.busy_seconds;
  w.rows_fetched += r.rows_fetched;
  w.bytes_fetched += r.bytes_fetched;
  if (r.checkpoint != 0) {
    checkpoints_.push_back(r.checkpoint);
    if (checkpoints_.size() > kMaxListedCheckpoints) checkpoints_.pop_front();
    Changed();
  }
  if (r.samples > 0 && std::isfinite(r.loss_sum))
    last_loss_ = r.loss_sum / static_cast<double>(r.samples);
  if (r.window_samples > 0 && std::isfinite(r.window_loss_sum)) {
    w.window_loss_sum = r.window_loss_sum;
    w.window_samples = r.window_samples;
  }
  if (r.eval_auc) {
    eval_auc_ = r.eval_auc;
    eval_logloss_ = r.eval_logloss;
    Changed();
    spdlog::info("job {}: eval at iteration {}: auc {:.4f} logloss {:.4f} over {} samples", id_,
                 r.eval_iteration, *r.eval_auc, r.eval_logloss.value_or(0), r.eval_samples);
  }
  w.done = w.done || r.done;
  // Plans every worker has finished are dropped.
  int64_t keep = MinCompleted();
  while (plans_base_ < keep && !plans_.empty()) {
    plans_.pop_front();
    ++plans_base_;
  }
  if (state_ == JobState::kRunning &&
      std::all_of(workers_.begin(), workers_.end(), [](auto& x) { return x.done; })) {
    if (cancel_requested_) {
      Fail(JobState::kCancelled, cancel_reason_);
    } else {
      state_ = JobState::kSucceeded;
      end_ = absl::Now();
      Changed();
      spdlog::info("job {}: SUCCEEDED after {} iterations", id_, iterations_);
    }
  }
  CheckTimeouts();
  UpdateGauges();
  if (cancel_requested_) return cancel_reason_;
  return state_ == JobState::kCancelled || state_ == JobState::kFailed ? reason_ : "";
}

// Silence is watched from registration on: a worker that registers and vanishes before its
// peers arrive fails the job too, instead of leaving it PENDING for good.
void JobRunner::Impl::CheckTimeouts() {
  if (IsFinal(state_)) return;
  absl::Time now = absl::Now();
  if (pending_error_ && now - pending_error_->at >= kPeerLossGrace)
    return Fail(JobState::kFailed, pending_error_->reason,
                RecoverableError(pending_error_->reason));
  for (int i = 0; i < W_; ++i)
    if (workers_[i].registered && !workers_[i].done &&
        now - workers_[i].last_report > opt_.worker_timeout)
      Fail(JobState::kFailed,
           "worker " + std::to_string(i) + " stopped reporting for " +
               absl::FormatDuration(now - workers_[i].last_report),
           /*recoverable=*/true);
  // An automatic recovery waits for the workers only so long: one that does not come back
  // fails the job, by name.
  if (automatic_ && state_ == JobState::kPending && now - start_ > opt_.worker_timeout) {
    std::string missing;
    for (int i = 0; i < W_; ++i)
      if (!workers_[i].registered) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
    Fail(JobState::kFailed, "recovering from iteration " + std::to_string(first_) + ": worker " +
                                missing + " did not come back within " +
                                absl::FormatDuration(opt_.worker_timeout));
  }
}

void JobRunner::Impl::Fail(JobState state, const std::string& reason, bool recoverable) {
  if (IsFinal(state_)) return;
  state_ = state;
  end_ = absl::Now();
  reason_ = reason;
  recoverable_ = recoverable && state == JobState::kFailed;
  Changed();
  spdlog::warn("job {}: {}: {}", id_, JobStateName(state), reason);
}

void JobRunner::Impl::UpdateGauges() {
  if (!opt_.metrics) return;
  opt_.metrics->GetGauge("augur_oracle_planned_hit_ratio", "Hit ratio of the plans made so far")
      ->Set(stats_.hit_ratio());
  opt_.metrics->GetGauge("augur_oracle_window_ids", "Rows the planner tracks in its window")
      ->Set(static_cast<double>(window_keys_));
  opt_.metrics
      ->GetGauge("augur_oracle_plan_lag_iterations",
                 "Iterations planned beyond the slowest worker's progress")
      ->Set(static_cast<double>(planned_ - MinCompleted()));
  opt_.metrics->GetGauge("augur_oracle_planned_iterations", "Iterations planned")
      ->Set(static_cast<double>(planned_));
  opt_.metrics
      ->GetGauge("augur_oracle_planned_late_fill_ratio",
                 "Fraction of planned shard fills issued less than prefetch_distance steps "
                 "before their use (the worker may wait on them)")
      ->Set(stats_.fills ? static_cast<double>(stats_.late_fills) / stats_.fills : 0.0);
}

JobStatus JobRunner::Impl::Status() const {
  absl::MutexLock l(&mu_);
  JobStatus s;
  s.job_id = id_;
  s.name = spec_.name;
  s.state = state_;
  s.reason = reason_;
  s.iteration = MinCompleted();
  s.iterations = iterations_;
  // The mean over every worker's last loss window (a fixed number of iterations, so the same
  // job shows the same loss at any speed); the last report's mean for workers that send none.
  double window_loss = 0;
  int64_t window_samples = 0;
  for (const auto& w : workers_) {
    window_loss += w.window_loss_sum;
    window_samples += w.window_samples;
  }
  s.loss = window_samples > 0 ? window_loss / static_cast<double>(window_samples) : last_loss_;
  int64_t samples = 0, hits = 0, misses = 0;
  double stall = 0, busy = 0;
  for (auto& w : workers_) {
    samples += w.samples, hits += w.hits, misses += w.misses, stall += w.stall, busy += w.busy;
    s.workers_registered += w.registered;
    s.rows_fetched += w.rows_fetched;
    s.bytes_fetched += w.bytes_fetched;
  }
  s.workers = W_;
  s.elapsed_s = absl::ToDoubleSeconds(std::min(absl::Now(), end_) - start_);
  s.samples_per_s = s.elapsed_s > 0 ? static_cast<double>(samples) / s.elapsed_s : 0;
  s.hit_ratio = hits + misses ? static_cast<double>(hits) / static_cast<double>(hits + misses) : 0;
  s.stall_fraction = busy > 0 ? stall / busy : 0;
  s.planned_hit_ratio = stats_.hit_ratio();
  s.eval_auc = eval_auc_;
  s.eval_logloss = eval_logloss_;
  s.checkpoints.assign(checkpoints_.begin(), checkpoints_.end());
  s.recoverable = recoverable_;
  return s;
}

JobState JobRunner::Impl::WaitFinal(absl::Duration timeout) const {
  return WaitFinalOrChange(UINT64_MAX, timeout);
}

JobState JobRunner::Impl::WaitFinalOrChange(uint64_t seen, absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  auto ready = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return IsFinal(state_) || (seen != UINT64_MAX && Changes() != seen);
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  return state_;
}

JobRunner::JobRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JobRunner::~JobRunner() { impl_->Stop(); }

absl::StatusOr<std::unique_ptr<JobRunner>> JobRunner::Start(job::JobSpec spec, std::string job_id,
                                                            ShardTables* tables,
                                                            JobRunnerOptions options,
                                                            ResumePoint resume) {
  auto impl = std::make_unique<Impl>(std::move(spec), std::move(job_id), options,
                                     std::move(resume));
  auto st = impl->Init(tables);
  if (!st.ok()) return st;
  return std::unique_ptr<JobRunner>(new JobRunner(std::move(impl)));
}

absl::StatusOr<Registration> JobRunner::Register(int requested) { return impl_->Register(requested); }
absl::StatusOr<std::vector<plan::WorkerIterationPlan>> JobRunner::Plans(
    int worker, const std::string& token, int64_t from, absl::Duration wait, bool* end) {
  return impl_->Plans(worker, token, from, wait, end);
}
absl::Status JobRunner::CheckWorker(int worker, const std::string& token) const {
  return impl_->CheckWorker(worker, token);
}
absl::StatusOr<std::string> JobRunner::Report(const WorkerReport& report) {
  return impl_->Report(report);
}
void JobRunner::Cancel(const std::string& reason) { impl_->Cancel(reason); }
void JobRunner::CheckHealth() { impl_->CheckHealth(); }
void JobRunner::StreamLost(int worker) { impl_->StreamLost(worker); }
JobStatus JobRunner::Status() const { return impl_->Status(); }
uint64_t JobRunner::Changes() const { return impl_->Changes(); }
const job::JobSpec& JobRunner::spec() const { return impl_->spec(); }
JobState JobRunner::WaitFinal(absl::Duration timeout) const { return impl_->WaitFinal(timeout); }
JobState JobRunner::WaitFinalOrChange(uint64_t seen, absl::Duration timeout) const {
  return impl_->WaitFinalOrChange(seen, timeout);
}

}  // namespace augur::oracle
