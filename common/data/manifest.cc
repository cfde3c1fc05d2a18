// JSON (de)serialisation of the manifest with nlohmann::json; the JSON type stays in this file.
#include "common/data/manifest.h"

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace augur::data {
namespace {
using nlohmann::json;

constexpr std::array<std::string_view, 4> kTransformNames = {"hash", "mod", "vocab",
                                                             "synthetic"};

absl::StatusOr<Pooling> ParsePooling(const std::string& s) {
  if (s == "sum") return Pooling::kSum;
  if (s == "mean") return Pooling::kMean;
  return absl::InvalidArgumentError(absl::StrCat("unknown pooling '", s, "' (sum, mean)"));
}

}  // namespace

std::string_view SparseTransformName(SparseTransform t) {
  return kTransformNames[static_cast<int>(t)];
}

std::string_view PoolingName(Pooling p) { return p == Pooling::kMean ? "mean" : "sum"; }

absl::Status CheckFeatureName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("feature name '", std::string(name.substr(0, 80)),
                   "' must be 1..64 characters of letters, digits, '_' and '-'"));
}

FeatureLayout FeatureLayout::Criteo() {
  FeatureLayout l;
  for (int j = 1; j <= 13; ++j) l.dense.push_back(absl::StrCat("I", j));
  for (int f = 1; f <= 26; ++f) l.sparse.push_back({absl::StrCat("C", f), false, Pooling::kSum});
  return l;
}

