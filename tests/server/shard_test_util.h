// Shared helpers for the shard tests: table specs, in-memory cores, rows owned by a shard.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/table_spec.h"
#include "server/shard_core.h"
#include "server/shard_store.h"

namespace augur::shard::testing {

inline TableSpec MakeSpec(uint32_t id, uint64_t rows = 1000, uint32_t dim = 4,
                          OptimizerKind kind = OptimizerKind::kSgd) {
  TableSpec s;
  s.id = id;
  s.name = "t" + std::to_string(id);
  s.rows = rows;
  s.dim = dim;
  s.seed = 42;
  s.optimizer.kind = kind;
  s.optimizer.lr = 0.1f;
  return s;
}

inline std::unique_ptr<ShardStore> OpenMemoryStore(const std::string& path = "/shard") {
  StoreOptions o;
  o.profile = StoreProfile::kMemory;
  o.path = path;
  o.block_cache_mb = 8;
  auto s = ShardStore::Open(o);
  if (!s.ok()) throw std::runtime_error(s.status().ToString());
  return std::move(s).value();
}

inline std::unique_ptr<ShardCore> OpenMemoryCore(uint32_t shard_index = 0,
                                                 uint32_t num_shards = 1,
                                                 uint64_t max_rows = uint64_t{1} << 20) {
  ShardCoreOptions o;
  o.shard_index = shard_index;
  o.num_shards = num_shards;
  o.max_request_rows = max_rows;
  auto c = ShardCore::Open(OpenMemoryStore(), o);
  if (!c.ok()) throw std::runtime_error(c.status().ToString());
  return std::move(c).value();
}

// The first `count` rows of `table` that ShardOf places on `shard`.
inline std::vector<uint64_t> RowsOfShard(uint32_t table, uint32_t shard, uint32_t num_shards,
                                         size_t count, uint64_t start = 0) {
  std::vector<uint64_t> rows;
  for (uint64_t r = start; rows.size() < count; ++r)
    if (ShardOf(table, r, num_shards) == shard) rows.push_back(r);
  return rows;
}

inline std::vector<float> InitialRecord(const TableSpec& spec, uint64_t row) {
  std::vector<float> rec(spec.RowFloats());
  InitialRowRecord(spec, row, rec.data());
  return rec;
}

}  // namespace augur::shard::testing
