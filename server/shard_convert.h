// The one place generated shard protos meet augur's plain structs (STYLE.md item 3). Used by the
// gRPC adapter (shard_service.cc) and ShardClient's implementation only; never include it from a
// public header.
//
// Packed fields are little-endian arrays (uint64 rows, float32 values, int64 versions); a byte
// length that is not a multiple of the element size is INVALID_ARGUMENT.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "common/table_spec.h"
#include "proto/shard.pb.h"
#include "server/row_block.h"

namespace augur::shard {

namespace pb = ::augur::shard::v1;

absl::StatusOr<RowBlock> FromProto(const pb::RowBlock& in);
absl::StatusOr<std::vector<RowBlock>> FromProto(
    const google::protobuf::RepeatedPtrField<pb::RowBlock>& in);
void ToProto(const RowBlock& in, pb::RowBlock* out);

// INVALID_ARGUMENT for an unknown optimizer kind (the spec itself is validated by the core).
absl::StatusOr<TableSpec> FromProto(const pb::TableSpec& in);
void ToProto(const TableSpec& in, pb::TableSpec* out);

}  // namespace augur::shard
