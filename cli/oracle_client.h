// OracleClient: the `augur` command's view of augur-oracle (proto/oracle.proto), free of
// protobuf so the commands and their tests work on plain structs (STYLE.md item 3).
//
// Every call carries a deadline (Options::rpc_deadline, 5 s by default), so a dead or unreachable
// oracle answers within that time. Errors: UNAVAILABLE "cannot reach the oracle at H:P: ..." when
// the oracle cannot be reached or does not answer in time; otherwise the oracle's own status
// (NOT_FOUND for an unknown job, INVALID_ARGUMENT for a rejected spec, ...).
// Thread-safety: a client may be used from several threads at once (gRPC stubs are).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace grpc {
class ChannelCredentials;
}

namespace augur::cli {

// One job as JobStatus / ListJobs report it.
struct JobInfo {
  std::string job_id, name;
  std::string state;  // PENDING | RUNNING | SUCCEEDED | FAILED | CANCELLED
  std::string reason;
  int64_t iteration = 0, iterations = 0;
  double loss = 0, samples_per_s = 0, hit_ratio = 0, stall_fraction = 0, planned_hit_ratio = 0;
  std::optional<double> eval_auc, eval_logloss;
  int workers_registered = 0, workers = 0;
  double elapsed_s = 0;
  int64_t rows_fetched = 0, bytes_fetched = 0;
  std::vector<int64_t> checkpoints;  // iterations checkpointed, ascending
  int64_t recoveries = 0;            // times resumed from a checkpoint
  std::string last_recovery;         // the last one: why, from where, what ran again
};

inline bool IsFinalState(const std::string& s) {
  return s == "SUCCEEDED" || s == "FAILED" || s == "CANCELLED";
}

// A trained model as GetModel returns it.
struct TrainedModel {
  std::string job_id;
  std::string job_yaml;       // canonical spec the job ran with
  std::vector<float> dense;   // flat dense weights (worker/model/dlrm_config.h layout)
};

class OracleClient {
 public:
  struct Options {
    absl::Duration rpc_deadline = absl::Seconds(5);
    std::shared_ptr<grpc::ChannelCredentials> credentials;  // null: plaintext
  };
  // Connecting is lazy: nothing is sent until the first call.
  explicit OracleClient(std::string endpoint, Options options);
  explicit OracleClient(std::string endpoint) : OracleClient(std::move(endpoint), Options{}) {}
  ~OracleClient();

  const std::string& endpoint() const { return endpoint_; }

  absl::StatusOr<std::string> Submit(const std::string& job_yaml);
  absl::Status Cancel(const std::string& job_id, const std::string& reason);
  // Deletes an ended job and its tables on every shard (their disk space comes back).
  // FAILED_PRECONDITION while it is queued or running. Waits up to kDeleteDeadline (or
  // rpc_deadline when longer): every shard removes the job's files first, and the oracle gives
  // the shards 60 s, so the answer comes before this deadline.
  absl::Status Delete(const std::string& job_id);
  static constexpr absl::Duration kDeleteDeadline = absl::Seconds(90);
  // Queues an ended job to resume from its checkpoint at `from` (0: its last); returns the
  // iteration it resumes from (proto/oracle.proto ResumeJob).
  absl::StatusOr<int64_t> Resume(const std::string& job_id, int64_t from);
  // `job_id` empty: the running job, or the most recent one.
  absl::StatusOr<JobInfo> Status(const std::string& job_id);
  absl::StatusOr<std::vector<JobInfo>> List();
  absl::StatusOr<std::vector<std::string>> Events(const std::string& job_id);
  absl::StatusOr<TrainedModel> GetModel(const std::string& job_id);

  struct Stub;

 private:
  absl::Status Wrap(absl::Status st) const;
  std::string endpoint_;
  Options options_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace augur::cli
