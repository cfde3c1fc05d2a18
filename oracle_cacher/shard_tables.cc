// ShardTables over ShardClient: a job's tables are created in, and dropped with, the job's
// namespace on every shard.
#include "oracle_cacher/shard_tables.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/status.h"

namespace augur::oracle {
namespace {

class ClientShardTables final : public ShardTables {
 public:
  explicit ClientShardTables(shard::ShardClientOptions base) : base_(std::move(base)) {}

  absl::Status Create(const std::string& job_id, const job::JobSpec& spec,
                      const std::vector<TableSpec>& tables) override {
    AUGUR_ASSIGN_OR_RETURN(auto client, Connect(job_id, spec, base_.rpc_deadline));
    // A new job starts from the deterministic init whatever ran before: an oracle that lost its
    // state gives ids out again, and the shards may still hold an old job's tables under one.
    AUGUR_ASSIGN_OR_RETURN(bool existed, client->DropJob().get());
    if (existed)
      spdlog::warn("{}: the shards held tables under this id from an earlier oracle; dropped",
                   job_id);
    for (const auto& t : tables) {
      auto r = client->CreateTable(t).get();
      if (!r.ok())
        return absl::Status(r.status().code(),
                            "creating table " + t.name + ": " + std::string(r.status().message()));
    }
    return absl::OkStatus();
  }

  absl::Status Drop(const std::string& job_id, const job::JobSpec& spec) override {
    AUGUR_ASSIGN_OR_RETURN(auto client,
                           Connect(job_id, spec, std::max(base_.rpc_deadline,
                                                          std::chrono::milliseconds(60000))));
    return client->DropJob().get().status();
  }

  absl::Status Restore(const std::string& job_id, const job::JobSpec& spec,
                       const std::vector<TableSpec>& tables, const std::string& dir) override {
    AUGUR_ASSIGN_OR_RETURN(auto client,
                           Connect(job_id, spec, std::max(base_.rpc_deadline,
                                                          std::chrono::milliseconds(60000))));
    if (auto st = client->Restore(dir).get(); !st.ok())
      return absl::Status(st.code(), "restoring the shards from " + dir + ": " +
                                         std::string(st.message()));
    AUGUR_ASSIGN_OR_RETURN(auto listed, client->ListTables().get());
    auto by_id = [](const TableSpec& a, const TableSpec& b) { return a.id < b.id; };
    std::sort(listed.begin(), listed.end(), by_id);
    std::vector<TableSpec> want = tables;
    std::sort(want.begin(), want.end(), by_id);
    if (listed != want)
      return absl::FailedPreconditionError(
          "the checkpoint in " + dir + " holds " + std::to_string(listed.size()) +
          " tables that are not the job's " + std::to_string(want.size()) +
          " (another dataset or model since?)");
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<std::unique_ptr<shard::ShardClient>> Connect(
      const std::string& job_id, const job::JobSpec& spec, std::chrono::milliseconds deadline) {
    shard::ShardClientOptions o = base_;
    o.job = job_id;
    o.rpc_deadline = deadline;
    return shard::ShardClient::Connect(spec.cluster.shards, o);
  }

  const shard::ShardClientOptions base_;
};

}  // namespace

std::unique_ptr<ShardTables> NewShardTables(shard::ShardClientOptions base) {
  return std::make_unique<ClientShardTables>(std::move(base));
}

}  // namespace augur::oracle
