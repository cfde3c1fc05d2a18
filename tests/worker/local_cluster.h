// An in-process augur cluster over real loopback gRPC for tests: N shard servers (memory
// profile), an oracle (JobHost + OracleService) and W workers run as threads of this process,
// each talking to the others through real sockets exactly as the separate binaries do.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "common/job/job_spec.h"
#include "oracle_cacher/job_runner.h"
#include "server/row_block.h"
#include "worker/runtime/worker_runtime.h"

namespace augur::oracle {
class JobHost;
}
namespace augur::shard {
class ShardClient;
}

namespace augur::testing {

// Converts the real Criteo sample `file` (in ../shared/data/criteo-kaggle/) into a dataset at
// `out_dir`, with every categorical hashed mod `max_rows` so rows recur across batches.
// Returns `out_dir`; aborts the calling test (REQUIRE) when the conversion fails.
std::string PrepareCriteoSample(const std::string& shared, const std::string& file,
                                uint64_t max_rows, const std::string& out_dir);

class LocalCluster {
 public:
  // `writeback_horizon` 0 makes the planner track every version, so every fill checks the
  // exact version it reads (the no-stale-read check).
  // `worker_timeout`: how long the oracle waits for a silent worker before failing the job.
  // `planner_threads`: JobRunnerOptions::planner_threads.
  static absl::StatusOr<std::unique_ptr<LocalCluster>> Start(
      int shards, int writeback_horizon = 0, absl::Duration worker_timeout = absl::Seconds(60),
      int planner_threads = 1);
  ~LocalCluster();

  const std::vector<std::string>& shard_endpoints() const;
  std::string oracle_endpoint() const;

  // Submits `spec` (its cluster.shards are replaced by this cluster's), runs its workers as
  // threads until the job ends, and returns the final status. `output_dir`: worker 0 writes the
  // dense weights to <output_dir>/<job id>/dense.f32.
  absl::StatusOr<oracle::JobStatus> RunJob(job::JobSpec spec, const std::string& output_dir,
                                           std::vector<absl::Status>* worker_results = nullptr);

  // The pieces of RunJob, for tests that act on a job while it runs.
  absl::StatusOr<std::string> Submit(job::JobSpec spec);
  void StartWorkers(int workers, const std::string& output_dir);
  // The backend and collective factories of the workers started from now on (empty: the real
  // ones), for jobs that run a device path on CPU stand-ins.
  void SetWorkerFactories(worker::ComputeFactory compute, worker::CollectiveFactory collective);
  std::vector<absl::Status> JoinWorkers();
  oracle::JobHost* host();
  // The registry the shards and the oracle export (what /metrics would serve).
  const MetricsRegistry& metrics() const;
  // Waits until the running job completed `iterations` (true) or `timeout` passed.
  bool WaitForIteration(int64_t iterations, absl::Duration timeout);
  // Simulated failures: a shard or the oracle goes away for good.
  void StopShard(int index);
  void StopOracle();

  // Every row [0, rows) of tables [0, tables) with optimizer state, read from the shards, of
  // job `job` (empty: the running or most recent job).
  absl::StatusOr<std::vector<shard::RowBlock>> ReadAllRows(int tables, uint64_t rows,
                                                           const std::string& job = "");
  // A client of this cluster's shards addressing job `job`'s tables (empty: the running or
  // most recent job).
  absl::StatusOr<std::unique_ptr<shard::ShardClient>> ConnectShards(const std::string& job = "");

  struct Impl;

 private:
  explicit LocalCluster(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Trained models compared bit for bit (Catch2 checks): the dense weights' bytes, and every
// table's row values (with optimizer state) by memcmp and its versions.
void CheckSameModel(const std::vector<char>& dense_a, const std::vector<shard::RowBlock>& rows_a,
                    const std::vector<char>& dense_b, const std::vector<shard::RowBlock>& rows_b);
// The same within `tolerance` relative (MaxRelDiff per row and over the dense buffer) with equal
// versions: what three or more workers promise, whose all-reduce may sum in another order.
// `rows` = rows per table (every block holds that many).
void CheckCloseModel(const std::vector<char>& dense_a, const std::vector<shard::RowBlock>& rows_a,
                     const std::vector<char>& dense_b, const std::vector<shard::RowBlock>& rows_b,
                     uint64_t rows, double tolerance);
// Largest difference relative to the vector it sits in, over consecutive vectors of `width`
// floats (a row, or the whole dense buffer): element-wise ratios are meaningless for entries near
// zero, where a different summation order legitimately changes the last bits of a cancellation.
double MaxRelDiff(const std::vector<float>& a, const std::vector<float>& b, size_t width);
// Rows a training run wrote (version > 0).
int64_t TouchedRows(const std::vector<shard::RowBlock>& rows);

}  // namespace augur::testing
