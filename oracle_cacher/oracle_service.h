// The gRPC adapter of the oracle: converts, calls JobHost / JobRunner, maps the status.
// StreamPlan holds one server thread per worker stream while it waits for plans (bounded waits,
// checking for cancellation), which is why the server is built with one thread per worker plus
// a few.
#pragma once

#include <atomic>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/limits.h"
#include "oracle_cacher/job_host.h"
#include "proto/oracle.grpc.pb.h"

namespace augur::oracle {

class OracleServiceImpl final : public v1::OracleService::Service {
 public:
  // `status_reads_per_second`: the pace of status reads (PaceStatusRead); 0: unpaced (the
  // fuzz target, which calls the handlers directly as fast as it can).
  explicit OracleServiceImpl(JobHost* host,
                             int status_reads_per_second = kMaxStatusReadsPerSecond)
      : host_(host), status_reads_per_second_(status_reads_per_second) {}

  // Called before the server shuts down: plan streams it then cancels are not workers lost.
  void BeginShutdown() { shutting_down_ = true; }

  grpc::Status SubmitJob(grpc::ServerContext*, const v1::SubmitJobRequest*,
                         v1::SubmitJobResponse*) override;
  grpc::Status CancelJob(grpc::ServerContext*, const v1::CancelJobRequest*,
                         v1::CancelJobResponse*) override;
  grpc::Status DeleteJob(grpc::ServerContext*, const v1::DeleteJobRequest*,
                         v1::DeleteJobResponse*) override;
  grpc::Status ResumeJob(grpc::ServerContext*, const v1::ResumeJobRequest*,
                         v1::ResumeJobResponse*) override;
  grpc::Status ListJobs(grpc::ServerContext*, const v1::ListJobsRequest*,
                        v1::ListJobsResponse*) override;
  grpc::Status JobEvents(grpc::ServerContext*, const v1::JobEventsRequest*,
                         v1::JobEventsResponse*) override;
  grpc::Status PutModel(grpc::ServerContext*, const v1::PutModelRequest*,
                        v1::PutModelResponse*) override;
  grpc::Status GetModel(grpc::ServerContext*, const v1::GetModelRequest*,
                        v1::GetModelResponse*) override;
  grpc::Status RegisterWorker(grpc::ServerContext*, const v1::RegisterWorkerRequest*,
                              v1::RegisterWorkerResponse*) override;
  grpc::Status StreamPlan(grpc::ServerContext*, const v1::StreamPlanRequest*,
                          grpc::ServerWriter<v1::PlanBatch>*) override;
  grpc::Status ReportProgress(grpc::ServerContext*, const v1::ProgressReport*,
                              v1::ProgressAck*) override;
  grpc::Status JobStatus(grpc::ServerContext*, const v1::JobStatusRequest*,
                         v1::JobStatusResponse*) override;
  grpc::Status StoreSet(grpc::ServerContext*, const v1::StoreSetRequest*,
                        v1::StoreSetResponse*) override;
  grpc::Status StoreGet(grpc::ServerContext*, const v1::StoreGetRequest*,
                        v1::StoreGetResponse*) override;

 private:
  // The running job the request names (job_id may be empty for RegisterWorker).
  absl::StatusOr<std::shared_ptr<JobRunner>> RunningJob(const std::string& job_id) const;
  // Waits for this status read's turn (kMaxStatusReadsPerSecond, common/limits.h).
  // RESOURCE_EXHAUSTED when more than kMaxStatusReadQueueMs of reads are queued (after
  // waiting that long: a caller in a tight loop is slowed, not spun), CANCELLED when the caller
  // gave up.
  grpc::Status PaceStatusRead(grpc::ServerContext* ctx);
  JobHost* host_;
  const int status_reads_per_second_;
  std::atomic<bool> shutting_down_{false};
  absl::Mutex pace_mu_;
  absl::Time next_status_read_ ABSL_GUARDED_BY(pace_mu_) = absl::InfinitePast();
};

void ToProto(const JobStatus& s, v1::JobStatusResponse* out);

}  // namespace augur::oracle
