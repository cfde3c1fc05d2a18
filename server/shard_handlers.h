// The body of every shard RPC, free of gRPC: a decoded request in, the response filled, a status
// out (its code is the RPC's). The service (shard_service.cc) runs these on its worker pool;
// the libFuzzer target tests/fuzz/shard_rpc_fuzz.cc drives them with hostile requests. Like
// shard_convert.h this sees generated types: include it only from .cc files of server/ and
// from tests.
#pragma once

#include "absl/status/status.h"
#include "proto/shard.pb.h"

namespace augur::shard {

class ShardJobs;

namespace handlers {

namespace pb = ::augur::shard::v1;

absl::Status CreateTable(ShardJobs& jobs, const pb::CreateTableRequest& req,
                         pb::CreateTableResponse* resp);
absl::Status ListTables(ShardJobs& jobs, const pb::ListTablesRequest& req,
                        pb::ListTablesResponse* resp);
absl::Status DropTable(ShardJobs& jobs, const pb::DropTableRequest& req);
absl::Status Lookup(ShardJobs& jobs, const pb::LookupRequest& req, pb::LookupResponse* resp);
absl::Status Write(ShardJobs& jobs, const pb::WriteRequest& req);
absl::Status ApplyGradients(ShardJobs& jobs, const pb::ApplyGradientsRequest& req,
                            pb::ApplyGradientsResponse* resp);
absl::Status Checkpoint(ShardJobs& jobs, const pb::CheckpointRequest& req);
absl::Status Restore(ShardJobs& jobs, const pb::RestoreRequest& req);
absl::Status ScanRows(ShardJobs& jobs, const pb::ScanRowsRequest& req, pb::ScanRowsResponse* resp);
absl::Status DropJob(ShardJobs& jobs, const pb::DropJobRequest& req, pb::DropJobResponse* resp);

}  // namespace handlers
}  // namespace augur::shard
