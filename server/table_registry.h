// TableRegistry: the tables this shard holds, cached in memory and persisted in the store's
// meta keyspace so a restarted (or checkpoint-seeded) shard knows its tables.
//
// Thread-safety: all methods are safe to call concurrently; Create and Drop are serialized and
// their store commit happens under the registry lock, so readers never see a table that is not
// durable.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/table_spec.h"
#include "server/shard_store.h"

namespace augur::shard {

class TableRegistry {
 public:
  // Loads the persisted registry. DATA_LOSS when a record is corrupt. `store` must outlive it.
  static absl::StatusOr<std::unique_ptr<TableRegistry>> Load(ShardStore* store);

  // true: created; false: an identical spec already existed (idempotent re-create).
  // INVALID_ARGUMENT: the spec fails ValidateTableSpec. ALREADY_EXISTS: another spec has this id.
  absl::StatusOr<bool> Create(const TableSpec& spec) ABSL_LOCKS_EXCLUDED(mu_);
  // Deletes the table's record and every stored row in one atomic commit. NOT_FOUND if unknown.
  absl::Status Drop(uint32_t table_id) ABSL_LOCKS_EXCLUDED(mu_);
  // NOT_FOUND when the table does not exist.
  absl::StatusOr<TableSpec> Get(uint32_t table_id) const ABSL_LOCKS_EXCLUDED(mu_);
  // Every table, ordered by id.
  std::vector<TableSpec> List() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit TableRegistry(ShardStore* store) : store_(store) {}

  ShardStore* const store_;
  mutable absl::Mutex mu_;
  std::map<uint32_t, TableSpec> tables_ ABSL_GUARDED_BY(mu_);
};

}  // namespace augur::shard
