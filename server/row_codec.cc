// Table records: a format byte, then fixed-width fields, then the name. Fixed widths keep the
// decoder trivial and the format byte lets a later layout coexist with this one.
#include "server/row_codec.h"

#include <cstdio>

namespace augur::shard {
namespace {

constexpr uint8_t kTableRecordFormat = 1;

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

template <typename T>
bool Get(std::string_view& in, T* v) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(v, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

}  // namespace

std::string TableMetaKey(uint32_t table_id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%010u", table_id);  // zero-padded: scans list by id
  return std::string(kTableMetaPrefix) + buf;
}

std::string EncodeTableSpec(const TableSpec& s) {
  std::string out;
  Put<uint8_t>(out, kTableRecordFormat);
  Put(out, s.id);
  Put(out, s.rows);
  Put(out, s.dim);
  Put(out, s.init_lo);
  Put(out, s.init_hi);
  Put(out, s.seed);
  Put(out, static_cast<uint8_t>(s.optimizer.kind));
  Put(out, s.optimizer.lr);
  Put(out, s.optimizer.eps);
  Put(out, s.optimizer.beta1);
  Put(out, s.optimizer.beta2);
  Put(out, s.optimizer.initial_accumulator);
  Put(out, static_cast<uint32_t>(s.name.size()));
  out += s.name;
  return out;
}

absl::StatusOr<TableSpec> DecodeTableSpec(std::string_view in) {
  TableSpec s;
  uint8_t format = 0, kind = 0;
  uint32_t name_len = 0;
  bool ok = Get(in, &format) && format == kTableRecordFormat && Get(in, &s.id) &&
            Get(in, &s.rows) && Get(in, &s.dim) && Get(in, &s.init_lo) && Get(in, &s.init_hi) &&
            Get(in, &s.seed) && Get(in, &kind) && kind <= 2 && Get(in, &s.optimizer.lr) &&
            Get(in, &s.optimizer.eps) && Get(in, &s.optimizer.beta1) &&
            Get(in, &s.optimizer.beta2) && Get(in, &s.optimizer.initial_accumulator) &&
            Get(in, &name_len) && in.size() == name_len;
  if (!ok) return absl::DataLossError("corrupt table record in the shard registry");
  s.optimizer.kind = static_cast<OptimizerKind>(kind);
  s.name = std::string(in);
  return s;
}

}  // namespace augur::shard
