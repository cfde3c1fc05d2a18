// Profile names and StoreBatch: the storage-independent half of shard_store.h.
#include "server/shard_store.h"

#include "server/row_codec.h"

namespace augur::shard {

absl::StatusOr<StoreProfile> ParseStoreProfile(std::string_view name) {
  if (name == "memory") return StoreProfile::kMemory;
  if (name == "ssd") return StoreProfile::kSsd;
  if (name == "pmem") return StoreProfile::kPmem;
  return absl::InvalidArgumentError("unknown storage profile '" + std::string(name) +
                                    "' (memory | ssd | pmem)");
}

std::string_view StoreProfileName(StoreProfile p) {
  switch (p) {
    case StoreProfile::kMemory: return "memory";
    case StoreProfile::kSsd: return "ssd";
    case StoreProfile::kPmem: return "pmem";
  }
  return "?";
}

ProfileMemory DefaultProfileMemory(StoreProfile p) {
  switch (p) {
    case StoreProfile::kMemory: return {16, 64};
    case StoreProfile::kSsd: return {256, 256};
    case StoreProfile::kPmem: return {0, 256};
  }
  return {256, 256};
}

void StoreBatch::PutRow(uint32_t table, uint64_t row, std::span<const float> record,
                        int64_t version) {
  ops_.push_back({OpKind::kPutRow, RowKey(table, row), EncodeRowValue(record, version), table});
  ++rows_put_;
}

void StoreBatch::DeleteTableRows(uint32_t table) {
  ops_.push_back({OpKind::kDeleteTableRows, {}, {}, table});
}

void StoreBatch::PutMeta(std::string key, std::string value) {
  ops_.push_back({OpKind::kPutMeta, std::move(key), std::move(value)});
}

void StoreBatch::DeleteMeta(std::string key) {
  ops_.push_back({OpKind::kDeleteMeta, std::move(key), {}});
}

}  // namespace augur::shard
