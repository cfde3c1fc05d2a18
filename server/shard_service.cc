// The gRPC adapter: every method runs its handler (shard_handlers.h: convert, call the job's
// ShardCore, convert back) on the worker pool and finishes with the mapped status.
#include "server/shard_service.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/grpc_status.h"
#include "common/metrics.h"
#include "server/shard_handlers.h"
#include "server/shard_jobs.h"

namespace augur::shard {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Schedule(std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(fn));
}

void WorkerPool::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void WorkerPool::Loop() {
  for (;;) {
    std::function<void()> fn;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping and drained
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
  }
}

ShardServiceImpl::ShardServiceImpl(ShardJobs* jobs, MetricsRegistry* metrics, WorkerPool* pool,
                                   double emulated_link_bytes_per_s)
    : jobs_(jobs), pool_(pool), link_bytes_per_s_(emulated_link_bytes_per_s) {
  static const char* kNames[kNumMethods] = {"CreateTable", "ListTables", "DropTable", "Lookup",
                                            "Write", "ApplyGradients", "Checkpoint",
                                            "ScanRows", "DropJob", "Restore"};
  if (!metrics) return;
  for (int m = 0; m < kNumMethods; ++m)
    latency_[m] = metrics->GetHistogram("augur_shard_request_seconds",
                                        "Shard RPC latency by method, server side",
                                        {{"method", kNames[m]}});
}

grpc::ServerUnaryReactor* ShardServiceImpl::Run(grpc::CallbackServerContext* ctx, Method m,
                                                std::function<absl::Status()> fn,
                                                const google::protobuf::Message* req,
                                                const google::protobuf::Message* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  Histogram* latency = latency_[m];
  pool_->Schedule([this, reactor, latency, fn = std::move(fn), req, resp] {
    auto start = std::chrono::steady_clock::now();
    absl::Status s = fn();
    if (latency)
      latency->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (link_bytes_per_s_ > 0) {
      // Test only: the call's bytes cross the shared link after whatever is on it already.
      // The pool thread waits it out (a few calls per client at once: flow control).
      double bytes = static_cast<double>(req->ByteSizeLong() + resp->ByteSizeLong());
      std::chrono::steady_clock::time_point done;
      {
        absl::MutexLock lock(&link_mu_);
        link_free_ = std::max(link_free_, std::chrono::steady_clock::now()) +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(bytes / link_bytes_per_s_));
        done = link_free_;
      }
      std::this_thread::sleep_until(done);
    }
    reactor->Finish(ToGrpcStatus(s));
  });
  return reactor;
}

grpc::ServerUnaryReactor* ShardServiceImpl::CreateTable(grpc::CallbackServerContext* ctx,
    const v1::CreateTableRequest* req, v1::CreateTableResponse* resp) {
  return Run(
      ctx, kCreateTable, [this, req, resp] { return handlers::CreateTable(*jobs_, *req, resp); },
      req, resp);
}

grpc::ServerUnaryReactor* ShardServiceImpl::ListTables(grpc::CallbackServerContext* ctx,
    const v1::ListTablesRequest* req, v1::ListTablesResponse* resp) {
  return Run(
      ctx, kListTables, [this, req, resp] { return handlers::ListTables(*jobs_, *req, resp); },
      req, resp);
}

grpc::ServerUnaryReactor* ShardServiceImpl::DropTable(grpc::CallbackServerContext* ctx,
    const v1::DropTableRequest* req, v1::DropTableResponse* resp) {
  return Run(
      ctx, kDropTable, [this, req] { return handlers::DropTable(*jobs_, *req); },
      req, resp);
}

grpc::ServerUnaryReactor* ShardServiceImpl::Lookup(grpc::CallbackServerContext* ctx,
    const v1::LookupRequest* req, v1::LookupResponse* resp) {
  return Run(
      ctx, kLookup, [this, req, resp] { return handlers::Lookup(*jobs_, *req, resp); },
      req, resp);
}

grpc::ServerUnaryReactor* ShardServiceImpl::Write(grpc::CallbackServerContext* ctx,
    const v1::WriteRequest* req, v1::WriteResponse* resp) {
  return Run(
      ctx, kWrite, [this, req] { return handlers::Write(*jobs_, *req); },
      req, resp);
}

grpc::ServerUnaryReactor* ShardServiceImpl::ApplyGradients(grpc::CallbackServerContext* ctx,
    const v1::ApplyGradientsRequest* req, v1::ApplyGradientsResponse* resp) {
  return Run(
      ctx, kApply, [this, req, resp] { return handlers::ApplyGradients(*jobs_, *req, resp); },
      req, resp);
}

grpc::ServerUnaryReactor* ShardServiceImpl::Checkpoint(grpc::CallbackServerContext* ctx,
    const v1::CheckpointRequest* req, v1::CheckpointResponse* resp) {
  return Run(
      ctx, kCheckpoint, [this, req] { return handlers::Checkpoint(*jobs_, *req); },
      req, resp);
}

grpc::ServerUnaryReactor* ShardServiceImpl::Restore(grpc::CallbackServerContext* ctx,
    const v1::RestoreRequest* req, v1::RestoreResponse* resp) {
  return Run(
      ctx, kRestore, [this, req] { return handlers::Restore(*jobs_, *req); }, req, resp);
}

grpc::ServerUnaryReactor* ShardServiceImpl::ScanRows(grpc::CallbackServerContext* ctx,
    const v1::ScanRowsRequest* req, v1::ScanRowsResponse* resp) {
  return Run(
      ctx, kScanRows, [this, req, resp] { return handlers::ScanRows(*jobs_, *req, resp); },
      req, resp);
}

grpc::ServerUnaryReactor* ShardServiceImpl::DropJob(grpc::CallbackServerContext* ctx,
    const v1::DropJobRequest* req, v1::DropJobResponse* resp) {
  return Run(
      ctx, kDropJob, [this, req, resp] { return handlers::DropJob(*jobs_, *req, resp); },
      req, resp);
}

}  // namespace augur::shard
