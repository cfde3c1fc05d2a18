// ShardClient's registry and checkpoint operations: the same request to every shard.
#include "common/status.h"
#include "server/client/fan_out.h"
#include "server/client/shard_client.h"
#include "server/shard_convert.h"

namespace augur::shard {
namespace {

// Sends `make(shard)` to every shard; `finish` turns the answers into the future's value.
template <typename Req, typename Resp, typename T>
std::future<T> ToAll(ShardClient::Shared* shared,
                     typename FanOut<Req, Resp>::Invoke invoke,
                     std::function<Req(size_t)> make,
                     std::function<T(std::vector<absl::Status>&, std::vector<Resp>&)> finish) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  std::vector<std::optional<Req>> reqs;
  for (size_t s = 0; s < shared->stubs.size(); ++s) reqs.emplace_back(make(s));
  auto fan = std::make_shared<FanOut<Req, Resp>>(
      shared, std::move(invoke), false,
      [promise, finish](std::vector<absl::Status>& st, std::vector<Resp>& resp) {
        promise->set_value(finish(st, resp));
      });
  fan->Start(std::move(reqs));
  return future;
}

}  // namespace

std::future<absl::StatusOr<bool>> ShardClient::CreateTable(const TableSpec& spec) {
  using Req = v1::CreateTableRequest;
  using Resp = v1::CreateTableResponse;
  Req req;
  ToProto(spec, req.mutable_table());
  return ToAll<Req, Resp, absl::StatusOr<bool>>(
      shared_.get(),
      [](v1::ShardService::Stub* stub, grpc::ClientContext* ctx, const Req& r,
         grpc::CompletionQueue* cq) { return stub->AsyncCreateTable(ctx, r, cq); },
      [req](size_t) { return req; },
      [](std::vector<absl::Status>& st, std::vector<Resp>& resp) -> absl::StatusOr<bool> {
        AUGUR_RETURN_IF_ERROR(FirstError(st));
        bool created = false;
        for (const auto& r : resp) created = created || r.created();
        return created;
      });
}

std::future<absl::StatusOr<std::vector<TableSpec>>> ShardClient::ListTables() {
  using Req = v1::ListTablesRequest;
  using Resp = v1::ListTablesResponse;
  using Result = absl::StatusOr<std::vector<TableSpec>>;
  return ToAll<Req, Resp, Result>(
      shared_.get(),
      [](v1::ShardService::Stub* stub, grpc::ClientContext* ctx, const Req& r,
         grpc::CompletionQueue* cq) { return stub->AsyncListTables(ctx, r, cq); },
      [](size_t) { return Req(); },
      [](std::vector<absl::Status>& st, std::vector<Resp>& resp) -> Result {
        AUGUR_RETURN_IF_ERROR(FirstError(st));
        std::vector<TableSpec> tables;
        for (const auto& t : resp[0].tables()) {
          AUGUR_ASSIGN_OR_RETURN(TableSpec spec, FromProto(t));
          tables.push_back(std::move(spec));
        }
        for (size_t s = 1; s < resp.size(); ++s)
          if (resp[s].SerializeAsString() != resp[0].SerializeAsString())
            return absl::InternalError("shard " + std::to_string(s) +
                                       " lists different tables than shard 0");
        return tables;
      });
}

std::future<absl::Status> ShardClient::DropTable(uint32_t table_id) {
  using Req = v1::DropTableRequest;
  using Resp = v1::DropTableResponse;
  return ToAll<Req, Resp, absl::Status>(
      shared_.get(),
      [](v1::ShardService::Stub* stub, grpc::ClientContext* ctx, const Req& r,
         grpc::CompletionQueue* cq) { return stub->AsyncDropTable(ctx, r, cq); },
      [table_id](size_t) {
        Req r;
        r.set_table_id(table_id);
        return r;
      },
      [](std::vector<absl::Status>& st, std::vector<Resp>&) { return FirstError(st); });
}

std::future<absl::Status> ShardClient::Checkpoint(const std::string& dir, bool replace) {
  using Req = v1::CheckpointRequest;
  using Resp = v1::CheckpointResponse;
  return ToAll<Req, Resp, absl::Status>(
      shared_.get(),
      [](v1::ShardService::Stub* stub, grpc::ClientContext* ctx, const Req& r,
         grpc::CompletionQueue* cq) { return stub->AsyncCheckpoint(ctx, r, cq); },
      [dir, replace](size_t s) {
        Req r;
        r.set_dir(dir + "/shard-" + std::to_string(s));
        r.set_replace(replace);
        return r;
      },
      [](std::vector<absl::Status>& st, std::vector<Resp>&) { return FirstError(st); });
}

std::future<absl::Status> ShardClient::Restore(const std::string& dir) {
  using Req = v1::RestoreRequest;
  using Resp = v1::RestoreResponse;
  return ToAll<Req, Resp, absl::Status>(
      shared_.get(),
      [](v1::ShardService::Stub* stub, grpc::ClientContext* ctx, const Req& r,
         grpc::CompletionQueue* cq) { return stub->AsyncRestore(ctx, r, cq); },
      [dir](size_t s) {
        Req r;
        r.set_dir(dir + "/shard-" + std::to_string(s));
        return r;
      },
      [](std::vector<absl::Status>& st, std::vector<Resp>&) { return FirstError(st); });
}

std::future<absl::StatusOr<bool>> ShardClient::DropJob() {
  using Req = v1::DropJobRequest;
  using Resp = v1::DropJobResponse;
  return ToAll<Req, Resp, absl::StatusOr<bool>>(
      shared_.get(),
      [](v1::ShardService::Stub* stub, grpc::ClientContext* ctx, const Req& r,
         grpc::CompletionQueue* cq) { return stub->AsyncDropJob(ctx, r, cq); },
      [](size_t) { return Req(); },  // FanOut names the job
      [](std::vector<absl::Status>& st, std::vector<Resp>& resp) -> absl::StatusOr<bool> {
        AUGUR_RETURN_IF_ERROR(FirstError(st));
        bool existed = false;
        for (const auto& r : resp) existed = existed || r.existed();
        return existed;
      });
}

}  // namespace augur::shard
