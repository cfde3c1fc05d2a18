// ShardCore: everything one embedding shard does, on plain structs, with no gRPC — the table
// registry, lazy deterministic init, batched lookup, versioned write-back, the server-side
// optimizer (synchronous parameter-server path) and checkpoints. The gRPC service is a thin
// adapter over it; tests drive it directly.
//
// Rows: row r of table t belongs to this shard iff ShardOf(t, r, num_shards) == shard_index.
// A row never written reads as InitialRowRecord(spec, r) with version 0 and is not stored.
// Versions are 1 + the last iteration that updated the row.
//
// Errors (a rejected request changes nothing):
//   NOT_FOUND           unknown table
//   OUT_OF_RANGE        row >= table rows
//   OUT_OF_RANGE        a version above kMaxVersion, an iteration above kMaxIteration
//                       (common/limits.h)
//   INVALID_ARGUMENT    row not owned by this shard; payload size != rows x floats; versions
//                       count != rows; a negative version or iteration; a NaN or inf value
//                       or gradient; bad worker /
//                       num_workers (1..kMaxWorkers); bad table spec
//   RESOURCE_EXHAUSTED  more than max_request_rows rows in one request; ApplyGradients would
//                       buffer more than max_pending_iterations / max_pending_bytes
//   ABORTED             Lookup: a row is older than its requested minimum version (retry)
//   FAILED_PRECONDITION Write: version older than the stored one; ApplyGradients: iteration
//                       already applied, duplicate push of a worker, or a row stored at a
//                       version newer than the iteration (it would move backwards)
//   ALREADY_EXISTS      CreateTable: another spec holds the id
//   DATA_LOSS / UNAVAILABLE / INTERNAL  storage failures
//
// Thread-safety: every method may be called concurrently. Mutations (Write, ApplyGradients,
// CreateTable, DropTable) are serialized by one lock so version checks and their commit are
// atomic; lookups take no lock. No method ever waits for another request to arrive.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/table_spec.h"
#include "server/row_block.h"
#include "server/shard_store.h"
#include "server/table_registry.h"

namespace augur {
class Counter;
class MetricsRegistry;
}  // namespace augur

namespace augur::shard {

struct ShardCoreOptions {
  uint32_t shard_index = 0;
  uint32_t num_shards = 1;
  uint64_t max_request_rows = uint64_t{1} << 20;  // per request, summed over blocks
  // ApplyGradients with num_workers > 1 buffers pushes until an iteration is complete: at most
  // this many incomplete iterations, holding at most this many bytes of rows and gradients.
  size_t max_pending_iterations = 16;
  size_t max_pending_bytes = size_t{512} << 20;
  // Optional: rows read/written counters and the block-cache hit/miss collector. It may
  // outlive the core (the collector then reports nothing new).
  MetricsRegistry* metrics = nullptr;
};

class ShardCore {
 public:
  // Takes ownership of the store; loads the registry and the last applied iteration.
  // INVALID_ARGUMENT when shard_index >= num_shards or num_shards == 0.
  static absl::StatusOr<std::unique_ptr<ShardCore>> Open(std::unique_ptr<ShardStore> store,
                                                         const ShardCoreOptions& options);
  ~ShardCore();

  absl::StatusOr<bool> CreateTable(const TableSpec& spec);  // see TableRegistry::Create
  std::vector<TableSpec> ListTables() const;
  absl::Status DropTable(uint32_t table_id);  // deletes its rows too

  // One result block per request block, in order: values rows x dim floats, or
  // rows x RowFloats() with `with_state`; versions the stored versions (0 = never written).
  // Request blocks carry rows and optionally per-row minimum versions (empty = none).
  absl::StatusOr<std::vector<RowBlock>> Lookup(const std::vector<RowBlock>& blocks,
                                               bool with_state) const;

  // Write-back: values rows x RowFloats(), versions the new versions (>= 0). One atomic commit.
  // A duplicate row in one request: the later occurrence wins and must not be older.
  absl::Status Write(const std::vector<RowBlock>& blocks);

