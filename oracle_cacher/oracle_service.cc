#include "oracle_cacher/oracle_service.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/limits.h"
#include "common/status.h"
#include "common/packed.h"
#include "common/plan/plan_codec.h"

namespace augur::oracle {

void ToProto(const JobStatus& s, v1::JobStatusResponse* out) {
  out->set_job_id(s.job_id);
  out->set_name(s.name);
  out->set_state(JobStateName(s.state));
  out->set_reason(s.reason);
  out->set_iteration(s.iteration);
  out->set_iterations(s.iterations);
  out->set_loss(s.loss);
  out->set_samples_per_s(s.samples_per_s);
  out->set_hit_ratio(s.hit_ratio);
  out->set_stall_fraction(s.stall_fraction);
  out->set_planned_hit_ratio(s.planned_hit_ratio);
  out->set_has_eval(s.eval_auc.has_value());
  out->set_eval_auc(s.eval_auc.value_or(0));
  out->set_eval_logloss(s.eval_logloss.value_or(0));
  out->set_workers_registered(s.workers_registered);
  out->set_workers(s.workers);
  out->set_elapsed_s(s.elapsed_s);
  out->set_rows_fetched(s.rows_fetched);
  out->set_bytes_fetched(s.bytes_fetched);
  for (int64_t c : s.checkpoints) out->add_checkpoints(c);
  out->set_recoveries(s.recoveries);
  out->set_last_recovery(s.last_recovery);
}

absl::StatusOr<std::shared_ptr<JobRunner>> OracleServiceImpl::RunningJob(
    const std::string& job_id) const {
  AUGUR_RETURN_IF_ERROR(CheckLength("job_id", job_id, kMaxIdBytes));
  auto r = host_->Running();
  if (!r) return absl::UnavailableError("no job is running");
  if (!job_id.empty() && r->Status().job_id != job_id)
    return absl::NotFoundError("job " + Echo(job_id) + " is not the running job");
  return r;
}

namespace {
// Every text field is bounded before anything looks at it, so no error quotes much of it.
grpc::Status CheckId(const std::string& id) {
  return ToGrpcStatus(CheckLength("job_id", id, kMaxIdBytes));
}
}  // namespace

grpc::Status OracleServiceImpl::SubmitJob(grpc::ServerContext*, const v1::SubmitJobRequest* req,
                                          v1::SubmitJobResponse* resp) {
  if (auto st = CheckLength("job_yaml", req->job_yaml(), kMaxJobYamlBytes); !st.ok())
    return ToGrpcStatus(st);
  auto spec = job::ParseJobSpec(req->job_yaml());
  if (!spec.ok()) return ToGrpcStatus(spec.status());
  auto id = host_->Submit(*spec);
  if (!id.ok()) return ToGrpcStatus(id.status());
  resp->set_job_id(*id);
  return grpc::Status::OK;
}

grpc::Status OracleServiceImpl::CancelJob(grpc::ServerContext*, const v1::CancelJobRequest* req,
                                          v1::CancelJobResponse*) {
  if (auto st = CheckId(req->job_id()); !st.ok()) return st;
  if (auto st = CheckLength("reason", req->reason(), kMaxReasonBytes); !st.ok())
    return ToGrpcStatus(st);
  return ToGrpcStatus(host_->Cancel(req->job_id(), req->reason().empty() ? "cancelled by user" : req->reason()));
}

grpc::Status OracleServiceImpl::DeleteJob(grpc::ServerContext*, const v1::DeleteJobRequest* req,
                                          v1::DeleteJobResponse*) {
  if (auto st = CheckId(req->job_id()); !st.ok()) return st;
  // Blocks this (synchronous-API) thread while the shards drop the job: bounded by the shard
  // calls' deadlines.
  return ToGrpcStatus(host_->Delete(req->job_id()));
}

grpc::Status OracleServiceImpl::ResumeJob(grpc::ServerContext*, const v1::ResumeJobRequest* req,
                                          v1::ResumeJobResponse* resp) {
  if (auto st = CheckId(req->job_id()); !st.ok()) return st;
  if (req->from_iteration() < 0)
    return ToGrpcStatus(absl::InvalidArgumentError("from_iteration must be >= 0"));
  auto from = host_->Resume(req->job_id(), req->from_iteration());
  if (!from.ok()) return ToGrpcStatus(from.status());
  resp->set_from_iteration(*from);
  return grpc::Status::OK;
}

grpc::Status OracleServiceImpl::PaceStatusRead(grpc::ServerContext* ctx) {
  if (status_reads_per_second_ <= 0) return grpc::Status::OK;
  const absl::Duration queue_limit = absl::Milliseconds(kMaxStatusReadQueueMs);
  absl::Time now = absl::Now(), turn;
  bool refused = false;
  {
    absl::MutexLock l(&pace_mu_);
    turn = std::max(now, next_status_read_);
    refused = turn - now > queue_limit;
    if (refused) {
      turn = now + queue_limit;
    } else {
      next_status_read_ = turn + absl::Seconds(1) / status_reads_per_second_;
    }
  }
  // Short slices, so a caller that gave up frees its thread at once.
  while (absl::Now() < turn) {
    if (ctx && ctx->IsCancelled())
      return grpc::Status(grpc::StatusCode::CANCELLED, "caller gave up");
    absl::SleepFor(std::min(turn - absl::Now(), absl::Milliseconds(50)));
  }
  if (refused)
    return grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        "status reads are limited to " + std::to_string(status_reads_per_second_) +
            " per second; try again");
  return grpc::Status::OK;
}

