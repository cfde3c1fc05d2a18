// Trainer: one worker's side of a job — the iteration loop of oracle_cacher/planner.h's timeline:
// issue the plan's fills, wait for the rows this step needs, forward/backward on the worker's
// slice, one all-reduce for dense gradients and the plan's shared rows, the shared optimizer math
// on every row this worker holds, transfers to peers, evictions and write-backs; the `none`
// policy pushes row gradients to the shards instead. After the last step every row is back on
// its shard; worker 0 then evaluates on the held-out set.
//
// Thread-safety: one thread runs a Trainer.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/data/dataset.h"
#include "common/job/job_spec.h"
#include "server/client/shard_client.h"
#include "worker/model/collective.h"
#include "worker/model/dense_compute.h"
#include "worker/model/job_model.h"
#include "worker/runtime/oracle_connection.h"

namespace augur {
class MetricsRegistry;
}

namespace augur::worker {

struct TrainerDeps {
  JobAssignment assignment;
  job::JobSpec spec;
  OracleConnection* oracle = nullptr;  // its plan stream already started (StartPlanStream)
  shard::ShardClient* shards = nullptr;
  model::DenseCompute* compute = nullptr;
  model::Collective* collective = nullptr;
  const data::Dataset* train = nullptr;
  const data::Dataset* eval = nullptr;  // optional
  MetricsRegistry* metrics = nullptr;   // optional
  std::string output_dir;               // optional: worker 0 writes the dense weights here
  int cuda_device = 0;                  // training.backend cuda: the device ordinal
};

struct EvalResult {
  double auc = 0, logloss = 0;
  int64_t samples = 0;
};

// Where a step's dense gradients are all-reduced.
//   kHost:   read out of the backend into the host buffer [dense | shared rows | stop |
//            diverged], all-reduced with it in one call, written back (the CPU backend, whose
//            buffer is host memory anyway; or device gradients behind a host collective).
//   kDevice: left in device memory: all-reduced in place by a device collective (NCCL), or not
//            at all with one worker; only [shared rows | stop | diverged] goes through the host
//            (staged by the collective). Divergence of the dense part is checked on the device.
enum class DenseReducePath { kHost, kDevice };
// kDevice when the gradients live on the device and either no peer needs them (one worker) or
// the collective reduces device memory; kHost otherwise. Every worker of a job has the same
// backend and collective kind, so all take the same path and their collective calls match.
DenseReducePath ChooseDenseReducePath(model::BufferKind collective, bool gradients_on_device,
                                      int workers);

// Runs the whole job. Reports progress, errors and completion to the oracle; returns the first
// error (the job then fails with it) or CANCELLED when the oracle cancelled the job.
absl::Status RunTrainer(const TrainerDeps& deps);

// AUC (ties averaged) and mean log-loss of probabilities against 0/1 labels.
EvalResult ScorePredictions(const std::vector<float>& probs, const std::vector<float>& labels);

// Evaluates the model (dense weights in `compute`, embeddings read from the shards) on up to
// `max_samples` samples of `eval` (0 = all), in batches of `batch`. Uses `compute`'s slot array
// as scratch: pass a model that holds no cache (the trainer keeps a separate small one).
absl::StatusOr<EvalResult> Evaluate(const data::Dataset& eval, int64_t batch, int64_t max_samples,
                                    shard::ShardClient* shards, model::DenseCompute* compute);

// The compute options a worker of `spec` uses, with a slot array of `capacity` rows, on CUDA
// device `cuda_device` when the job trains on CUDA.
model::DenseComputeOptions ComputeOptionsOf(const job::JobSpec& spec,
                                            const model::DlrmConfig& config, int64_t capacity,
                                            int cuda_device = 0);
// Worker 0's evaluation batch: the training batch, capped so the evaluation model stays small.
inline constexpr int64_t kMaxEvalBatch = 1024;
int64_t EvalBatchOf(const job::JobSpec& spec);
// The options of worker 0's evaluation model: a slot array of eval_batch x ids_per_sample rows
// (the eval set's Manifest::max_ids_per_sample; 0 = one id per sparse feature) and
// buffers pre-sized for eval_batch, not for the training batch (on CUDA every activation
// buffer is allocated for max_batch_size up front).
model::DenseComputeOptions EvalComputeOptionsOf(const job::JobSpec& spec,
                                                const model::DlrmConfig& config,
                                                int64_t eval_batch, int cuda_device = 0,
                                                int64_t ids_per_sample = 0);

}  // namespace augur::worker
