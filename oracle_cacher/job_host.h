// JobHost: the oracle's job manager. Jobs queue and run one at a time; each running job is a
// JobRunner. Also holds the rendezvous board workers use to find each other for collectives.
//
// States: PENDING (queued) -> RUNNING (its JobRunner exists) -> SUCCEEDED | FAILED | CANCELLED.
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "oracle_cacher/job_runner.h"

namespace augur::oracle {

class JobHost {
 public:
  // `default_shards` serve jobs whose spec names none.
  // `work_dir`: where Criteo TSV inputs are converted to datasets (a temp dir when empty).
  JobHost(TableCreator create_tables, JobRunnerOptions options,
          std::vector<std::string> default_shards = {}, std::string work_dir = "");
  ~JobHost();

  // Queues a job (already validated by job::ParseJobSpec); returns its id ("job-1", ...).
  // INVALID_ARGUMENT when neither the job nor the oracle names any shards.
  absl::StatusOr<std::string> Submit(job::JobSpec spec);
  // The running job, or nullptr. The shared_ptr keeps it alive while a caller uses it.
  std::shared_ptr<JobRunner> Running() const;
  // Status of `id`, or of the running / most recent job when id is empty. NOT_FOUND if none.
  absl::StatusOr<JobStatus> Status(const std::string& id) const;
  std::vector<JobStatus> List() const;
  // Cancels a queued or running job. NOT_FOUND for an unknown id.
  absl::Status Cancel(const std::string& id, const std::string& reason);
  // Recent events of a job (state changes, errors), oldest first.
  std::vector<std::string> Events(const std::string& id) const;
  // Waits until no job is queued or running, or the timeout passes; true when idle.
  bool WaitIdle(absl::Duration timeout) const;

  // The trained dense weights of a job (uploaded by its worker 0) and the spec it ran with.
  // NOT_FOUND for an unknown job; FAILED_PRECONDITION when no model was uploaded yet.
  absl::Status PutModel(const std::string& id, std::vector<float> dense);
  absl::StatusOr<std::pair<job::JobSpec, std::vector<float>>> GetModel(const std::string& id) const;

  // Rendezvous board: Set publishes, Get waits up to `timeout` (DEADLINE_EXCEEDED).
  void StoreSet(const std::string& key, const std::string& value);
  absl::StatusOr<std::string> StoreGet(const std::string& key, absl::Duration timeout) const;

 private:
  struct Entry {
    std::string id;
    job::JobSpec spec;
    std::shared_ptr<JobRunner> runner;
    JobStatus final_status;  // for jobs that never started or whose runner was released
    bool finished = false;
    std::vector<std::string> events;
    std::vector<float> dense;  // uploaded model
  };
  // Converts a raw Criteo TSV named by data.train / data.eval into a dataset directory.
  absl::Status PrepareData(Entry& e);
  void Loop();
  void Event(Entry& e, const std::string& what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static JobStatus Queued(const Entry& e);

  TableCreator create_tables_;
  std::vector<std::string> default_shards_;
  std::string work_dir_;
  JobRunnerOptions options_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> jobs_ ABSL_GUARDED_BY(mu_);
  Entry* running_ ABSL_GUARDED_BY(mu_) = nullptr;
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::string> board_ ABSL_GUARDED_BY(mu_);
  std::thread loop_;
};

}  // namespace augur::oracle
