// JobStateStore: where the oracle keeps what it knows of its jobs, so a restarted oracle knows
// every job (ARCHITECTURE.md: "the oracle's job state is durable"). Plain structs in and out;
// the only implementation is an embedded RocksDB in a state directory
// (OpenRocksJobStateStore, oracle_cacher/rocksdb_job_state_store.h), and nothing outside that
// file sees a RocksDB header. Without a state dir the oracle keeps jobs in memory only.
//
// Durability: every Put/Delete goes through RocksDB's write-ahead log and is handed to the OS
// before it returns, so it survives the oracle being killed (kill -9); not a power loss.
// Thread-safety: every method may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "oracle_cacher/job_runner.h"

namespace augur::oracle {

// One job as the host records it.
struct JobRecord {
  int64_t seq = 0;        // the number in its id ("job-<seq>"): the order jobs were submitted
  std::string id;
  std::string spec_yaml;  // canonical spec as submitted (job::ToYaml), shards filled in
  JobStatus status;       // last known status: final, or progress while it ran
  bool finished = false;  // status.state is final
  bool started = false;   // its tables were created: it ran, or was starting
  // The spec named no shards: it runs on the oracle's --shards, and a restarted oracle points
  // it at its own (a local cluster started again on kernel-chosen ports has new addresses).
  bool oracle_shards = false;
  std::vector<std::string> events;  // status.checkpoints lists the job's checkpoints
  // Queued to resume from its checkpoint at this iteration (JobHost::Resume); 0 = from scratch.
  int64_t resume_from = 0;
  int64_t recoveries = 0;  // times it was resumed, by a user or automatically
  // Its runner existed when this was recorded (it was starting, waiting for workers or
  // training): the shards may hold rows of this run, so a restart resumes it as a recovery.
  bool running = false;
};

struct StoredJobs {
  int64_t next_seq = 1;            // the job-id counter
  std::vector<JobRecord> jobs;     // by seq
  std::vector<std::pair<int64_t, std::vector<float>>> models;  // (seq, dense weights)
};

class JobStateStore {
 public:
  virtual ~JobStateStore() = default;
  // Everything stored. DATA_LOSS when a record does not decode.
  virtual absl::StatusOr<StoredJobs> Load() = 0;
  // Writes (replaces) `record` and the counter in one atomic commit.
  virtual absl::Status Put(const JobRecord& record, int64_t next_seq) = 0;
  virtual absl::Status PutModel(int64_t seq, const std::vector<float>& dense) = 0;
  // Removes the job and its model.
  virtual absl::Status Delete(int64_t seq) = 0;
};

}  // namespace augur::oracle