absl::Status FeatureLayout::Validate() const {
  if (sparse.empty()) return absl::InvalidArgumentError("a dataset needs a sparse feature");
  if (dense.size() > kMaxFeatures || sparse.size() > kMaxFeatures) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxFeatures, " dense and ", kMaxFeatures, " sparse features"));
  }
  absl::flat_hash_set<std::string_view> seen;
  auto check = [&](std::string_view name) -> absl::Status {
    if (auto s = CheckFeatureName(name); !s.ok()) return s;
    if (name == "label") return absl::InvalidArgumentError("no feature may be named 'label'");
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("feature '", std::string(name), "' appears twice"));
    }
    return absl::OkStatus();
  };
  for (const auto& d : dense) {
    if (auto s = check(d); !s.ok()) return s;
  }
  for (const auto& sf : sparse) {
    if (auto s = check(sf.name); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string DenseFileName(std::string_view name) { return std::string(name) + ".f32"; }
std::string SparseFileName(std::string_view name) { return std::string(name) + ".u32"; }
std::string OffsetsFileName(std::string_view name) { return std::string(name) + ".o64"; }
std::string VocabFileName(std::string_view name) { return "vocab/" + std::string(name) + ".u32"; }

std::vector<ColumnFile> ExpectedColumns(const FeatureLayout& layout) {
  std::vector<ColumnFile> c;
  c.push_back({"label", kLabelFile, "uint8", 0, 0});
  for (const auto& d : layout.dense) c.push_back({d, DenseFileName(d), "float32", 0, 0});
  for (const auto& s : layout.sparse) c.push_back({s.name, SparseFileName(s.name), "uint32", 0, 0});
  for (const auto& s : layout.sparse) {
    if (s.multi_hot) c.push_back({s.name + ".offsets", OffsetsFileName(s.name), "uint64", 0, 0});
  }
  return c;
}

int64_t Manifest::max_ids_per_sample() const {
  int64_t n = 0;
  for (const auto& f : sparse) n += static_cast<int64_t>(f.max_bag);
  return n;
}

FeatureLayout Manifest::layout() const {
  FeatureLayout l;
  l.dense = dense;
  for (const auto& f : sparse) l.sparse.push_back({f.name, f.multi_hot, f.pooling});
  return l;
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
  j["dense"] = dense;
  json feats = json::array();
  for (const auto& f : sparse) {
    feats.push_back({{"name", f.name},
                     {"table_rows", f.table_rows},
                     {"cardinality", f.cardinality},
                     {"vocab", f.has_vocab ? VocabFileName(f.name) : ""},
                     {"multi_hot", f.multi_hot},
                     {"pooling", PoolingName(f.pooling)},
                     {"ids", f.ids},
                     {"max_bag", f.max_bag}});
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
    if (m.format_version != 1 && m.format_version != kManifestFormatVersion) {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported format_version ", m.format_version, " (this build reads 1 and ",
                       kManifestFormatVersion, ")"));
    }
    m.rows = j.at("rows").get<int64_t>();
    // Bounded so that no file size computed from them (x 4, x 8, + 1) can overflow and let a
    // short file pass for a long column.
    if (m.rows < 0 || m.rows > kMaxRows)
      return absl::InvalidArgumentError(absl::StrCat("rows must be in 0..", kMaxRows));
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
    // Version 1 is the Criteo layout: 13 dense, 26 one-hot features, no "dense" list.
    if (m.format_version == 1) {
      m.dense = FeatureLayout::Criteo().dense;
    } else {
      const json& dense = j.at("dense");
      if (!dense.is_array() || dense.size() > kMaxFeatures) {
        return absl::InvalidArgumentError("dense must be a list of feature names");
      }
      m.dense = dense.get<std::vector<std::string>>();
    }
    const json& feats = j.at("features");
    if (!feats.is_array() || feats.empty() || feats.size() > kMaxFeatures ||
        (m.format_version == 1 && feats.size() != 26)) {
      return absl::InvalidArgumentError("features must list the sparse features");
    }
    for (const json& fj : feats) {
      SparseFeature f;
      f.name = fj.at("name").get<std::string>();
      f.table_rows = fj.at("table_rows").get<uint64_t>();
      f.cardinality = fj.at("cardinality").get<uint64_t>();
      f.has_vocab = !fj.value("vocab", "").empty();
      f.ids = static_cast<uint64_t>(m.rows);
      if (m.format_version >= 2) {
        f.multi_hot = fj.at("multi_hot").get<bool>();
        auto p = ParsePooling(fj.at("pooling").get<std::string>());
        if (!p.ok()) return p.status();
        f.pooling = *p;
        f.ids = fj.at("ids").get<uint64_t>();
        f.max_bag = fj.at("max_bag").get<uint64_t>();
        if (f.ids > kMaxIds) {
          return absl::InvalidArgumentError(
              absl::StrCat("feature ", f.name, ": more than ", kMaxIds, " ids"));
        }
        if (!f.multi_hot && (f.ids != static_cast<uint64_t>(m.rows) || f.max_bag != 1)) {
          return absl::InvalidArgumentError(
              absl::StrCat("one-hot feature ", f.name, " must hold one id per row"));
        }
        if (f.multi_hot && (f.max_bag > f.ids || f.max_bag > (uint64_t{1} << 32))) {
          return absl::InvalidArgumentError(absl::StrCat("feature ", f.name, ": bad max_bag"));
        }
      }
      m.sparse.push_back(std::move(f));
    }
    if (auto s = m.layout().Validate(); !s.ok()) return s;
    const json& cols = j.at("columns");
    const std::vector<ColumnFile> want = ExpectedColumns(m.layout());
    if (!cols.is_array() || cols.size() != want.size()) {
      return absl::InvalidArgumentError(absl::StrCat("columns must list ", want.size(), " files"));
    }
    for (size_t i = 0; i < want.size(); ++i) {
      const json& c = cols[i];
      ColumnFile cf;
      cf.name = c.at("name").get<std::string>();
      cf.file = c.at("file").get<std::string>();
      cf.dtype = c.at("dtype").get<std::string>();
      cf.bytes = c.at("bytes").get<uint64_t>();
      cf.crc32 = static_cast<uint32_t>(std::stoul(c.at("crc32").get<std::string>(), nullptr, 16));
      // Only the layout's own file names are accepted, so a manifest cannot point outside the
      // directory.
      if (cf.file != want[i].file || cf.dtype != want[i].dtype) {
        return absl::InvalidArgumentError(absl::StrCat("column ", i, " is ", cf.file, " (", cf.dtype,
                                                       "), expected ", want[i].file, " (",
                                                       want[i].dtype, ")"));
      }
      m.columns.push_back(std::move(cf));
    }
    if (j.contains("source")) m.source = j["source"].get<std::map<std::string, std::string>>();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed manifest: ", e.what()));
  }
  return m;
}

}  // namespace augur::data
