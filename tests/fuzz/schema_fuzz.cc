// libFuzzer target: schema files and the lines a schema parses (common/data/schema.h). The
// first byte picks which: a schema YAML (an accepted one must have a valid layout), or a line
// parsed by a fixed schema with every column kind and encoding, by position and through a
// header (an accepted row must fit the layout: one dense value per dense feature, one count per
// sparse feature, counts adding up to the ids, one id per one-hot feature, finite dense values).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/data/schema.h"

namespace {

using namespace augur::data;

const Schema& FixedSchema() {
  static const Schema s = [] {
    auto p = ParseSchema(R"(
separator: ","
header: auto
columns:
  - {name: id, type: ignore}
  - {name: y, type: label}
  - {name: a, type: dense}
  - {name: b, type: dense, transform: clip, min: -1, max: 1}
  - {name: c, type: dense, transform: none}
  - {name: h, type: sparse, encoding: yymmddhh}
  - {name: x, type: sparse, encoding: hex}
  - {name: n, type: sparse, encoding: int}
  - {name: s, type: sparse}
  - {name: tags, type: multi_hot, separator: "|", encoding: hex}
  - {name: words, type: multi_hot, separator: " ", pooling: mean}
)", "fixed");
    if (!p.ok()) __builtin_trap();
    return *p;
  }();
  return s;
}

void CheckRow(const Schema& s, const RawRow& row) {
  const FeatureLayout l = s.layout();
  if (row.dense.size() != l.dense.size() || row.lengths.size() != l.sparse.size()) __builtin_trap();
  size_t total = 0;
  for (size_t f = 0; f < l.sparse.size(); ++f) {
    if (!l.sparse[f].multi_hot && row.lengths[f] != 1) __builtin_trap();
    total += row.lengths[f];
  }
  if (total != row.ids.size()) __builtin_trap();
  for (float v : row.dense)
    if (!std::isfinite(v)) __builtin_trap();
  if (row.label > 1) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    auto s = ParseSchema(text, "fuzz");
    if (s.ok() && !s->layout().Validate().ok()) __builtin_trap();
    return 0;
  }
  const Schema& s = FixedSchema();
  RawRow row;
  const BoundSchema by_position = BindByPosition(s);
  if (ParseSchemaLine(text, by_position, &row).ok()) CheckRow(s, row);
  // The same line through a header that reorders the columns and adds one the schema ignores.
  auto by_header = BindByHeader(s, "tags,extra,y,words,s,n,x,h,c,b,a,id");
  if (!by_header.ok()) __builtin_trap();
  if (ParseSchemaLine(text, *by_header, &row).ok()) CheckRow(s, row);
  (void)LooksLikeHeader(s, text);
  return 0;
}
