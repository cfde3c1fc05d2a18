// ShardClient: the one way workers, the oracle and tools talk to the embedding shards.
//
// It knows every shard's endpoint (index in the list = shard index) and places rows with
// ShardOf(table, row, num_shards) from common/table_spec.h, so callers pass whole batches in
// their own order and get results back in that order. Each operation sends its requests to all
// shards in parallel (bulk ones cut into several per shard, see flow control below) and
// completes a std::future once every shard answered.
//
// Data is plain structs (server/row_block.h), never protobuf. What a RowBlock's fields mean
// depends on the operation (documented on each method). Float payloads are row-major.
//
// Deadlines and retries: every RPC carries options.rpc_deadline. A Lookup shard request that
// fails with ABORTED (a row is older than the requested minimum version: the write it waits for
// is still in flight) is retried with exponential backoff (initial_backoff doubling up to
// max_backoff) for at most options.version_wait; then ABORTED is returned. Nothing else is
// retried: a shard-side rejection changes nothing on that shard, so the caller may retry.
//
// Errors: a result's status is the first failing shard's (lowest index), its message prefixed
// with the shard index and endpoint; codes are the shard's (see server/shard_core.h):
// NOT_FOUND unknown table, OUT_OF_RANGE row >= rows, INVALID_ARGUMENT malformed input (also
// detected here before sending), RESOURCE_EXHAUSTED too many rows for one shard request,
// ABORTED version wait exhausted, FAILED_PRECONDITION stale write / iteration already applied,
// DEADLINE_EXCEEDED / UNAVAILABLE shard slow or down. Multi-shard Write, ApplyGradients,
// CreateTable and DropTable are atomic per shard, not across shards.
//
// Flow control: see ShardClientOptions::max_rpc_bytes. ApplyGradients pushes are one request
// per shard (a shard counts one push per worker and iteration); they take their turn on the
// link like the rest, and the shard bounds their size (max_request_rows).
//
// Thread-safety: all methods may be called concurrently from any thread. Futures may be waited
// on from any thread. Results are assembled on the client's own completion thread (one per
// client), so one client's throughput is bounded by that thread; use several clients for more.
// Destroying the client with operations in flight is allowed: pending version-wait retries
// complete with CANCELLED, and the destructor blocks until in-flight RPCs have completed their
// futures (at most rpc_deadline).
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/table_spec.h"
#include "server/row_block.h"

namespace grpc {
class Channel;
class ChannelCredentials;
}

namespace augur::shard {

struct ShardClientOptions {
  // The job whose tables every request addresses (its own namespace on every shard; see
  // proto/shard.proto). Empty: the shards' default namespace.
  std::string job;
  // Channel credentials for Connect (common/grpc_security.h); null: plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::chrono::milliseconds rpc_deadline{10000};  // per RPC attempt, from when it is sent
  // Flow control, so no size of batch, cache or link meets a deadline or a message limit: bulk
  // operations (Lookup, Write, ScanRows pages) are cut into requests of about max_rpc_bytes
  // (request plus expected answer), and each direction of each shard's link carries at most
  // max_inflight_bytes of this client's requests at once (writes and gradients count to the
  // shard, lookup answers and scan pages from it, so write-backs never hold fills back); the
  // rest wait in the client, in issue order per direction, before their deadline starts. A
  // request's deadline then covers at most max_inflight_bytes on the link: keep it under
  // rpc_deadline x the slowest link's rate (1 MiB: 8.4 s at 1 Mbit/s), divided by the clients
  // sharing that link.
  size_t max_rpc_bytes = size_t{256} << 10;
  size_t max_inflight_bytes = size_t{1} << 20;
  std::chrono::milliseconds version_wait{5000};   // total ABORTED retry time per Lookup; 0: none
  std::chrono::microseconds initial_backoff{200};
  std::chrono::microseconds max_backoff{20000};
};

class ShardClient {
 public:
  // endpoints[i] is "host:port" of shard i. INVALID_ARGUMENT when the list is empty.
  // Connections are made lazily; an unreachable shard surfaces as UNAVAILABLE or
  // DEADLINE_EXCEEDED on the first operation that needs it.
  static absl::StatusOr<std::unique_ptr<ShardClient>> Connect(
      const std::vector<std::string>& endpoints, const ShardClientOptions& options = {});
  // Same over ready-made channels (e.g. grpc::Server::InProcessChannel in tests).
  static absl::StatusOr<std::unique_ptr<ShardClient>> FromChannels(
      std::vector<std::shared_ptr<grpc::Channel>> channels,
      const ShardClientOptions& options = {});
  ~ShardClient();
  ShardClient(const ShardClient&) = delete;
  ShardClient& operator=(const ShardClient&) = delete;

