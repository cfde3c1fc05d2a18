// JobHost: the oracle's job manager. Jobs queue and run one at a time; each running job is a
// JobRunner. Also holds the rendezvous board workers use to find each other for collectives.
//
// States: PENDING (queued) -> RUNNING (its JobRunner exists) -> SUCCEEDED | FAILED | CANCELLED.
//
// Retention: every job's tables are its own on the shards (ShardTables), created from the
// deterministic init of its seed when it starts. An ended job keeps them — and its spec, status,
// events and model here — until Delete, which drops them on every shard.
//
// Recovery: a job with checkpoints that FAILED because a process went away (JobStatus::
// recoverable) is queued again by itself, from its last checkpoint, up to
// checkpoint.max_recoveries times (augur resume does the same on request). Its status counts
// the recoveries and its events say what failed and which iterations run again.
//
// Durability: with a JobStateStore (augur-oracle --state-dir) every job's spec, state, progress
// (its JobStatus, with the checkpoint list: every few seconds while it runs), events and model,
// and the job-id counter, are recorded as they change, and Recover() rebuilds the host from
// them: ended jobs as they were, queued jobs queued again, and a job that was starting or
// running when the oracle died resumed from its last checkpoint (RecoverInterrupted), or FAILED
// with a reason saying the oracle restarted when it has none. A clean shutdown leaves a running
// job recorded as running, so it too is found interrupted. Without a store, jobs live in memory
// only.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "oracle_cacher/job_runner.h"
#include "oracle_cacher/job_state_store.h"

namespace augur::oracle {

// How old a running job's progress counters in Status may be (see Status).
inline constexpr absl::Duration kStatusMaxAge = absl::Milliseconds(100);
// An automatic recovery starts this long after the failure, so requests the old run still had
// on the wire land before the shards are rolled back.
inline constexpr absl::Duration kRecoverySettle = absl::Seconds(2);

class JobHost {
 public:
  // `tables` creates and drops jobs' tables on their shards.
  // `default_shards` serve jobs whose spec names none.
  // `work_dir`: where Criteo TSV inputs are converted to datasets (a temp dir when empty).
  JobHost(std::unique_ptr<ShardTables> tables, JobRunnerOptions options,
          std::vector<std::string> default_shards = {}, std::string work_dir = "");
  // A host that records its jobs in `state` and starts from what `state` holds (see above).
  // The store's DATA_LOSS / UNAVAILABLE when it cannot be read.
  static absl::StatusOr<std::unique_ptr<JobHost>> Recover(
      std::unique_ptr<ShardTables> tables, JobRunnerOptions options,
      std::vector<std::string> default_shards, std::string work_dir,
      std::unique_ptr<JobStateStore> state);
  ~JobHost();

  // Queues a job (already validated by job::ParseJobSpec); returns its id ("job-1", ...).
  // INVALID_ARGUMENT when neither the job nor the oracle names any shards; the state store's
  // error when it cannot be recorded (nothing is queued then).
  absl::StatusOr<std::string> Submit(job::JobSpec spec);
  // The running job, or nullptr. The shared_ptr keeps it alive while a caller uses it.
  std::shared_ptr<JobRunner> Running() const;
  // Status of `id`, or of the running / most recent job when id is empty. NOT_FOUND if none.
  // With `snapshot` (what status RPCs use), a running job's progress counters (iteration,
  // samples/s, loss, hit ratio) may be up to kStatusMaxAge old: polls, however many, read a
  // cached copy and leave the runner's lock to the workers and the planner. Its state, reason,
  // workers, checkpoints and eval are always current.
  absl::StatusOr<JobStatus> Status(const std::string& id, bool snapshot = false) const;
  std::vector<JobStatus> List(bool snapshot = false) const;
  // Cancels a queued or running job, and stops its data conversion if it is being prepared.
  // NOT_FOUND for an unknown id.
  absl::Status Cancel(const std::string& id, const std::string& reason);
  // Queues an ended job to run again from its checkpoint at `from` (0: its last one), under
  // the same id: the shards go back to that cut, the workers to its dense weights and
  // optimizer state, planning restarts there; the result equals an uninterrupted run.
  // Returns the iteration it resumes from. NOT_FOUND for an unknown id;
  // FAILED_PRECONDITION while it is queued or running, when it has no checkpoint (or, for a
  // job that SUCCEEDED, no `from`), or when `from` is its last iteration; INVALID_ARGUMENT
  // when `from` is not one of its checkpoints.
  absl::StatusOr<int64_t> Resume(const std::string& id, int64_t from);
  // Deletes an ended job: its tables on every shard (their disk space comes back), then all the
  // host keeps of it. NOT_FOUND for an unknown id; FAILED_PRECONDITION while it is queued,
  // starting or running (cancel it first) or already being deleted; the shards' error when
  // they could not drop its tables (the job is kept, so the delete can be retried).
  absl::Status Delete(const std::string& id);
  // Recent events of a job (state changes, errors), oldest first.
  std::vector<std::string> Events(const std::string& id) const;
  // Waits until no job is queued or running, or the timeout passes; true when idle.
  bool WaitIdle(absl::Duration timeout) const;

