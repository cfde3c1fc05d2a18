// JSON (de)serialisation of the manifest with nlohmann::json; the JSON type stays in this file.
#include "common/data/manifest.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace augur::data {
namespace {
using nlohmann::json;

constexpr std::array<std::string_view, 4> kTransformNames = {"hash", "mod", "vocab",
                                                             "synthetic"};
}  // namespace

std::string_view SparseTransformName(SparseTransform t) {
  return kTransformNames[static_cast<int>(t)];
}

std::string ColumnFileName(int i) {
  const std::string& name = CriteoFieldName(i);
  if (i == 0) return "label.u8";
  return absl::StrCat(name, i <= kNumDense ? ".f32" : ".u32");
}

std::string VocabFileName(int f) {
  return absl::StrCat("vocab/", CriteoFieldName(1 + kNumDense + f), ".u32");
}

std::string Manifest::ToJson() const {
  using json = nlohmann::ordered_json;  // keep the fields in a readable order
  json j;
  j["format"] = "augur-dataset";
  j["format_version"] = format_version;
  j["rows"] = rows;
  j["dense_transform"] = dense_transform;
  j["sparse_transform"] = {{"kind", SparseTransformName(sparse_transform)},
                           {"max_rows", max_rows},
                           {"min_count", min_count}};
  json feats = json::array();
  for (const auto& f : sparse) {
    feats.push_back({{"name", f.name},
                     {"table_rows", f.table_rows},
                     {"cardinality", f.cardinality},
                     {"vocab", f.has_vocab ? VocabFileName(&f - sparse.data()) : ""}});
  }
  j["features"] = feats;
  json cols = json::array();
  for (const auto& c : columns) {
    char crc[9];
    snprintf(crc, sizeof(crc), "%08x", c.crc32);
    cols.push_back({{"name", c.name},
                    {"file", c.file},
                    {"dtype", c.dtype},
                    {"bytes", c.bytes},
                    {"crc32", crc}});
  }
  j["columns"] = cols;
  j["source"] = source;
  return j.dump(2) + "\n";
}

absl::StatusOr<Manifest> Manifest::FromJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("not valid JSON");
  Manifest m;
  try {
    if (j.value("format", "") != "augur-dataset") {
      return absl::InvalidArgumentError("not an augur dataset manifest (format field)");
    }
    m.format_version = j.at("format_version").get<int>();
    if (m.format_version != kManifestFormatVersion) {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported format_version ", m.format_version, " (this build reads ",
                       kManifestFormatVersion, ")"));
    }
    m.rows = j.at("rows").get<int64_t>();
    if (m.rows < 0) return absl::InvalidArgumentError("negative rows");
    m.dense_transform = j.at("dense_transform").get<std::string>();
    const json& st = j.at("sparse_transform");
    std::string kind = st.at("kind").get<std::string>();
    bool known = false;
    for (size_t i = 0; i < kTransformNames.size(); ++i) {
      if (kind == kTransformNames[i]) m.sparse_transform = static_cast<SparseTransform>(i), known = true;
    }
    if (!known) return absl::InvalidArgumentError(absl::StrCat("unknown sparse transform ", kind));
    m.max_rows = st.at("max_rows").get<uint64_t>();
    m.min_count = st.at("min_count").get<uint64_t>();
    const json& feats = j.at("features");
    if (!feats.is_array() || feats.size() != kNumSparse) {
      return absl::InvalidArgumentError(absl::StrCat("features must list ", kNumSparse));
    }
    for (int f = 0; f < kNumSparse; ++f) {
      m.sparse[f].name = feats[f].at("name").get<std::string>();
      m.sparse[f].table_rows = feats[f].at("table_rows").get<uint64_t>();
      m.sparse[f].cardinality = feats[f].at("cardinality").get<uint64_t>();
      m.sparse[f].has_vocab = !feats[f].value("vocab", "").empty();
    }
    const json& cols = j.at("columns");
    if (!cols.is_array() || cols.size() != kNumCriteoFields) {
      return absl::InvalidArgumentError(absl::StrCat("columns must list ", kNumCriteoFields));
    }
    for (const json& c : cols) {
      ColumnFile cf;
      cf.name = c.at("name").get<std::string>();
      cf.file = c.at("file").get<std::string>();
      cf.dtype = c.at("dtype").get<std::string>();
      cf.bytes = c.at("bytes").get<uint64_t>();
      cf.crc32 = static_cast<uint32_t>(std::stoul(c.at("crc32").get<std::string>(), nullptr, 16));
      m.columns.push_back(std::move(cf));
    }
    if (j.contains("source")) m.source = j["source"].get<std::map<std::string, std::string>>();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed manifest: ", e.what()));
  }
  return m;
}

}  // namespace augur::data
