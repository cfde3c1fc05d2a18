// The on-disk layout of rows and registry records (no RocksDB here, so tests can check it).
//
// Row key   = table_id (4 bytes, big-endian) ++ row (8 bytes, big-endian): the bytewise
//             comparator then keeps every table's rows contiguous and ordered by row, so a
//             DeleteRange drops a table and sequential row ids are sequential on disk.
// Row value = RowFloats() float32 (value then optimizer state) ++ int64 version, native
//             little-endian (the byte order every supported host and the wire use).
// Table record = a small versioned binary encoding of TableSpec (meta column family).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/table_spec.h"

namespace augur::shard {

inline constexpr size_t kRowKeyBytes = 12;

inline void EncodeRowKey(uint32_t table, uint64_t row, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(table >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i) out[4 + i] = static_cast<char>(row >> (56 - 8 * i));
}

inline std::string RowKey(uint32_t table, uint64_t row) {
  std::string k(kRowKeyBytes, '\0');
  EncodeRowKey(table, row, k.data());
  return k;
}

inline std::string EncodeRowValue(std::span<const float> record, int64_t version) {
  std::string v(record.size_bytes() + sizeof(int64_t), '\0');
  if (!record.empty()) std::memcpy(v.data(), record.data(), record.size_bytes());
  std::memcpy(v.data() + record.size_bytes(), &version, sizeof(version));
  return v;
}

// Copies a stored value into `record` (row_floats floats) and `version`. DATA_LOSS when the
// stored size does not match the table's row size (a corrupt or foreign value).
inline absl::Status DecodeRowValue(std::string_view v, std::span<float> record,
                                   int64_t* version) {
  if (v.size() != record.size_bytes() + sizeof(int64_t))
    return absl::DataLossError("stored row has " + std::to_string(v.size()) +
                               " bytes, expected " +
                               std::to_string(record.size_bytes() + sizeof(int64_t)));
  std::memcpy(record.data(), v.data(), record.size_bytes());
  std::memcpy(version, v.data() + record.size_bytes(), sizeof(int64_t));
  return absl::OkStatus();
}

// Registry records live in the meta column family under these keys.
std::string TableMetaKey(uint32_t table_id);
inline constexpr std::string_view kTableMetaPrefix = "table/";
// The last iteration whose gradients were applied (ApplyGradients), persisted with the rows.
inline constexpr std::string_view kAppliedIterationKey = "applied_iteration";

std::string EncodeTableSpec(const TableSpec& spec);
// DATA_LOSS when the bytes are not a table record written by EncodeTableSpec.
absl::StatusOr<TableSpec> DecodeTableSpec(std::string_view bytes);

}  // namespace augur::shard
