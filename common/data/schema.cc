// Schema files with yaml-cpp; lines split by hand into string_views (no allocation per field
// once the row's vectors are warm), numbers with std::from_chars.
#include "common/data/schema.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/file_util.h"

namespace augur::data {
namespace {

using Fields = absl::InlinedVector<std::string_view, 64>;

void Split(std::string_view line, char sep, Fields* out) {
  out->clear();
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == sep) {
      out->push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
}

std::string_view StripCr(std::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

bool ParseDouble(std::string_view f, double* out) {
  const char* b = f.data();
  const char* e = b + f.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, *out);
  return ec == std::errc() && p == e && p != b && std::isfinite(*out);
}

bool ParseInt64(std::string_view f, int64_t* out) {
  const char* b = f.data();
  const char* e = b + f.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, *out);
  return ec == std::errc() && p == e && p != b;
}

uint32_t Mix32(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return static_cast<uint32_t>(h ^ (h >> 32));
}

// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// One categorical value -> its raw 32-bit value; nullptr on success, else the reason.
const char* EncodeValue(std::string_view v, Encoding e, uint32_t* out) {
  switch (e) {
    case Encoding::kString:
      *out = HashCategorical(v);
      return nullptr;
    case Encoding::kHex: {
      if (v.size() > 8) return "more than 8 hex digits";
      uint32_t x = 0;
      for (char c : v) {
        int d = (c >= '0' && c <= '9') ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0) return "not a hex number";
        x = (x << 4) | static_cast<uint32_t>(d);
      }
      *out = x;
      return nullptr;
    }
    case Encoding::kInt: {
      int64_t x = 0;
      if (!ParseInt64(v, &x)) return "not an integer";
      *out = Mix32(static_cast<uint64_t>(x) ^ 0x9e3779b97f4a7c15ull);
      return nullptr;
    }
    case Encoding::kYymmddhh:
      return "yymmddhh is split by the caller";
  }
  return "unknown encoding";
}

// "14102100" -> (hour + 1, weekday + 1); nullptr on success.
const char* SplitYymmddhh(std::string_view v, uint32_t* hour, uint32_t* weekday) {
  if (v.size() != 8) return "expected 8 digits YYMMDDHH";
  int d[8];
  for (int i = 0; i < 8; ++i) {
    if (v[i] < '0' || v[i] > '9') return "expected 8 digits YYMMDDHH";
    d[i] = v[i] - '0';
  }
  const int yy = d[0] * 10 + d[1], mm = d[2] * 10 + d[3], dd = d[4] * 10 + d[5],
            hh = d[6] * 10 + d[7];
  if (mm < 1 || mm > 12 || dd < 1 || dd > 31 || hh > 23) return "not a valid YYMMDDHH time";
  const int64_t days = DaysFromCivil(2000 + yy, mm, dd);
  *hour = static_cast<uint32_t>(hh) + 1;                       // 0 stays "missing"
  *weekday = static_cast<uint32_t>(((days % 7) + 7 + 4) % 7) + 1;  // 1970-01-01 was a Thursday
  return nullptr;
}

absl::Status Bad(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

const SchemaColumn* LabelColumn(const Schema& s) {
  for (const auto& c : s.columns) {
    if (c.type == ColumnType::kLabel) return &c;
  }
  return nullptr;
}

absl::Status ValidateSchema(const Schema& s) {
  int labels = 0;
  bool sparse = false;
  for (size_t i = 0; i < s.columns.size(); ++i) {
    const auto& c = s.columns[i];
    const std::string path = absl::StrCat("columns[", i, "]");
    if (c.name.empty()) return Bad(path + ".name", "missing");
    for (size_t j = 0; j < i; ++j) {
      if (s.columns[j].name == c.name) return Bad(path + ".name", "'" + c.name + "' appears twice");
    }
    labels += c.type == ColumnType::kLabel;
    sparse = sparse || c.type == ColumnType::kSparse || c.type == ColumnType::kMultiHot;
    if (c.type == ColumnType::kDense && c.transform == DenseTransformKind::kClip &&
        !(c.clip_min <= c.clip_max)) {
      return Bad(path, "clip needs min <= max");
    }
    if (c.type == ColumnType::kMultiHot &&
        (c.list_separator == s.separator || c.encoding == Encoding::kYymmddhh)) {
      return Bad(path, c.list_separator == s.separator
                           ? "the list separator must differ from the column separator"
                           : "a multi-hot column cannot be yymmddhh");
    }
  }
  if (labels != 1) return Bad("columns", absl::StrCat("need exactly one label column, found ", labels));
  if (!sparse) return Bad("columns", "need at least one sparse or multi_hot column");
  if (auto st = s.layout().Validate(); !st.ok()) return Bad("columns", std::string(st.message()));
  return absl::OkStatus();
}

}  // namespace