  // Gradients (values rows x dim) of the mean loss. Duplicate rows of one push are summed in
  // request order; with num_workers > 1 the push is buffered until all num_workers pushes of
  // `iteration` arrived, then per-row sums are added in worker order 0, 1, ... and the optimizer
  // (common/optimizer.h ApplyRowUpdate) runs once per row; updated rows get version
  // iteration + 1. Returns true when this push completed (and applied) the iteration.
  // Buffered pushes live in memory only: a restart or a checkpoint loses them.
  absl::StatusOr<bool> ApplyGradients(const std::vector<RowBlock>& blocks, int64_t iteration,
                                      uint32_t worker, uint32_t num_workers);

  // Rows of `table_id` this shard has stored — every row ever written; never-written rows read
  // as their init and are not returned — in row order from `start_row`, at most `limit`
  // (0, or more than max_request_rows: max_request_rows; fewer when the page would pass
  // kShardMaxScanPageBytes, common/limits.h). values are rows x dim floats, or
  // rows x RowFloats() with `with_state`; versions the stored versions. NOT_FOUND: unknown table.
  struct ScanResult {
    RowBlock block;
    bool more = false;      // stored rows remain: scan again from next_row
    uint64_t next_row = 0;  // last returned row + 1 (start_row when none was returned)
  };
  absl::StatusOr<ScanResult> ScanRows(uint32_t table_id, uint64_t start_row, uint64_t limit,
                                      bool with_state) const;

  // A consistent copy of the shard's store in `dir` (must not exist, unless `replace` and it
  // holds an earlier checkpoint: ShardStore::Checkpoint).
  absl::Status Checkpoint(const std::string& dir, bool replace = false);

  // The last iteration ApplyGradients applied, -1 if none.
  int64_t applied_iteration() const;
  const ShardCoreOptions& options() const { return options_; }
  ShardStore* store() const { return store_.get(); }

 private:
  enum class Payload { kNone, kRecords, kGradients };
  ShardCore(std::unique_ptr<ShardStore> store, const ShardCoreOptions& options);

  // Checks every block against the registry and this shard; returns the spec of each block.
  absl::StatusOr<std::vector<TableSpec>> Validate(const std::vector<RowBlock>& blocks,
                                                  Payload payload, bool versions_required) const;
  // Reads full records (stored or lazily initialised) and versions of `rows`.
  absl::Status ReadRecords(const TableSpec& spec, const std::vector<uint64_t>& rows,
                           std::vector<float>& records, std::vector<int64_t>& versions) const;
  // Sums the pushes (worker order), applies the optimizer and commits with the iteration.
  absl::Status ApplyIteration(int64_t iteration,
                              const std::vector<std::vector<RowBlock>>& pushes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  struct PendingIteration {
    uint32_t num_workers = 0;
    uint32_t received = 0;
    size_t bytes = 0;  // rows and gradients buffered for it
    std::vector<std::optional<std::vector<RowBlock>>> pushes;  // by worker
  };

  const ShardCoreOptions options_;
  std::unique_ptr<ShardStore> store_;
  std::unique_ptr<TableRegistry> registry_;
  Counter* rows_read_ = nullptr;
  Counter* rows_written_ = nullptr;
  // Lets the metrics collector outlive the core safely: the core clears it on destruction.
  struct StatsLink;
  std::shared_ptr<StatsLink> stats_link_;
  static void RegisterBlockCacheCollector(MetricsRegistry* m, std::shared_ptr<StatsLink> link);

  mutable absl::Mutex write_mu_;
  int64_t applied_iteration_ ABSL_GUARDED_BY(write_mu_) = -1;
  std::map<int64_t, PendingIteration> pending_ ABSL_GUARDED_BY(write_mu_);
  size_t pending_bytes_ ABSL_GUARDED_BY(write_mu_) = 0;
};

}  // namespace augur::shard
