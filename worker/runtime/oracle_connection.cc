#include "worker/runtime/oracle_connection.h"

#include <grpcpp/grpcpp.h>

#include "common/grpc_status.h"
#include "common/plan/plan_codec.h"
#include "proto/oracle.grpc.pb.h"

namespace augur::worker {
namespace v1 = augur::oracle::v1;

namespace {
void SetDeadline(grpc::ClientContext* ctx, absl::Duration d) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::microseconds(absl::ToInt64Microseconds(d)));
}

class OracleStore final : public model::RendezvousStore {
 public:
  OracleStore(std::shared_ptr<grpc::Channel> ch, absl::Duration deadline)
      : stub_(v1::OracleService::NewStub(ch)), deadline_(deadline) {}
  absl::Status Set(const std::string& key, const std::string& value) override {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, deadline_);
    v1::StoreSetRequest req;
    req.set_key(key);
    req.set_value(value);
    v1::StoreSetResponse resp;
    return FromGrpcStatus(stub_->StoreSet(&ctx, req, &resp));
  }
  absl::StatusOr<std::string> Get(const std::string& key, absl::Duration timeout) override {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, timeout + deadline_);
    v1::StoreGetRequest req;
    req.set_key(key);
    req.set_timeout_ms(absl::ToInt64Milliseconds(timeout));
    v1::StoreGetResponse resp;
    auto st = stub_->StoreGet(&ctx, req, &resp);
    if (!st.ok()) return FromGrpcStatus(st);
    return resp.value();
  }

 private:
  std::unique_ptr<v1::OracleService::Stub> stub_;
  absl::Duration deadline_;
};
}  // namespace

OracleConnection::OracleConnection(const std::string& endpoint,
                                   std::shared_ptr<grpc::ChannelCredentials> credentials,
                                   absl::Duration rpc_deadline)
    : channel_([&] {
        // Plans of large batches run to many MiB; the stream splits them, but allow big ones.
        grpc::ChannelArguments args;
        args.SetMaxReceiveMessageSize(256 << 20);
        args.SetMaxSendMessageSize(256 << 20);
        return grpc::CreateCustomChannel(
            endpoint, credentials ? credentials : grpc::InsecureChannelCredentials(), args);
      }()),
      deadline_(rpc_deadline) {}

OracleConnection::~OracleConnection() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
    if (stream_ctx_) stream_ctx_->TryCancel();
  }
  if (stream_thread_.joinable()) stream_thread_.join();
}

std::string OracleConnection::Token() {
  absl::MutexLock l(&mu_);
  return token_;
}

absl::StatusOr<JobAssignment> OracleConnection::Register(int worker_index, absl::Duration wait) {
  auto stub = v1::OracleService::NewStub(channel_);
  absl::Time end = absl::Now() + wait;
  absl::Status last = absl::UnavailableError("oracle not reached");
  while (absl::Now() < end) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, std::min(deadline_, std::max(end - absl::Now(), absl::Milliseconds(100))));
    v1::RegisterWorkerRequest req;
    req.set_worker_index(worker_index);
    v1::RegisterWorkerResponse resp;
    auto st = stub->RegisterWorker(&ctx, req, &resp);
    if (st.ok()) {
      JobAssignment a;
      a.job_id = resp.job_id();
      a.job_yaml = resp.job_yaml();
      a.worker_index = resp.worker_index();
      a.iterations = resp.iterations();
      a.writeback_horizon = resp.writeback_horizon();
      a.start_iteration = resp.start_iteration();
      {
        absl::MutexLock l(&mu_);
        token_ = resp.worker_token();
      }
      return a;
    }
    last = FromGrpcStatus(st);
    // No job yet, or the oracle is still starting, or this index's previous job is still
    // ending (ALREADY_EXISTS: the oracle holds a failing job a moment, kPeerLossGrace): wait
    // and ask again.
    if (st.error_code() != grpc::StatusCode::UNAVAILABLE &&
        st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
        st.error_code() != grpc::StatusCode::ALREADY_EXISTS)
      return last;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::UnavailableError("could not register with the oracle: " + std::string(last.message()));
}

void OracleConnection::StartPlanStream(const std::string& job_id, int worker, int64_t from) {
  if (stream_thread_.joinable()) return;
  stream_thread_ = std::thread([this, job_id, worker, from] { StreamLoop(job_id, worker, from); });
}