uint32_t HashCategorical(std::string_view value) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : value) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return Mix32(h);
}

FeatureLayout Schema::layout() const {
  FeatureLayout l;
  for (const auto& c : columns) {
    if (c.type == ColumnType::kDense) l.dense.push_back(c.name);
  }
  for (const auto& c : columns) {
    if (c.type == ColumnType::kSparse && c.encoding == Encoding::kYymmddhh) {
      l.sparse.push_back({c.name + "_hour", false, Pooling::kSum});
      l.sparse.push_back({c.name + "_weekday", false, Pooling::kSum});
    } else if (c.type == ColumnType::kSparse) {
      l.sparse.push_back({c.name, false, Pooling::kSum});
    } else if (c.type == ColumnType::kMultiHot) {
      l.sparse.push_back({c.name, true, c.pooling});
    }
  }
  return l;
}

std::string Schema::DenseTransformText() const {
  std::vector<std::string> parts;
  for (const auto& c : columns) {
    if (c.type != ColumnType::kDense) continue;
    switch (c.transform) {
      case DenseTransformKind::kLog1p: parts.push_back(c.name + ": log1p(max(x,0))"); break;
      case DenseTransformKind::kNone: parts.push_back(c.name + ": x"); break;
      case DenseTransformKind::kClip:
        parts.push_back(absl::StrCat(c.name, ": clip(x,", c.clip_min, ",", c.clip_max, ")"));
        break;
    }
  }
  if (parts.empty()) return "no dense features";
  return absl::StrCat(absl::StrJoin(parts, "; "), "; missing=0");
}

bool IsBuiltinSchema(std::string_view name) { return name == "criteo" || name == "avazu"; }

absl::StatusOr<Schema> BuiltinSchema(std::string_view name) {
  Schema s;
  s.name = std::string(name);
  if (name == "criteo") {
    s.separator = '\t';
    s.header = HeaderMode::kFalse;
    s.columns.push_back({"label", ColumnType::kLabel});
    for (int j = 1; j <= 13; ++j) s.columns.push_back({absl::StrCat("I", j), ColumnType::kDense});
    for (int f = 1; f <= 26; ++f) {
      SchemaColumn c{absl::StrCat("C", f), ColumnType::kSparse};
      c.encoding = Encoding::kHex;
      s.columns.push_back(c);
    }
    return s;
  }
  if (name == "avazu") {
    s.separator = ',';
    s.header = HeaderMode::kAuto;
    s.columns.push_back({"id", ColumnType::kIgnore});
    s.columns.push_back({"click", ColumnType::kLabel});
    SchemaColumn hour{"hour", ColumnType::kSparse};
    hour.encoding = Encoding::kYymmddhh;
    s.columns.push_back(hour);
    for (const char* n : {"C1", "banner_pos", "site_id", "site_domain", "site_category", "app_id",
                          "app_domain", "app_category", "device_id", "device_ip", "device_model",
                          "device_type", "device_conn_type", "C14", "C15", "C16", "C17", "C18",
                          "C19", "C20", "C21"}) {
      s.columns.push_back({n, ColumnType::kSparse});
    }
    return s;
  }
  return absl::NotFoundError(absl::StrCat("no built-in schema '", std::string(name), "' (criteo, avazu)"));
}

