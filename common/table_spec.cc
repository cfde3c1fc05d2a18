#include "common/table_spec.h"

#include <cmath>

#include "common/limits.h"
#include "common/rng.h"
#include "common/status.h"

namespace augur {

bool TableSpec::operator==(const TableSpec& o) const {
  const auto& a = optimizer;
  const auto& b = o.optimizer;
  return id == o.id && name == o.name && rows == o.rows && dim == o.dim &&
         init_lo == o.init_lo && init_hi == o.init_hi && seed == o.seed && a.kind == b.kind &&
         a.lr == b.lr && a.eps == b.eps && a.beta1 == b.beta1 && a.beta2 == b.beta2 &&
         a.initial_accumulator == b.initial_accumulator;
}

absl::Status ValidateTableSpec(const TableSpec& s) {
  // The name is checked first: every later message quotes it.
  if (s.name.empty()) return absl::InvalidArgumentError("table name must not be empty");
  AUGUR_RETURN_IF_ERROR(CheckLength("table name", s.name, kMaxNameBytes));
  const std::string where = "table " + Echo(s.name) + ": ";
  if (s.rows == 0 || s.rows > kMaxTableRows)
    return absl::InvalidArgumentError(where + "rows must be in 1..2^40");
  if (s.dim == 0 || s.dim > kMaxTableDim)
    return absl::InvalidArgumentError(where + "dim must be in 1..4096");
  // Never-written rows are uniform in [init_lo, init_hi): an empty or infinite range would make
  // them all one value or +-inf.
  if (!std::isfinite(s.init_lo) || !std::isfinite(s.init_hi) || !(s.init_lo < s.init_hi))
    return absl::InvalidArgumentError(where + "init_lo and init_hi must be finite with init_lo < init_hi");
  auto st = ValidateOptimizerConfig(s.optimizer);
  if (!st.ok()) return absl::InvalidArgumentError(where + std::string(st.message()));
  return absl::OkStatus();
}

uint32_t ShardOf(uint32_t table, uint64_t row, uint32_t num_shards) {
  // splitmix64 finalizer over (table, row); rows < 2^40 keep the key injective.
  uint64_t z = (static_cast<uint64_t>(table) << 40) ^ row;
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<uint32_t>(z % num_shards);
}

void InitialRowRecord(const TableSpec& spec, uint64_t row, float* out) {
  InitRow(spec.seed, spec.id, row, static_cast<int>(spec.dim), spec.init_lo, spec.init_hi, out);
  InitRowState(spec.optimizer, static_cast<int>(spec.dim), out + spec.dim);
}

}  // namespace augur