grpc::Status OracleServiceImpl::ListJobs(grpc::ServerContext* ctx, const v1::ListJobsRequest*,
                                         v1::ListJobsResponse* resp) {
  if (auto st = PaceStatusRead(ctx); !st.ok()) return st;
  for (const auto& s : host_->List(/*snapshot=*/true)) ToProto(s, resp->add_jobs());
  return grpc::Status::OK;
}

grpc::Status OracleServiceImpl::JobEvents(grpc::ServerContext* ctx,
                                          const v1::JobEventsRequest* req,
                                          v1::JobEventsResponse* resp) {
  if (auto st = CheckId(req->job_id()); !st.ok()) return st;
  if (auto st = PaceStatusRead(ctx); !st.ok()) return st;
  auto s = host_->Status(req->job_id(), /*snapshot=*/true);
  if (!s.ok()) return ToGrpcStatus(s.status());
  for (auto& e : host_->Events(s->job_id)) resp->add_events(e);
  return grpc::Status::OK;
}

grpc::Status OracleServiceImpl::PutModel(grpc::ServerContext*, const v1::PutModelRequest* req,
                                         v1::PutModelResponse*) {
  // Only the job's own worker uploads its model.
  auto job = RunningJob(req->job_id());
  if (!job.ok()) return ToGrpcStatus(job.status());
  if (auto st = (*job)->CheckWorker(req->worker_index(), req->worker_token()); !st.ok())
    return ToGrpcStatus(st);
  auto dense = UnpackArray<float>(req->dense(), "dense");
  if (!dense.ok()) return ToGrpcStatus(dense.status());
  return ToGrpcStatus(host_->PutModel(req->job_id(), std::move(*dense)));
}

grpc::Status OracleServiceImpl::GetModel(grpc::ServerContext*, const v1::GetModelRequest* req,
                                         v1::GetModelResponse* resp) {
  if (auto st = CheckId(req->job_id()); !st.ok()) return st;
  auto s = host_->Status(req->job_id());
  if (!s.ok()) return ToGrpcStatus(s.status());
  auto m = host_->GetModel(s->job_id);
  if (!m.ok()) return ToGrpcStatus(m.status());
  resp->set_job_id(s->job_id);
  resp->set_job_yaml(job::ToYaml(m->first));
  resp->set_dense(PackArray<float>(m->second));
  return grpc::Status::OK;
}

grpc::Status OracleServiceImpl::RegisterWorker(grpc::ServerContext*,
                                               const v1::RegisterWorkerRequest* req,
                                               v1::RegisterWorkerResponse* resp) {
  if (req->worker_index() < -1)
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "worker_index " + std::to_string(req->worker_index()) +
                            " is neither -1 (any) nor a worker index");
  if (auto st = CheckLength("metrics_endpoint", req->metrics_endpoint(), kMaxNameBytes); !st.ok())
    return ToGrpcStatus(st);
  auto job = RunningJob("");
  if (!job.ok()) return ToGrpcStatus(job.status());
  auto reg = (*job)->Register(req->worker_index());
  if (!reg.ok()) return ToGrpcStatus(reg.status());
  resp->set_job_id((*job)->Status().job_id);
  resp->set_job_yaml(reg->job_yaml);
  resp->set_worker_index(reg->worker_index);
  resp->set_iterations(reg->iterations);
  resp->set_writeback_horizon(kWritebackAckHorizon);
  resp->set_start_iteration(reg->start_iteration);
  resp->set_worker_token(reg->token);
  return grpc::Status::OK;
}