absl::StatusOr<Schema> ParseSchema(const std::string& yaml_text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": not YAML: ", e.what()));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError(absl::StrCat(origin, ": expected a mapping"));
  Schema s;
  s.name = origin;
  auto fail = [&](const std::string& path, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": ", path, ": ", what));
  };
  auto scalar = [](const YAML::Node& n) { return n.IsScalar() ? n.Scalar() : std::string("?"); };
  auto one_char = [&](const YAML::Node& n, const std::string& path, char* out) -> absl::Status {
    std::string v = scalar(n);
    if (v == "\\t" || v == "tab") v = "\t";
    if (v.size() != 1 || v[0] == '\n' || v[0] == '\r') return fail(path, "expected one character");
    *out = v[0];
    return absl::OkStatus();
  };
  try {
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "separator") {
        if (auto st = one_char(v, "separator", &s.separator); !st.ok()) return st;
      } else if (key == "header") {
        const std::string h = scalar(v);
        if (h == "true") s.header = HeaderMode::kTrue;
        else if (h == "false") s.header = HeaderMode::kFalse;
        else if (h == "auto") s.header = HeaderMode::kAuto;
        else return fail("header", "expected true, false or auto, got '" + h.substr(0, 40) + "'");
      } else if (key == "columns") {
        if (!v.IsSequence()) return fail("columns", "expected a list");
        for (size_t i = 0; i < v.size(); ++i) {
          const std::string path = absl::StrCat("columns[", i, "]");
          if (!v[i].IsMap()) return fail(path, "expected a mapping");
          SchemaColumn c;
          bool typed = false;
          for (const auto& ckv : v[i]) {
            const std::string ck = ckv.first.as<std::string>();
            const YAML::Node& cv = ckv.second;
            const std::string cpath = path + "." + ck;
            const std::string val = scalar(cv);
            if (ck == "name") {
              c.name = val;
            } else if (ck == "type") {
              typed = true;
              if (val == "ignore") c.type = ColumnType::kIgnore;
              else if (val == "label") c.type = ColumnType::kLabel;
              else if (val == "dense") c.type = ColumnType::kDense;
              else if (val == "sparse") c.type = ColumnType::kSparse;
              else if (val == "multi_hot") c.type = ColumnType::kMultiHot;
              else return fail(cpath, "expected ignore, label, dense, sparse or multi_hot, got '" + val.substr(0, 40) + "'");
            } else if (ck == "transform") {
              if (val == "log1p") c.transform = DenseTransformKind::kLog1p;
              else if (val == "none") c.transform = DenseTransformKind::kNone;
              else if (val == "clip") c.transform = DenseTransformKind::kClip;
              else return fail(cpath, "expected log1p, none or clip, got '" + val.substr(0, 40) + "'");
            } else if (ck == "min" || ck == "max") {
              double x = 0;
              if (!ParseDouble(val, &x)) return fail(cpath, "expected a finite number");
              (ck == "min" ? c.clip_min : c.clip_max) = x;
            } else if (ck == "encoding") {
              if (val == "string") c.encoding = Encoding::kString;
              else if (val == "hex") c.encoding = Encoding::kHex;
              else if (val == "int") c.encoding = Encoding::kInt;
              else if (val == "yymmddhh") c.encoding = Encoding::kYymmddhh;
              else return fail(cpath, "expected string, hex, int or yymmddhh, got '" + val.substr(0, 40) + "'");
            } else if (ck == "separator") {
              if (auto st = one_char(cv, cpath, &c.list_separator); !st.ok()) return st;
            } else if (ck == "pooling") {
              if (val == "sum") c.pooling = Pooling::kSum;
              else if (val == "mean") c.pooling = Pooling::kMean;
              else return fail(cpath, "expected sum or mean, got '" + val.substr(0, 40) + "'");
            } else {
              return fail(cpath, "unknown key (name, type, transform, min, max, encoding, separator, pooling)");
            }
          }
          if (!typed) return fail(path + ".type", "missing");
          s.columns.push_back(std::move(c));
        }
      } else {
        return fail(key, "unknown key (separator, header, columns)");
      }
    }
  } catch (const YAML::Exception& e) {
    return fail("", e.what());
  }
  if (auto st = ValidateSchema(s); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": ", st.message()));
  }
  return s;
}

absl::StatusOr<Schema> LoadSchema(const std::string& name_or_path) {
  if (IsBuiltinSchema(name_or_path)) return BuiltinSchema(name_or_path);
  auto text = ReadSmallFile(name_or_path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat("schema ", name_or_path,
                                            ": neither a built-in (criteo, avazu) nor a readable "
                                            "file (", text.status().message(), ")"));
  }
  return ParseSchema(*text, name_or_path);
}

bool LooksLikeHeader(const Schema& schema, std::string_view first_line) {
  if (schema.header != HeaderMode::kAuto) return schema.header == HeaderMode::kTrue;
  const SchemaColumn* label = LabelColumn(schema);
  Fields f;
  Split(first_line, schema.separator, &f);
  for (auto x : f) {
    if (label != nullptr && StripCr(x) == label->name) return true;
  }
  return false;
}

