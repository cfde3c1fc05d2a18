#include "server/table_registry.h"

#include "common/status.h"
#include "server/row_codec.h"

namespace augur::shard {

absl::StatusOr<std::unique_ptr<TableRegistry>> TableRegistry::Load(ShardStore* store) {
  std::unique_ptr<TableRegistry> reg(new TableRegistry(store));
  AUGUR_ASSIGN_OR_RETURN(auto records, store->ScanMeta(kTableMetaPrefix));
  absl::MutexLock lock(&reg->mu_);
  for (const auto& [key, value] : records) {
    AUGUR_ASSIGN_OR_RETURN(TableSpec spec, DecodeTableSpec(value));
    reg->tables_[spec.id] = std::move(spec);
  }
  return reg;
}

absl::StatusOr<bool> TableRegistry::Create(const TableSpec& spec) {
  AUGUR_RETURN_IF_ERROR(ValidateTableSpec(spec));
  absl::MutexLock lock(&mu_);
  auto it = tables_.find(spec.id);
  if (it != tables_.end()) {
    if (it->second == spec) return false;
    return absl::AlreadyExistsError("table id " + std::to_string(spec.id) + " already holds '" +
                                    it->second.name + "' with a different spec");
  }
  StoreBatch batch;
  // A table id may be reused after a drop; clear any rows a crash could have left behind.
  batch.DeleteTableRows(spec.id);
  batch.PutMeta(TableMetaKey(spec.id), EncodeTableSpec(spec));
  AUGUR_RETURN_IF_ERROR(store_->Commit(batch));
  tables_[spec.id] = spec;
  return true;
}

absl::Status TableRegistry::Drop(uint32_t table_id) {
  absl::MutexLock lock(&mu_);
  if (!tables_.count(table_id))
    return absl::NotFoundError("no table with id " + std::to_string(table_id));
  StoreBatch batch;
  batch.DeleteTableRows(table_id);
  batch.DeleteMeta(TableMetaKey(table_id));
  AUGUR_RETURN_IF_ERROR(store_->Commit(batch));
  tables_.erase(table_id);
  return absl::OkStatus();
}

absl::StatusOr<TableSpec> TableRegistry::Get(uint32_t table_id) const {
  absl::MutexLock lock(&mu_);
  auto it = tables_.find(table_id);
  if (it == tables_.end()) return absl::NotFoundError("no table with id " + std::to_string(table_id));
  return it->second;
}

std::vector<TableSpec> TableRegistry::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<TableSpec> out;
  for (const auto& [id, spec] : tables_) out.push_back(spec);
  return out;
}

}  // namespace augur::shard
