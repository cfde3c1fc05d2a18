// The real ShardTables (job_runner.h): dials a job's shards with ShardClient, naming the job, so
// every job's tables live in a namespace of its own on each shard (proto/shard.proto).
#pragma once

#include <memory>

#include "oracle_cacher/job_runner.h"
#include "server/client/shard_client.h"

namespace augur::oracle {

// `base`: credentials and deadlines for every shard call (its `job` is replaced per job). A
// drop removes files on every shard, so Drop allows at least 60 s per call.
std::unique_ptr<ShardTables> NewShardTables(shard::ShardClientOptions base);

}  // namespace augur::oracle
