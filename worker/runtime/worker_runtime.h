// The worker process around the Trainer: wait for a job, build the backend, the collective, the
// shard client and the datasets it names, train, and go back for the next job.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "worker/model/collective_factory.h"
#include "worker/model/dense_compute.h"

namespace grpc {
class ChannelCredentials;
}

namespace augur {
class MetricsRegistry;
}

namespace augur::worker {

// How a job's dense backend and collective are made (the device and transport seams, STYLE.md
// item 7): tests stand CPU twins in for CUDA and NCCL through them.
using ComputeFactory = std::function<absl::StatusOr<std::unique_ptr<model::DenseCompute>>(
    const model::DenseComputeOptions&)>;
using CollectiveFactory = std::function<absl::StatusOr<std::unique_ptr<model::Collective>>(
    const model::WorkerCollectiveOptions&)>;

struct WorkerOptions {
  std::string oracle;               // host:port
  int worker_index = -1;            // -1: the oracle assigns one
  std::string collective_host = "127.0.0.1";
  std::string output_dir;           // worker 0 writes <output_dir>/<job id>/dense.f32
  double register_timeout_s = 600;  // how long to wait for a job to join
  bool exit_after_job = false;
  // > 0: when the job ended (its plan stream broke: it failed, or the oracle went away) and
  // the trainer still has not returned this many seconds later — blocked in a collective with
  // a peer that died, which Gloo may only notice at its 60 s timeout — the process exits
  // (status 75) so its supervisor starts it clean and the job's recovery need not wait.
  // 0: wait it out. up.sh --supervise and the k8s workers set it.
  double exit_when_stuck_s = 0;
  int cuda_device = 0;              // jobs with training.backend cuda run on this device
  // Credentials for the oracle and the shards (common/grpc_security.h); null: plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  MetricsRegistry* metrics = nullptr;
  // Empty: model::CreateDenseCompute and model::NewWorkerCollective.
  ComputeFactory make_compute;
  CollectiveFactory make_collective;
};

// Runs jobs until registration times out (OK) or, with exit_after_job, after one job (its
// status). Errors name what failed: the oracle, a shard, the dataset, the collective.
absl::Status RunWorker(const WorkerOptions& options);

// One job: register, train, report. Exposed for tests that run workers as threads.
absl::Status RunOneJob(const WorkerOptions& options);

}  // namespace augur::worker
