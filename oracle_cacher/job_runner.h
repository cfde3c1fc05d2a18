// JobRunner: one training job inside the oracle, free of gRPC (the service is a thin adapter).
//
// It opens the dataset's sparse columns, creates the job's tables through the injected
// ShardTables, lets W workers register, runs the planner on its own thread a bounded distance
// ahead of the slowest worker, hands each worker its plans under credit-based flow control
// (at most plans_in_flight iterations beyond the worker's reported progress), aggregates
// progress, and decides the job's fate: SUCCEEDED when every worker reports done, FAILED when a
// worker reports an error or stops reporting, CANCELLED on Cancel().
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/job/job_spec.h"
#include "common/table_spec.h"
#include "oracle_cacher/planner.h"
#include "common/plan/plan.h"

namespace augur {
class MetricsRegistry;
}

namespace augur::oracle {

enum class JobState { kPending, kRunning, kSucceeded, kFailed, kCancelled };
const char* JobStateName(JobState s);
inline bool IsFinal(JobState s) { return s >= JobState::kSucceeded; }

// A job's tables on its shards, where every job has a namespace of its own (proto/shard.proto),
// injected so the job core stays free of gRPC. The real one dials the job's shards
// (oracle_cacher/shard_tables.h); tests may fake it.
class ShardTables {
 public:
  virtual ~ShardTables() = default;
  // Creates `tables` under `job_id` on every shard of `spec`, from their deterministic init:
  // whatever the shards held under this id before (an id an earlier oracle without a state dir
  // also gave out) is dropped first.
  virtual absl::Status Create(const std::string& job_id, const job::JobSpec& spec,
                              const std::vector<TableSpec>& tables) = 0;
  // Drops every table of `job_id` on every shard of `spec` and gives their disk space back.
  // Idempotent: OK when the shards hold nothing of it.
  virtual absl::Status Drop(const std::string& job_id, const job::JobSpec& spec) = 0;
  // Rolls `job_id`'s tables on every shard back to its checkpoint in `dir` (shard i reads
  // `dir`/shard-<i>), then checks they are `tables`: FAILED_PRECONDITION when the checkpoint
  // holds other tables; the shards' error (NOT_FOUND: no checkpoint there) otherwise.
  virtual absl::Status Restore(const std::string& job_id, const job::JobSpec& spec,
                               const std::vector<TableSpec>& tables, const std::string& dir) = 0;
};

// Where a job starts: from scratch (iteration 0), or resumed from its checkpoint at `iteration`
// (> 0): the shards are restored to that cut, planning starts there from an empty cache (a
// checkpoint flushed every cache), the workers load the dense half of the checkpoint.
// `checkpoints`: the job's checkpoints up to `iteration`, still listed in its status.
struct ResumePoint {
  int64_t iteration = 0;
  std::vector<int64_t> checkpoints;
  // An automatic recovery: every worker must register again within the worker timeout, or
  // the job fails naming the ones that did not come back. A user's resume waits for them.
  bool automatic = false;
};

// Workers wait for their write-backs of step e before finishing step e + this.
inline constexpr int kWritebackAckHorizon = 4;

struct JobRunnerOptions {
  // The planner's version horizon: >= kWritebackAckHorizon, or 0 to track every row's version
  // forever (tests: every fill then checks the exact version it reads).
  int writeback_horizon = kWritebackAckHorizon;
  // A worker that has not reported for this long fails the job.
  absl::Duration worker_timeout = absl::Seconds(120);
  MetricsRegistry* metrics = nullptr;  // optional
  // Threads each job's planner may use (PlannerOptions::threads; see PlannerOptionsOf).
  int planner_threads = 1;
  // A resumed job's shards may still be restarting: restoring them is retried while they are
  // unreachable, for at most this long.
  absl::Duration shard_wait = absl::Seconds(120);
};

struct Registration {
  int worker_index;
  int64_t iterations;
  std::string job_yaml;
  std::string token;  // proves this registration on Plans, Report and PutModel
  int64_t start_iteration = 0;  // where the job (re)starts: ResumePoint::iteration
};

struct WorkerReport {
  int worker = 0;
  std::string token;  // Registration::token
  int64_t completed = 0;
  double loss_sum = 0;
  int64_t samples = 0;
  int64_t cache_hits = 0, cache_misses = 0;
  double stall_seconds = 0, busy_seconds = 0;
  bool done = false;
  std::string error;
  std::optional<double> eval_auc, eval_logloss;
  int64_t eval_samples = 0, eval_iteration = 0;
  int64_t rows_fetched = 0, bytes_fetched = 0;
  int64_t checkpoint = 0;  // worker 0: the iteration it just checkpointed; 0 = none
  // The worker's loss over its last (up to) `window` iterations (ProgressReport).
  double window_loss_sum = 0;
  int64_t window_samples = 0;
};

// The most iterations a worker's loss window may span (worker/runtime kLossWindowIterations).
inline constexpr int64_t kMaxLossWindowIterations = 1024;

// A job lists at most this many checkpoints (the newest).
inline constexpr size_t kMaxListedCheckpoints = 256;
// How long a job with several workers holds a worker's error report before failing with it:
// when a peer died, the others' collectives fail at once, and the dead worker's broken plan
// stream (noticed within ~0.2 s) names the real cause instead.
inline constexpr absl::Duration kPeerLossGrace = absl::Seconds(1);

struct JobStatus {
  std::string job_id, name;
  JobState state = JobState::kPending;
  std::string reason;
  int64_t iteration = 0, iterations = 0;
  double loss = 0, samples_per_s = 0, hit_ratio = 0, stall_fraction = 0, planned_hit_ratio = 0;
  std::optional<double> eval_auc, eval_logloss;
  int workers_registered = 0, workers = 0;
  double elapsed_s = 0;
  int64_t rows_fetched = 0, bytes_fetched = 0;
  std::vector<int64_t> checkpoints;  // iterations checkpointed, ascending
  int64_t recoveries = 0;            // times resumed from a checkpoint (JobHost)
  std::string last_recovery;         // the last one: why, from where, what ran again
  // FAILED because a process went away or a worker hit an error (a shard it could not reach,
  // a broken collective) — not for a diverged loss, bad data or a process that did not come
  // back: resuming from a checkpoint may succeed (JobHost's automatic recovery).
  bool recoverable = false;
};

// The tables a job needs: one per sparse feature of the dataset (table id = feature index),
// rows from the manifest, DLRM's init range +-sqrt(1/rows), the job's embedding optimizer.
// Table f is named names[f] (the dataset's feature name), or C<f+1> when names is short.
std::vector<TableSpec> JobTables(const job::JobSpec& spec, const std::vector<uint64_t>& table_rows,
                                 int dim, const std::vector<std::string>& names = {});
// The planner settings of a job's cache section and worker count. `planner_threads` applies
// only when the cache holds at least twice the rows one slice can read (batch x
// `ids_per_sample`, Manifest::max_ids_per_sample; 0 = Criteo's 26): each thread plans in its
// 1/threads share of the cache, and a smaller cache could fail a slice that fits the whole of
// it; below that the job plans on one thread.
planner::PlannerOptions PlannerOptionsOf(const job::JobSpec& spec,
                                         int writeback_horizon = kWritebackAckHorizon,
                                         int planner_threads = 1, int64_t ids_per_sample = 0);
// The embedding dim of the job's model (preset or override).
int JobEmbeddingDim(const job::JobSpec& spec);

class JobRunner {
 public:
  // Opens the dataset (sparse columns only), derives the iteration count, creates the tables
  // (or, resuming, restores them from the checkpoint at resume.iteration) and starts planning.
  // INVALID_ARGUMENT / NOT_FOUND / DATA_LOSS for a bad dataset; FAILED_PRECONDITION when the
  // resume point is not before the job's last iteration; ShardTables' error when the shards
  // refuse the tables or the restore.
  static absl::StatusOr<std::unique_ptr<JobRunner>> Start(job::JobSpec spec, std::string job_id,
                                                          ShardTables* tables,
                                                          JobRunnerOptions options,
                                                          ResumePoint resume = {});
  ~JobRunner();  // stops the planner thread