  uint32_t num_shards() const;

  // Request blocks: table_id, rows (any order, duplicates allowed, any shard), versions =
  // per-row minimum versions or empty. Result: one block per request block, same rows in the
  // same order; values rows x dim floats (rows x RowFloats() with with_state: value then
  // optimizer state); versions the stored versions (0 = never written, deterministic init).
  // `row_floats`: the floats each answered row will hold, when the caller knows them; they size
  // the requests (max_rpc_bytes). 0: what earlier answers of the table showed (128 before any).
  std::future<absl::StatusOr<std::vector<RowBlock>>> Lookup(std::vector<RowBlock> blocks,
                                                            bool with_state = false,
                                                            size_t row_floats = 0);

  // Write-back: values rows x RowFloats() (value then optimizer state), versions the new
  // versions. A version older than the stored one fails that shard's request. A large write is
  // sent as several requests (max_rpc_bytes), each atomic on its shard: after a failure some
  // of its rows may be stored, all at the versions given, so writing the same blocks again is
  // safe.
  std::future<absl::Status> Write(std::vector<RowBlock> blocks);

  // Pushes worker `worker`'s gradients (values rows x dim) of `iteration`; every shard gets a
  // push, empty if it owns none of the rows, because each shard applies an iteration once all
  // num_workers pushes arrived. Result: true when this push completed the iteration on every
  // shard (it was the last worker to push everywhere).
  std::future<absl::StatusOr<bool>> ApplyGradients(std::vector<RowBlock> blocks,
                                                   int64_t iteration, uint32_t worker,
                                                   uint32_t num_workers);

  // Registry operations on every shard. CreateTable: true when any shard created it (false:
  // all already had it). ListTables: shard 0's list; INTERNAL when shards disagree.
  std::future<absl::StatusOr<bool>> CreateTable(const TableSpec& spec);
  std::future<absl::StatusOr<std::vector<TableSpec>>> ListTables();
  std::future<absl::Status> DropTable(uint32_t table_id);

  // Every row of `table_id` that was ever written, from every shard, in ascending row order:
  // rows, values rows x dim (rows x RowFloats() with with_state) and versions. Rows never
  // written hold their deterministic init (common/table_spec.h InitialRowRecord) and are not
  // returned. Each shard is paged through with page_rows rows per RPC, all shards in parallel.
  // NOT_FOUND for an unknown table. Not a snapshot across pages: run it when no job writes.
  std::future<absl::StatusOr<RowBlock>> ScanRows(uint32_t table_id, bool with_state = false,
                                                 uint32_t page_rows = 65536);

  // Shard i writes its checkpoint of the job's tables to `dir`/shard-<i> (paths on the shard's
  // machine). `replace`: an earlier checkpoint there is replaced (proto/shard.proto).
  std::future<absl::Status> Checkpoint(const std::string& dir, bool replace = false);
  // Shard i rolls the job's tables back to its checkpoint in `dir`/shard-<i>: the cut
  // Checkpoint(dir) took, on every shard. NOT_FOUND when a shard has none there.
  std::future<absl::Status> Restore(const std::string& dir);

  // Deletes every table of options.job on every shard and gives their disk space back.
  // Idempotent. Result: true when any shard held something of the job. INVALID_ARGUMENT for
  // the default namespace (an empty options.job).
  std::future<absl::StatusOr<bool>> DropJob();

  struct Shared;  // implementation state, borrowed by in-flight operations

 private:
  explicit ShardClient(std::unique_ptr<Shared> shared);
  std::unique_ptr<Shared> shared_;
};

}  // namespace augur::shard
