// An embedding table as every process sees it, and where its rows live.
//
// Row r of table t lives on shard ShardOf(t, r, N): one function used by every client, so the
// shard servers, workers and the oracle agree on placement without talking.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/optimizer.h"

namespace augur {

inline constexpr uint64_t kMaxTableRows = uint64_t{1} << 40;
inline constexpr uint32_t kMaxTableDim = 4096;

struct TableSpec {
  uint32_t id = 0;
  std::string name;
  uint64_t rows = 0;  // 1 .. 2^40
  uint32_t dim = 0;   // 1 .. kMaxTableDim
  float init_lo = -0.05f;  // a never-written row is uniform in [init_lo, init_hi)
  float init_hi = 0.05f;
  uint64_t seed = 0;  // job seed for lazy deterministic init
  OptimizerConfig optimizer;

  // Floats per stored row: value then optimizer state.
  int RowFloats() const { return static_cast<int>(dim) + StateFloats(optimizer.kind, dim); }
  bool operator==(const TableSpec& o) const;
};

// INVALID_ARGUMENT naming the field when the spec is unusable.
absl::Status ValidateTableSpec(const TableSpec& spec);

// The shard that owns (table, row) among `num_shards` (> 0).
uint32_t ShardOf(uint32_t table, uint64_t row, uint32_t num_shards);

// The initial stored record of a row never written: value from the RNG, state from the
// optimizer's InitRowState. `out` holds spec.RowFloats() floats.
void InitialRowRecord(const TableSpec& spec, uint64_t row, float* out);

}  // namespace augur
