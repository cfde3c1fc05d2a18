// RowBlock: rows of one table as plain arrays — the unit every shard operation works on, shared
// by the shard core, its gRPC adapter and ShardClient. It mirrors proto RowBlock without the
// packing, so nothing above the wire needs protobuf (STYLE.md item 3).
//
// What `values` and `versions` mean depends on the operation (see shard_core.h / shard_client.h):
//   Lookup request   rows; versions = per-row minimum versions, or empty for "any version"
//   Lookup result    rows; values = rows x (dim or RowFloats()); versions = stored versions
//   Write            rows; values = rows x RowFloats() (value then optimizer state); versions
//   ApplyGradients   rows; values = rows x dim gradients; versions unused
#pragma once

#include <cstdint>
#include <vector>

namespace augur::shard {

struct RowBlock {
  uint32_t table_id = 0;
  std::vector<uint64_t> rows;
  std::vector<float> values;
  std::vector<int64_t> versions;
};

}  // namespace augur::shard
