// The only file of the CLI that sees oracle.proto's generated types.
#include "cli/oracle_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "common/grpc_status.h"
#include "common/packed.h"
#include "proto/oracle.grpc.pb.h"

namespace augur::cli {
namespace v1 = augur::oracle::v1;

struct OracleClient::Stub {
  std::unique_ptr<v1::OracleService::Stub> stub;
};

namespace {

void FromProto(const v1::JobStatusResponse& p, JobInfo* j) {
  j->job_id = p.job_id();
  j->name = p.name();
  j->state = p.state();
  j->reason = p.reason();
  j->iteration = p.iteration();
  j->iterations = p.iterations();
  j->loss = p.loss();
  j->samples_per_s = p.samples_per_s();
  j->hit_ratio = p.hit_ratio();
  j->stall_fraction = p.stall_fraction();
  j->planned_hit_ratio = p.planned_hit_ratio();
  if (p.has_eval()) {
    j->eval_auc = p.eval_auc();
    j->eval_logloss = p.eval_logloss();
  }
  j->workers_registered = p.workers_registered();
  j->workers = p.workers();
  j->elapsed_s = p.elapsed_s();
  j->rows_fetched = p.rows_fetched();
  j->bytes_fetched = p.bytes_fetched();
  j->checkpoints.assign(p.checkpoints().begin(), p.checkpoints().end());
  j->recoveries = p.recoveries();
  j->last_recovery = p.last_recovery();
}

}  // namespace

OracleClient::OracleClient(std::string endpoint, Options options)
    : endpoint_(std::move(endpoint)), options_(options), stub_(std::make_unique<Stub>()) {
  stub_->stub = v1::OracleService::NewStub(
      grpc::CreateChannel(endpoint_, options_.credentials ? options_.credentials
                                                          : grpc::InsecureChannelCredentials()));
}

OracleClient::~OracleClient() = default;

// A transport failure says where we tried to go; the oracle's own answers pass unchanged.
absl::Status OracleClient::Wrap(absl::Status st) const {
  if (st.code() == absl::StatusCode::kUnavailable ||
      st.code() == absl::StatusCode::kDeadlineExceeded)
    return absl::UnavailableError("cannot reach the oracle at " + endpoint_ + ": " +
                                  std::string(st.message()));
  return st;
}

#define AUGUR_ORACLE_CALL(method, req, resp)                                          \
  grpc::ClientContext ctx;                                                             \
  ctx.set_deadline(std::chrono::system_clock::now() +                                  \
                   absl::ToChronoMicroseconds(options_.rpc_deadline));                 \
  absl::Status call_status = FromGrpcStatus(stub_->stub->method(&ctx, req, &resp));    \
  if (!call_status.ok()) return Wrap(call_status)

absl::StatusOr<std::string> OracleClient::Submit(const std::string& job_yaml) {
  v1::SubmitJobRequest req;
  req.set_job_yaml(job_yaml);
  v1::SubmitJobResponse resp;
  AUGUR_ORACLE_CALL(SubmitJob, req, resp);
  return resp.job_id();
}

absl::Status OracleClient::Cancel(const std::string& job_id, const std::string& reason) {
  v1::CancelJobRequest req;
  req.set_job_id(job_id);
  req.set_reason(reason);
  v1::CancelJobResponse resp;
  AUGUR_ORACLE_CALL(CancelJob, req, resp);
  return absl::OkStatus();
}

absl::Status OracleClient::Delete(const std::string& job_id) {
  v1::DeleteJobRequest req;
  req.set_job_id(job_id);
  v1::DeleteJobResponse resp;
  // Every shard removes the job's files before the oracle answers: allow more than a status call.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   absl::ToChronoMicroseconds(std::max(options_.rpc_deadline, kDeleteDeadline)));
  absl::Status st = FromGrpcStatus(stub_->stub->DeleteJob(&ctx, req, &resp));
  return st.ok() ? st : Wrap(st);
}

absl::StatusOr<int64_t> OracleClient::Resume(const std::string& job_id, int64_t from) {
  v1::ResumeJobRequest req;
  req.set_job_id(job_id);
  req.set_from_iteration(from);
  v1::ResumeJobResponse resp;
  AUGUR_ORACLE_CALL(ResumeJob, req, resp);
  return resp.from_iteration();
}

absl::StatusOr<JobInfo> OracleClient::Status(const std::string& job_id) {
  v1::JobStatusRequest req;
  req.set_job_id(job_id);
  v1::JobStatusResponse resp;
  AUGUR_ORACLE_CALL(JobStatus, req, resp);
  JobInfo j;
  FromProto(resp, &j);
  return j;
}

absl::StatusOr<std::vector<JobInfo>> OracleClient::List() {
  v1::ListJobsRequest req;
  v1::ListJobsResponse resp;
  AUGUR_ORACLE_CALL(ListJobs, req, resp);
  std::vector<JobInfo> out(resp.jobs_size());
  for (int i = 0; i < resp.jobs_size(); ++i) FromProto(resp.jobs(i), &out[i]);
  return out;
}

absl::StatusOr<std::vector<std::string>> OracleClient::Events(const std::string& job_id) {
  v1::JobEventsRequest req;
  req.set_job_id(job_id);
  v1::JobEventsResponse resp;
  AUGUR_ORACLE_CALL(JobEvents, req, resp);
  return std::vector<std::string>(resp.events().begin(), resp.events().end());
}

absl::StatusOr<TrainedModel> OracleClient::GetModel(const std::string& job_id) {
  v1::GetModelRequest req;
  req.set_job_id(job_id);
  v1::GetModelResponse resp;
  AUGUR_ORACLE_CALL(GetModel, req, resp);
  auto dense = UnpackArray<float>(resp.dense(), "dense");
  if (!dense.ok()) return dense.status();
  return TrainedModel{resp.job_id(), resp.job_yaml(), std::move(*dense)};
}

#undef AUGUR_ORACLE_CALL

}  // namespace augur::cli
