#include "server/shard_handlers.h"

#include "common/limits.h"
#include "common/status.h"
#include "server/shard_convert.h"
#include "server/shard_core.h"
#include "server/shard_jobs.h"

namespace augur::shard::handlers {

absl::Status CreateTable(ShardJobs& jobs, const pb::CreateTableRequest& req,
                         pb::CreateTableResponse* resp) {
  AUGUR_ASSIGN_OR_RETURN(TableSpec spec, FromProto(req.table()));
  // Checked before the job's namespace is opened: a refused request creates nothing.
  AUGUR_RETURN_IF_ERROR(ValidateTableSpec(spec));
  AUGUR_ASSIGN_OR_RETURN(auto core, jobs.GetOrCreate(req.job()));
  AUGUR_ASSIGN_OR_RETURN(bool created, core->CreateTable(spec));
  resp->set_created(created);
  return absl::OkStatus();
}

absl::Status ListTables(ShardJobs& jobs, const pb::ListTablesRequest& req,
                        pb::ListTablesResponse* resp) {
  auto core = jobs.Get(req.job());
  if (absl::IsNotFound(core.status())) return absl::OkStatus();  // no tables of the job
  if (!core.ok()) return core.status();
  for (const auto& t : (*core)->ListTables()) ToProto(t, resp->add_tables());
  return absl::OkStatus();
}

absl::Status DropTable(ShardJobs& jobs, const pb::DropTableRequest& req) {
  AUGUR_ASSIGN_OR_RETURN(auto core, jobs.Get(req.job()));
  return core->DropTable(req.table_id());
}

absl::Status Lookup(ShardJobs& jobs, const pb::LookupRequest& req, pb::LookupResponse* resp) {
  AUGUR_ASSIGN_OR_RETURN(auto core, jobs.Get(req.job()));
  AUGUR_ASSIGN_OR_RETURN(auto blocks, FromProto(req.blocks()));
  AUGUR_ASSIGN_OR_RETURN(auto result, core->Lookup(blocks, req.with_state()));
  for (const auto& b : result) ToProto(b, resp->add_blocks());
  return absl::OkStatus();
}

absl::Status Write(ShardJobs& jobs, const pb::WriteRequest& req) {
  AUGUR_ASSIGN_OR_RETURN(auto core, jobs.Get(req.job()));
  AUGUR_ASSIGN_OR_RETURN(auto blocks, FromProto(req.blocks()));
  return core->Write(blocks);
}

absl::Status ApplyGradients(ShardJobs& jobs, const pb::ApplyGradientsRequest& req,
                            pb::ApplyGradientsResponse* resp) {
  AUGUR_ASSIGN_OR_RETURN(auto core, jobs.Get(req.job()));
  AUGUR_ASSIGN_OR_RETURN(auto blocks, FromProto(req.blocks()));
  AUGUR_ASSIGN_OR_RETURN(bool applied, core->ApplyGradients(blocks, req.iteration(), req.worker(),
                                                            req.num_workers()));
  resp->set_applied(applied);
  return absl::OkStatus();
}

absl::Status Checkpoint(ShardJobs& jobs, const pb::CheckpointRequest& req) {
  AUGUR_RETURN_IF_ERROR(CheckLength("dir", req.dir(), kMaxPathBytes));
  AUGUR_ASSIGN_OR_RETURN(auto core, jobs.Get(req.job()));
  return core->Checkpoint(req.dir(), req.replace());
}

absl::Status Restore(ShardJobs& jobs, const pb::RestoreRequest& req) {
  AUGUR_RETURN_IF_ERROR(CheckLength("dir", req.dir(), kMaxPathBytes));
  if (req.dir().empty()) return absl::InvalidArgumentError("dir: empty");
  return jobs.Restore(req.job(), req.dir());
}

absl::Status ScanRows(ShardJobs& jobs, const pb::ScanRowsRequest& req,
                      pb::ScanRowsResponse* resp) {
  AUGUR_ASSIGN_OR_RETURN(auto core, jobs.Get(req.job()));
  AUGUR_ASSIGN_OR_RETURN(auto r, core->ScanRows(req.table_id(), req.start_row(), req.limit(),
                                                req.with_state()));
  ToProto(r.block, resp->mutable_block());
  resp->set_more(r.more);
  resp->set_next_row(r.next_row);
  return absl::OkStatus();
}

absl::Status DropJob(ShardJobs& jobs, const pb::DropJobRequest& req, pb::DropJobResponse* resp) {
  AUGUR_ASSIGN_OR_RETURN(bool existed, jobs.Drop(req.job()));
  resp->set_existed(existed);
  return absl::OkStatus();
}

}  // namespace augur::shard::handlers