void OracleConnection::StreamLoop(std::string job_id, int worker, int64_t from) {
  auto stub = v1::OracleService::NewStub(channel_);
  grpc::ClientContext ctx;
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    stream_ctx_ = &ctx;
  }
  v1::StreamPlanRequest req;
  req.set_job_id(job_id);
  req.set_worker_index(worker);
  req.set_worker_token(Token());
  req.set_from_iteration(from);
  auto reader = stub->StreamPlan(&ctx, req);
  v1::PlanBatch batch;
  absl::Status failure;
  while (reader->Read(&batch)) {
    std::vector<plan::WorkerIterationPlan> decoded;
    for (const auto& p : batch.plans()) {
      auto d = plan::DecodeWorkerPlan(p);
      if (!d.ok()) {
        failure = d.status();
        break;
      }
      decoded.push_back(std::move(*d));
    }
    absl::MutexLock l(&mu_);
    for (auto& d : decoded) plans_.push_back(std::move(d));
    if (!failure.ok()) break;
  }
  if (!failure.ok()) ctx.TryCancel();
  auto st = reader->Finish();
  absl::MutexLock l(&mu_);
  stream_ctx_ = nullptr;
  stream_ended_ = true;
  stream_status_ = !failure.ok() ? failure : FromGrpcStatus(st);
  if (stream_status_.code() == absl::StatusCode::kUnavailable)
    stream_status_ = absl::UnavailableError("lost the oracle's plan stream: " + std::string(stream_status_.message()));
}

absl::StatusOr<plan::WorkerIterationPlan> OracleConnection::NextPlan(int64_t iteration,
                                                                        absl::Duration timeout) {
  absl::MutexLock l(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !plans_.empty() || stream_ended_; };
  if (!mu_.AwaitWithTimeout(absl::Condition(&ready), timeout))
    return absl::DeadlineExceededError("no plan for iteration " + std::to_string(iteration) +
                                       " within " + absl::FormatDuration(timeout));
  // A stream that broke ends the run at once, even with plans queued: the job failed (or the
  // oracle went away), and a recovery may already be rolling the shards back, so this worker
  // must not write another row.
  if (stream_ended_ && !stream_status_.ok()) return stream_status_;
  if (plans_.empty()) {
    return absl::OutOfRangeError("the plan stream ended before iteration " + std::to_string(iteration));
  }
  auto p = std::move(plans_.front());
  plans_.pop_front();
  if (p.iteration != iteration)
    return absl::InternalError("expected the plan of iteration " + std::to_string(iteration) +
                               ", got " + std::to_string(p.iteration));
  return p;
}

absl::StatusOr<std::string> OracleConnection::Report(const std::string& job_id, int worker,
                                                     const ProgressUpdate& u) {
  auto stub = v1::OracleService::NewStub(channel_);
  grpc::ClientContext ctx;
  SetDeadline(&ctx, deadline_);
  v1::ProgressReport r;
  r.set_job_id(job_id);
  r.set_worker_index(worker);
  r.set_worker_token(Token());
  r.set_completed(u.completed);
  r.set_loss_sum(u.loss_sum);
  r.set_samples(u.samples);
  r.set_cache_hits(u.cache_hits);
  r.set_cache_misses(u.cache_misses);
  r.set_stall_seconds(u.stall_seconds);
  r.set_busy_seconds(u.busy_seconds);
  r.set_done(u.done);
  r.set_error(u.error);
  r.set_has_eval(u.has_eval);
  r.set_eval_auc(u.eval_auc);
  r.set_eval_logloss(u.eval_logloss);
  r.set_eval_samples(u.eval_samples);
  r.set_eval_iteration(u.eval_iteration);
  r.set_rows_fetched(u.rows_fetched);
  r.set_bytes_fetched(u.bytes_fetched);
  r.set_checkpoint(u.checkpoint);
  r.set_window_loss_sum(u.window_loss_sum);
  r.set_window_samples(u.window_samples);
  v1::ProgressAck ack;
  auto st = stub->ReportProgress(&ctx, r, &ack);
  if (st.error_code() == grpc::StatusCode::UNAVAILABLE ||
      st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
    return absl::UnavailableError("lost the oracle: " + st.error_message());
  if (!st.ok()) return FromGrpcStatus(st);  // the oracle refused the report: say why
  return ack.cancel() ? (ack.reason().empty() ? std::string("cancelled") : ack.reason()) : "";
}

absl::Status OracleConnection::PutModel(const std::string& job_id, const std::vector<float>& dense) {
  auto stub = v1::OracleService::NewStub(channel_);
  grpc::ClientContext ctx;
  SetDeadline(&ctx, deadline_ * 3);
  v1::PutModelRequest req;
  req.set_job_id(job_id);
  req.set_worker_index(0);  // only worker 0 uploads
  req.set_worker_token(Token());
  req.set_dense(std::string(reinterpret_cast<const char*>(dense.data()), dense.size() * sizeof(float)));
  v1::PutModelResponse resp;
  return FromGrpcStatus(stub->PutModel(&ctx, req, &resp));
}

absl::Status OracleConnection::StreamStatus() {
  absl::MutexLock l(&mu_);
  return stream_ended_ ? stream_status_ : absl::OkStatus();
}

std::unique_ptr<model::RendezvousStore> OracleConnection::NewRendezvousStore() {
  return std::make_unique<OracleStore>(channel_, deadline_);
}

}  // namespace augur::worker
