// The gRPC adapter: every method converts the request, calls ShardCore on the worker pool,
// converts the result and finishes with the mapped status. No logic lives here.
#include "server/shard_service.h"

#include <chrono>

#include "common/grpc_status.h"
#include "common/limits.h"
#include "common/metrics.h"
#include "common/status.h"
#include "server/shard_convert.h"
#include "server/shard_core.h"
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

ShardServiceImpl::ShardServiceImpl(ShardJobs* jobs, MetricsRegistry* metrics, WorkerPool* pool)
    : jobs_(jobs), pool_(pool) {
  static const char* kNames[kNumMethods] = {"CreateTable", "ListTables", "DropTable", "Lookup",
                                            "Write", "ApplyGradients", "Checkpoint",
                                            "ScanRows", "DropJob"};
  if (!metrics) return;
  for (int m = 0; m < kNumMethods; ++m)
    latency_[m] = metrics->GetHistogram("augur_shard_request_seconds",
                                        "Shard RPC latency by method, server side",
                                        {{"method", kNames[m]}});
}

grpc::ServerUnaryReactor* ShardServiceImpl::Run(grpc::CallbackServerContext* ctx, Method m,
                                                std::function<absl::Status()> fn) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  Histogram* latency = latency_[m];
  pool_->Schedule([reactor, latency, fn = std::move(fn)] {
    auto start = std::chrono::steady_clock::now();
    absl::Status s = fn();
    if (latency)
      latency->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    reactor->Finish(ToGrpcStatus(s));
  });
  return reactor;
}

grpc::ServerUnaryReactor* ShardServiceImpl::CreateTable(grpc::CallbackServerContext* ctx,
                                                        const v1::CreateTableRequest* req,
                                                        v1::CreateTableResponse* resp) {
  return Run(ctx, kCreateTable, [this, req, resp]() -> absl::Status {
    AUGUR_ASSIGN_OR_RETURN(TableSpec spec, FromProto(req->table()));
    // Checked before the job's namespace is opened: a refused request creates nothing.
    AUGUR_RETURN_IF_ERROR(ValidateTableSpec(spec));
    AUGUR_ASSIGN_OR_RETURN(auto core, jobs_->GetOrCreate(req->job()));
    AUGUR_ASSIGN_OR_RETURN(bool created, core->CreateTable(spec));
    resp->set_created(created);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ShardServiceImpl::ListTables(grpc::CallbackServerContext* ctx,
                                                       const v1::ListTablesRequest* req,
                                                       v1::ListTablesResponse* resp) {
  return Run(ctx, kListTables, [this, req, resp]() -> absl::Status {
    auto core = jobs_->Get(req->job());
    if (absl::IsNotFound(core.status())) return absl::OkStatus();  // no tables of the job
    if (!core.ok()) return core.status();
    for (const auto& t : (*core)->ListTables()) ToProto(t, resp->add_tables());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ShardServiceImpl::DropTable(grpc::CallbackServerContext* ctx,
                                                      const v1::DropTableRequest* req,
                                                      v1::DropTableResponse* resp) {
  return Run(ctx, kDropTable, [this, req]() -> absl::Status {
    AUGUR_ASSIGN_OR_RETURN(auto core, jobs_->Get(req->job()));
    return core->DropTable(req->table_id());
  });
}

grpc::ServerUnaryReactor* ShardServiceImpl::Lookup(grpc::CallbackServerContext* ctx,
                                                   const v1::LookupRequest* req,
                                                   v1::LookupResponse* resp) {
  return Run(ctx, kLookup, [this, req, resp]() -> absl::Status {
    AUGUR_ASSIGN_OR_RETURN(auto core, jobs_->Get(req->job()));
    AUGUR_ASSIGN_OR_RETURN(auto blocks, FromProto(req->blocks()));
    AUGUR_ASSIGN_OR_RETURN(auto result, core->Lookup(blocks, req->with_state()));
    for (const auto& b : result) ToProto(b, resp->add_blocks());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ShardServiceImpl::Write(grpc::CallbackServerContext* ctx,
                                                  const v1::WriteRequest* req,
                                                  v1::WriteResponse* resp) {
  return Run(ctx, kWrite, [this, req]() -> absl::Status {
    AUGUR_ASSIGN_OR_RETURN(auto core, jobs_->Get(req->job()));
    AUGUR_ASSIGN_OR_RETURN(auto blocks, FromProto(req->blocks()));
    return core->Write(blocks);
  });
}

grpc::ServerUnaryReactor* ShardServiceImpl::ApplyGradients(grpc::CallbackServerContext* ctx,
                                                           const v1::ApplyGradientsRequest* req,
                                                           v1::ApplyGradientsResponse* resp) {
  return Run(ctx, kApply, [this, req, resp]() -> absl::Status {
    AUGUR_ASSIGN_OR_RETURN(auto core, jobs_->Get(req->job()));
    AUGUR_ASSIGN_OR_RETURN(auto blocks, FromProto(req->blocks()));
    AUGUR_ASSIGN_OR_RETURN(bool applied, core->ApplyGradients(blocks, req->iteration(),
                                                              req->worker(),
                                                              req->num_workers()));
    resp->set_applied(applied);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ShardServiceImpl::Checkpoint(grpc::CallbackServerContext* ctx,
                                                       const v1::CheckpointRequest* req,
                                                       v1::CheckpointResponse* resp) {
  return Run(ctx, kCheckpoint, [this, req]() -> absl::Status {
    AUGUR_RETURN_IF_ERROR(CheckLength("dir", req->dir(), kMaxPathBytes));
    AUGUR_ASSIGN_OR_RETURN(auto core, jobs_->Get(req->job()));
    return core->Checkpoint(req->dir());
  });
}

grpc::ServerUnaryReactor* ShardServiceImpl::ScanRows(grpc::CallbackServerContext* ctx,
                                                     const v1::ScanRowsRequest* req,
                                                     v1::ScanRowsResponse* resp) {
  return Run(ctx, kScanRows, [this, req, resp]() -> absl::Status {
    AUGUR_ASSIGN_OR_RETURN(auto core, jobs_->Get(req->job()));
    AUGUR_ASSIGN_OR_RETURN(auto r, core->ScanRows(req->table_id(), req->start_row(),
                                                  req->limit(), req->with_state()));
    ToProto(r.block, resp->mutable_block());
    resp->set_more(r.more);
    resp->set_next_row(r.next_row);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ShardServiceImpl::DropJob(grpc::CallbackServerContext* ctx,
                                                    const v1::DropJobRequest* req,
                                                    v1::DropJobResponse* resp) {
  return Run(ctx, kDropJob, [this, req, resp]() -> absl::Status {
    AUGUR_ASSIGN_OR_RETURN(bool existed, jobs_->Drop(req->job()));
    resp->set_existed(existed);
    return absl::OkStatus();
  });
}

}  // namespace augur::shard