  // The trained dense weights of a job (uploaded by its worker 0) and the spec it ran with.
  // NOT_FOUND for an unknown job; FAILED_PRECONDITION when no model was uploaded yet (Get) or
  // the job is not running (Put: models arrive before the job ends, never after);
  // INVALID_ARGUMENT when the size is not the job's model's or a weight is not finite.
  absl::Status PutModel(const std::string& id, std::vector<float> dense);
  absl::StatusOr<std::pair<job::JobSpec, std::vector<float>>> GetModel(const std::string& id) const;

  // Rendezvous board. Keys "<job id>/..." belong to that job: they are erased when it ends, and
  // a Get waiting on one returns ABORTED then. Set: INVALID_ARGUMENT for an empty or oversized
  // key or value (common/limits.h), RESOURCE_EXHAUSTED past kMaxBoardKeys, FAILED_PRECONDITION
  // for a key of an ended job. Get waits up to `timeout` (DEADLINE_EXCEEDED), and returns
  // CANCELLED as soon as `caller_gone` says the caller stopped waiting or the host stops.
  absl::Status StoreSet(const std::string& key, const std::string& value);
  absl::StatusOr<std::string> StoreGet(const std::string& key, absl::Duration timeout,
                                       const std::function<bool()>& caller_gone = nullptr) const;

 private:
  // What the host keeps of a job. A job that ended keeps its spec, final status, events and
  // model (export reads them); its runner (dataset, planner, plans) and converted data go.
  struct Entry {
    int64_t seq = 0;  // id is "job-<seq>"
    std::string id;
    job::JobSpec spec;
    std::shared_ptr<JobRunner> runner;
    JobStatus final_status;  // for jobs that never started or whose runner was released
    bool finished = false;
    std::atomic<bool> cancel{false};  // stops PrepareData
    std::vector<std::string> work_dirs;  // converted datasets, removed when the job ends
    std::vector<std::string> events;
    std::vector<float> dense;  // uploaded model
    bool deleting = false;     // its tables are being dropped (Delete)
    bool started = false;      // its runner was created (its tables exist)
    bool oracle_shards = false;  // its spec named no shards: it uses default_shards_
    ResumePoint resume;          // where it starts when it runs next (Resume)
    int64_t recoveries = 0;      // times it was resumed
    int64_t auto_recoveries = 0;  // automatic ones since the last submit or augur resume
    std::string last_recovery;    // JobStatus::last_recovery
    bool was_running = false;     // recovered from a record that says it ran (JobRecord::running)
    absl::Time not_before = absl::InfinitePast();  // an automatic recovery waits until then
    // The running job's last status read from its runner (Status), served again while it is
    // younger than kStatusMaxAge and the runner's Changes() has not moved.
    mutable JobStatus snapshot;
    mutable uint64_t snapshot_changes = 0;
    mutable absl::Time snapshot_at = absl::InfinitePast();
  };
  JobHost(std::unique_ptr<ShardTables> tables, JobRunnerOptions options,
          std::vector<std::string> default_shards, std::string work_dir,
          std::unique_ptr<JobStateStore> state, StoredJobs stored);
  // Rebuilds the jobs `stored` holds (constructor, before the loop starts).
  void Restore(StoredJobs stored) ABSL_LOCKS_EXCLUDED(mu_);
  // A job that was starting or running when the previous oracle died. Today it FAILS naming
  // the restart; resuming it from its last checkpoint belongs here.
  void RecoverInterrupted(Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes what the host knows of `e` to the state store (no-op without one). Failures are
  // logged: the job goes on, and the next change records it again.
  absl::Status Record(const Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The spec `e` runs with: a raw Criteo TSV (or text data.schema describes) named by
  // data.train / data.eval converted into a dataset directory. e.spec keeps naming the source,
  // so a resumed job converts it again.
  absl::StatusOr<job::JobSpec> PrepareData(Entry& e);
  // Queues ended job `e` to resume from `from` (a checkpoint of it); `why` goes to its events
  // and `cause` labels augur_job_recoveries_total (user, failure, oracle_restart).
  void QueueResume(Entry& e, int64_t from, const std::string& why, const char* cause)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After `e` ended: when it FAILED recoverably, has a checkpoint and recoveries left
  // (checkpoint.max_recoveries), queues its automatic resume and returns true.
  bool MaybeRecover(Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();
  // Frees what a job that ended no longer needs: its runner, converted data and board keys.
  void Release(Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the converted data of ended jobs (outside mu_: it is disk work).
  void RemoveGarbage() ABSL_LOCKS_EXCLUDED(mu_);
  // The job a board key belongs to ("<id>/..."), or nullptr.
  const Entry* BoardOwner(const std::string& key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Event(Entry& e, const std::string& what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static JobStatus Queued(const Entry& e);

  std::unique_ptr<ShardTables> tables_;
  std::unique_ptr<JobStateStore> state_;  // null: in memory only
  std::vector<std::string> default_shards_;
  std::string work_dir_;
  JobRunnerOptions options_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> jobs_ ABSL_GUARDED_BY(mu_);
  Entry* running_ ABSL_GUARDED_BY(mu_) = nullptr;
  Entry* starting_ ABSL_GUARDED_BY(mu_) = nullptr;  // Loop is preparing it, outside mu_
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> stopping_{false};  // stop_ for code that runs without mu_ (conversion)
  std::map<std::string, std::string> board_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> garbage_ ABSL_GUARDED_BY(mu_);  // dirs for RemoveGarbage
  std::thread loop_;
};

}  // namespace augur::oracle