  // Assigns `requested` (or the lowest free index when -1). ALREADY_EXISTS for a taken index,
  // OUT_OF_RANGE beyond the job's workers, FAILED_PRECONDITION when the job is over.
  absl::StatusOr<Registration> Register(int requested);

  // Plans [from, ...) for worker w that are planned and within its credit, waiting up to `wait`
  // for at least one. An empty result with *end = true: every plan was handed out and the
  // worker reported done, or the job is over (then the status says why: CANCELLED / ABORTED).
  // Until then a stream past the last plan stays open, as the worker's sign of life.
  absl::StatusOr<std::vector<plan::WorkerIterationPlan>> Plans(int worker,
                                                                  const std::string& token,
                                                                  int64_t from,
                                                                  absl::Duration wait, bool* end);
  // OK when `token` is worker `worker`'s registration; FAILED_PRECONDITION when the index is not
  // registered, PERMISSION_DENIED when the token is not its own. Plans and Report check it too.
  absl::Status CheckWorker(int worker, const std::string& token) const;

  // Records progress; returns the cancel reason when the worker must stop, else "".
  // INVALID_ARGUMENT (naming the field) for a report that contradicts what the job knows: a
  // negative or non-finite counter, `completed` going backwards or past the job's iterations,
  // more samples than the new iterations hold, `done` before the last iteration (unless the job
  // is being cancelled), an eval outside its range, an error over kMaxReasonBytes;
  // FAILED_PRECONDITION from an index that is not registered. Nothing changes then. A non-finite
  // loss fails the job (it diverged).
  absl::StatusOr<std::string> Report(const WorkerReport& report);

  void Cancel(const std::string& reason);
  // Fails the job when a worker stopped reporting (called periodically by the host).
  void CheckHealth();
  // Worker `worker`'s plan stream broke before it reported done: it is gone, and the job fails
  // naming it (unless it already ended or is being cancelled).
  void StreamLost(int worker);
  JobStatus Status() const;
  // A counter that moves whenever Status changes in anything but its progress counters (state,
  // reason, registrations, checkpoints, eval): a cached Status is current in all of those while
  // this has not moved.
  uint64_t Changes() const;
  // The job's spec as it runs: data.num_dense / num_sparse filled in from the dataset.
  const job::JobSpec& spec() const;
  // Waits until the job reaches a final state or `timeout` passes; returns the state then.
  JobState WaitFinal(absl::Duration timeout) const;
  // Same, returning early too when Changes() moves past `seen` (a checkpoint was listed, a
  // worker registered, ...): what the host records at once.
  JobState WaitFinalOrChange(uint64_t seen, absl::Duration timeout) const;

 private:
  class Impl;
  explicit JobRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace augur::oracle