grpc::Status OracleServiceImpl::StreamPlan(grpc::ServerContext* ctx,
                                           const v1::StreamPlanRequest* req,
                                           grpc::ServerWriter<v1::PlanBatch>* writer) {
  auto job = RunningJob(req->job_id());
  if (!job.ok()) return ToGrpcStatus(job.status());
  if (req->from_iteration() < 0)
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "from_iteration must be >= 0");
  // A stream that breaks while its worker still owes iterations means the worker is gone: the
  // job learns it now, not after worker_timeout (and not from a peer's collective timeout).
  auto lost = [&] {
    if (!shutting_down_) (*job)->StreamLost(req->worker_index());
  };
  int64_t next = req->from_iteration();
  while (!ctx->IsCancelled()) {
    bool end = false;
    auto plans = (*job)->Plans(req->worker_index(), req->worker_token(), next,
                               absl::Milliseconds(200), &end);
    if (!plans.ok()) return ToGrpcStatus(plans.status());
    if (end) return grpc::Status::OK;
    if (plans->empty()) continue;
    // Messages stay a few MiB at most, whatever the batch size and credit.
    v1::PlanBatch batch;
    size_t bytes = 0;
    for (const auto& p : *plans) {
      auto* m = batch.add_plans();
      plan::EncodeWorkerPlan(p, m);
      bytes += m->ByteSizeLong();
      if (bytes > (2u << 20) || &p == &plans->back()) {
        if (!writer->Write(batch)) {
          lost();
          return grpc::Status(grpc::StatusCode::CANCELLED, "worker went away");
        }
        batch.Clear();
        bytes = 0;
      }
    }
    next = plans->back().iteration + 1;
  }
  lost();
  return grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled");
}

grpc::Status OracleServiceImpl::ReportProgress(grpc::ServerContext*, const v1::ProgressReport* req,
                                               v1::ProgressAck* ack) {
  if (auto st = CheckId(req->job_id()); !st.ok()) return st;
  auto job = RunningJob(req->job_id());
  if (!job.ok()) {
    // The job ended (e.g. cancelled and already replaced): tell the worker to stop.
    ack->set_cancel(true);
    ack->set_reason(std::string(job.status().message()));
    return grpc::Status::OK;
  }
  WorkerReport r;
  r.worker = req->worker_index();
  r.token = req->worker_token();
  r.completed = req->completed();
  r.loss_sum = req->loss_sum();
  r.window_loss_sum = req->window_loss_sum();
  r.window_samples = req->window_samples();
  r.samples = req->samples();
  r.cache_hits = req->cache_hits();
  r.cache_misses = req->cache_misses();
  r.stall_seconds = req->stall_seconds();
  r.busy_seconds = req->busy_seconds();
  r.done = req->done();
  r.rows_fetched = req->rows_fetched();
  r.bytes_fetched = req->bytes_fetched();
  r.checkpoint = req->checkpoint();
  r.error = req->error();
  if (req->has_eval()) {
    r.eval_auc = req->eval_auc();
    r.eval_logloss = req->eval_logloss();
    r.eval_samples = req->eval_samples();
    r.eval_iteration = req->eval_iteration();
  }
  auto cancel = (*job)->Report(r);
  if (!cancel.ok()) return ToGrpcStatus(cancel.status());
  ack->set_cancel(!cancel->empty());
  ack->set_reason(*cancel);
  return grpc::Status::OK;
}

grpc::Status OracleServiceImpl::JobStatus(grpc::ServerContext* ctx,
                                          const v1::JobStatusRequest* req,
                                          v1::JobStatusResponse* resp) {
  if (auto st = CheckId(req->job_id()); !st.ok()) return st;
  if (auto st = PaceStatusRead(ctx); !st.ok()) return st;
  auto s = host_->Status(req->job_id(), /*snapshot=*/true);
  if (!s.ok()) return ToGrpcStatus(s.status());
  ToProto(*s, resp);
  return grpc::Status::OK;
}

grpc::Status OracleServiceImpl::StoreSet(grpc::ServerContext*, const v1::StoreSetRequest* req,
                                         v1::StoreSetResponse*) {
  return ToGrpcStatus(host_->StoreSet(req->key(), req->value()));
}

grpc::Status OracleServiceImpl::StoreGet(grpc::ServerContext* ctx, const v1::StoreGetRequest* req,
                                         v1::StoreGetResponse* resp) {
  int64_t ms = std::clamp<int64_t>(req->timeout_ms(), 0, kMaxStoreWaitMs);
  auto v = host_->StoreGet(req->key(), absl::Milliseconds(ms), [ctx] { return ctx->IsCancelled(); });
  if (!v.ok()) return ToGrpcStatus(v.status());
  resp->set_value(*v);
  return grpc::Status::OK;
}

}  // namespace augur::oracle