absl::StatusOr<BoundSchema> BindByHeader(const Schema& schema, std::string_view header) {
  Fields f;
  Split(StripCr(header), schema.separator, &f);
  BoundSchema b;
  b.schema = &schema;
  b.num_fields = static_cast<int>(f.size());
  for (size_t i = 0; i < f.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (f[j] == f[i]) {
        return absl::InvalidArgumentError(
            absl::StrCat("header names column '", std::string(f[i].substr(0, 64)), "' twice"));
      }
    }
  }
  for (const auto& c : schema.columns) {
    int at = -1;
    for (size_t i = 0; i < f.size(); ++i) {
      if (f[i] == c.name) at = static_cast<int>(i);
    }
    if (at < 0 && c.type != ColumnType::kIgnore) {
      return absl::InvalidArgumentError(absl::StrCat("header lacks column ", c.name));
    }
    b.physical.push_back(at);
  }
  return b;
}

BoundSchema BindByPosition(const Schema& schema) {
  BoundSchema b;
  b.schema = &schema;
  b.num_fields = static_cast<int>(schema.columns.size());
  for (size_t i = 0; i < schema.columns.size(); ++i) b.physical.push_back(static_cast<int>(i));
  return b;
}

absl::Status ParseSchemaLine(std::string_view line, const BoundSchema& bound, RawRow* row) {
  const Schema& s = *bound.schema;
  line = StripCr(line);
  if (line.empty()) return absl::InvalidArgumentError("empty line");
  thread_local Fields f;
  Split(line, s.separator, &f);
  if (static_cast<int>(f.size()) != bound.num_fields) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", bound.num_fields, " fields, got ", f.size()));
  }
  row->dense.clear();
  row->ids.clear();
  row->lengths.clear();
  auto bad = [](const SchemaColumn& c, std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(c.name, ": ", std::string(why)));
  };
  for (size_t i = 0; i < s.columns.size(); ++i) {
    const SchemaColumn& c = s.columns[i];
    if (c.type == ColumnType::kIgnore) continue;
    const std::string_view v = f[bound.physical[i]];
    switch (c.type) {
      case ColumnType::kLabel:
        if (v == "0" || v == "1") {
          row->label = v == "1";
        } else {
          return bad(c, "label must be 0 or 1");
        }
        break;
      case ColumnType::kDense: {
        double x = 0;
        if (!v.empty() && !ParseDouble(v, &x)) return bad(c, "not a finite number");
        switch (c.transform) {
          case DenseTransformKind::kLog1p: x = std::log1p(std::max(x, 0.0)); break;
          case DenseTransformKind::kNone: break;
          case DenseTransformKind::kClip: x = std::clamp(x, c.clip_min, c.clip_max); break;
        }
        const float y = static_cast<float>(x);
        if (!std::isfinite(y)) return bad(c, "out of float range");
        row->dense.push_back(y);
        break;
      }
      case ColumnType::kSparse: {
        if (c.encoding == Encoding::kYymmddhh) {
          uint32_t hour = 0, weekday = 0;
          if (!v.empty()) {
            if (const char* why = SplitYymmddhh(v, &hour, &weekday)) return bad(c, why);
          }
          row->ids.push_back(hour);
          row->ids.push_back(weekday);
          row->lengths.push_back(1);
          row->lengths.push_back(1);
          break;
        }
        uint32_t id = 0;
        if (!v.empty()) {
          if (const char* why = EncodeValue(v, c.encoding, &id)) return bad(c, why);
        }
        row->ids.push_back(id);
        row->lengths.push_back(1);
        break;
      }
      case ColumnType::kMultiHot: {
        uint32_t n = 0;
        size_t start = 0;
        for (size_t k = 0; k <= v.size(); ++k) {
          if (k < v.size() && v[k] != c.list_separator) continue;
          std::string_view e = v.substr(start, k - start);
          start = k + 1;
          if (e.empty()) continue;
          uint32_t id = 0;
          if (const char* why = EncodeValue(e, c.encoding, &id)) return bad(c, why);
          if (++n > 65536) return bad(c, "more than 65536 values in one list");
          row->ids.push_back(id);
        }
        row->lengths.push_back(n);
        break;
      }
      case ColumnType::kIgnore: break;
    }
  }
  return absl::OkStatus();
}

}  // namespace augur::data
