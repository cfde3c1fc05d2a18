// Internal to server/: the callback-API gRPC service over ShardCore and the worker pool it runs
// the core on. Public users start it through ShardServer (shard_server.h).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "proto/shard.grpc.pb.h"

namespace augur {
class Histogram;
class MetricsRegistry;
}  // namespace augur

namespace augur::shard {

class ShardJobs;

// A fixed pool of threads running queued closures; Stop() drains the queue and joins.
class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  void Schedule(std::function<void()> fn) ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Loop();
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

class ShardServiceImpl final : public v1::ShardService::CallbackService {
 public:
  // Borrows all three; they must outlive the service. Every request runs on the namespace of
  // the job it names (shard_jobs.h).
  // `emulated_link_bytes_per_s` > 0: see ShardServerOptions (test only).
  ShardServiceImpl(ShardJobs* jobs, MetricsRegistry* metrics, WorkerPool* pool,
                   double emulated_link_bytes_per_s = 0);

  grpc::ServerUnaryReactor* CreateTable(grpc::CallbackServerContext* ctx,
                                        const v1::CreateTableRequest* req,
                                        v1::CreateTableResponse* resp) override;
  grpc::ServerUnaryReactor* ListTables(grpc::CallbackServerContext* ctx,
                                       const v1::ListTablesRequest* req,
                                       v1::ListTablesResponse* resp) override;
  grpc::ServerUnaryReactor* DropTable(grpc::CallbackServerContext* ctx,
                                      const v1::DropTableRequest* req,
                                      v1::DropTableResponse* resp) override;
  grpc::ServerUnaryReactor* Lookup(grpc::CallbackServerContext* ctx,
                                   const v1::LookupRequest* req,
                                   v1::LookupResponse* resp) override;
  grpc::ServerUnaryReactor* Write(grpc::CallbackServerContext* ctx, const v1::WriteRequest* req,
                                  v1::WriteResponse* resp) override;
  grpc::ServerUnaryReactor* ApplyGradients(grpc::CallbackServerContext* ctx,
                                           const v1::ApplyGradientsRequest* req,
                                           v1::ApplyGradientsResponse* resp) override;
  grpc::ServerUnaryReactor* Checkpoint(grpc::CallbackServerContext* ctx,
                                       const v1::CheckpointRequest* req,
                                       v1::CheckpointResponse* resp) override;
  grpc::ServerUnaryReactor* Restore(grpc::CallbackServerContext* ctx,
                                    const v1::RestoreRequest* req,
                                    v1::RestoreResponse* resp) override;
  grpc::ServerUnaryReactor* ScanRows(grpc::CallbackServerContext* ctx,
                                     const v1::ScanRowsRequest* req,
                                     v1::ScanRowsResponse* resp) override;
  grpc::ServerUnaryReactor* DropJob(grpc::CallbackServerContext* ctx,
                                    const v1::DropJobRequest* req,
                                    v1::DropJobResponse* resp) override;

 private:
  enum Method { kCreateTable, kListTables, kDropTable, kLookup, kWrite, kApply, kCheckpoint,
                kScanRows, kDropJob, kRestore, kNumMethods };
  // Runs `fn` (returning absl::Status) on the pool, times it, and finishes the call (after the
  // emulated link carried `req` and `resp`, when there is one).
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx, Method m,
                                std::function<absl::Status()> fn,
                                const google::protobuf::Message* req,
                                const google::protobuf::Message* resp);

  ShardJobs* const jobs_;
  WorkerPool* const pool_;
  // The emulated link: when it is free again. Calls reserve their bytes in turn.
  const double link_bytes_per_s_;
  absl::Mutex link_mu_;
  std::chrono::steady_clock::time_point link_free_ ABSL_GUARDED_BY(link_mu_);
  Histogram* latency_[kNumMethods] = {};
};

}  // namespace augur::shard
