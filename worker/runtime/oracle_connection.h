// A worker's link to the oracle: registration, the plan stream, progress reports and the
// rendezvous board for collectives. Every RPC has a deadline; a lost oracle surfaces as an
// error, never a hang.
//
// Thread-safety: Register/Report/Store* may be called from any thread. The plan stream runs on
// its own thread and feeds a bounded queue; NextPlan is called by the trainer thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/plan/plan.h"
#include "worker/model/collective.h"

namespace grpc {
class Channel;
class ChannelCredentials;
class ClientContext;
}  // namespace grpc

namespace augur::oracle::v1 {
class ProgressReport;
}

namespace augur::worker {

struct JobAssignment {
  std::string job_id;
  std::string job_yaml;
  int worker_index = 0;
  int64_t iterations = 0;
  int writeback_horizon = 4;
  int64_t start_iteration = 0;  // > 0: a resumed job, from its checkpoint at this iteration
};

struct ProgressUpdate {
  int64_t completed = 0;
  double loss_sum = 0;
  int64_t samples = 0;
  int64_t cache_hits = 0, cache_misses = 0;
  double stall_seconds = 0, busy_seconds = 0;
  bool done = false;
  std::string error;
  bool has_eval = false;
  double eval_auc = 0, eval_logloss = 0;
  int64_t eval_samples = 0, eval_iteration = 0;
  int64_t rows_fetched = 0, bytes_fetched = 0;
  int64_t checkpoint = 0;  // worker 0: the iteration it checkpointed before this report
  // Loss sum and samples of the worker's last (up to) kLossWindowIterations iterations.
  double window_loss_sum = 0;
  int64_t window_samples = 0;
};

// The iterations the reported training loss is averaged over (proto/oracle.proto's
// ProgressReport.window_loss_sum); the oracle accepts windows of up to 1024 iterations.
inline constexpr int kLossWindowIterations = 64;

class OracleConnection {
 public:
  // `credentials` null: plaintext (common/grpc_security.h makes the others).
  explicit OracleConnection(const std::string& endpoint,
                            std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr,
                            absl::Duration rpc_deadline = absl::Seconds(10));
  ~OracleConnection();

  // Registers with the running job, retrying while no job runs, until `wait` passes
  // (UNAVAILABLE then). Other errors (index taken, ...) are returned at once.
  absl::StatusOr<JobAssignment> Register(int worker_index, absl::Duration wait);

  // Starts streaming plans of `job` for `worker` from iteration `from` (the assignment's
  // start_iteration), keeping ahead of NextPlan.
  // Once started, later calls do nothing. The open stream is also how the oracle knows the
  // worker is alive: when it breaks before the worker reported done (the process died), the
  // oracle fails the job at once naming the worker, so a worker opens it right after
  // registering, before its rendezvous with the others.
  void StartPlanStream(const std::string& job_id, int worker, int64_t from = 0);
  // The plan of `iteration` (plans arrive in order); DEADLINE_EXCEEDED after `timeout`, or the
  // stream's error (UNAVAILABLE when the oracle went away, CANCELLED / ABORTED when the job
  // ended) as soon as the stream broke, even when plans already arrived are still queued.
  absl::StatusOr<plan::WorkerIterationPlan> NextPlan(int64_t iteration, absl::Duration timeout);
  // OK while the plan stream is open, not started, or closed after the last plan; the
  // stream's error once it broke (UNAVAILABLE: the oracle went away; CANCELLED / ABORTED /
  // FAILED_PRECONDITION: the job ended).
  absl::Status StreamStatus();

  // Sends a report; returns the cancel reason ("" to go on).
  absl::StatusOr<std::string> Report(const std::string& job_id, int worker,
                                     const ProgressUpdate& update);

  // Uploads the trained dense weights of the job.
  absl::Status PutModel(const std::string& job_id, const std::vector<float>& dense);

  // A RendezvousStore over the oracle's board (keys are used as given).
  std::unique_ptr<model::RendezvousStore> NewRendezvousStore();

 private:
  void StreamLoop(std::string job_id, int worker, int64_t from);
  std::string Token();  // the registration's worker_token ("" before Register)

  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration deadline_;
  std::thread stream_thread_;
  absl::Mutex mu_;
  std::deque<plan::WorkerIterationPlan> plans_ ABSL_GUARDED_BY(mu_);
  absl::Status stream_status_ ABSL_GUARDED_BY(mu_);
  bool stream_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* stream_ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::string token_ ABSL_GUARDED_BY(mu_);
};

}  // namespace augur::worker
