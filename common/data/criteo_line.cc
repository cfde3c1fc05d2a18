// Hand-rolled field splitting: the line is scanned once, field boundaries go into a fixed array,
// then each canonical field is converted in place with std::from_chars or a hex table.
#include "common/data/criteo_line.h"

#include <charconv>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace augur::data {
namespace {

constexpr int kMaxColumns = 64;

constexpr std::array<int8_t, 256> MakeHexTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<int8_t>(c - 'A' + 10);
  return t;
}
constexpr std::array<int8_t, 256> kHex = MakeHexTable();

// Decimal integer with optional sign; an integral float ("260.0", "7.") is accepted because
// pandas rewrites integer columns with missing values as floats.
bool ParseInteger(std::string_view f, int64_t* out) {
  const char* b = f.data();
  const char* e = b + f.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, *out);
  if (ec != std::errc() || p == b) return false;
  if (p == e) return true;
  if (*p != '.') return false;
  for (++p; p != e; ++p) {
    if (*p != '0') return false;
  }
  return true;
}

bool ParseHex8(std::string_view f, uint32_t* out) {
  if (f.size() != 8) return false;
  uint32_t v = 0;
  int8_t bad = 0;
  for (int i = 0; i < 8; ++i) {
    int8_t d = kHex[static_cast<unsigned char>(f[i])];
    bad |= d;  // any -1 sets the sign bit
    v = (v << 4) | static_cast<uint32_t>(d & 0xf);
  }
  if (bad < 0) return false;
  *out = v;
  return true;
}

}  // namespace

const std::string& CriteoFieldName(int i) {
  static const std::array<std::string, kNumCriteoFields> kNames = [] {
    std::array<std::string, kNumCriteoFields> n;
    n[0] = "label";
    for (int j = 0; j < kNumDense; ++j) n[1 + j] = absl::StrCat("I", j + 1);
    for (int j = 0; j < kNumSparse; ++j) n[1 + kNumDense + j] = absl::StrCat("C", j + 1);
    return n;
  }();
  static const std::string kLine = "line";
  return (i >= 0 && i < kNumCriteoFields) ? kNames[i] : kLine;
}

std::string LineError::ToString() const {
  if (ok()) return "ok";
  if (field < 0) return reason;
  return std::string(CriteoFieldName(field)) + ": " + reason;
}

CriteoLayout CriteoLayout::Tsv() {
  CriteoLayout l;
  for (int i = 0; i < kNumCriteoFields; ++i) l.column[i] = i;
  return l;
}

absl::StatusOr<CriteoLayout> CriteoLayout::FromCsvHeader(std::string_view header) {
  while (!header.empty() && (header.back() == '\r' || header.back() == '\n')) {
    header.remove_suffix(1);
  }
  CriteoLayout l;
  l.separator = ',';
  l.pad_short_lines = false;
  l.column.fill(-1);
  std::vector<std::string> names;
  for (size_t b = 0;;) {
    size_t e = header.find(',', b);
    names.emplace_back(header.substr(b, e == std::string_view::npos ? e : e - b));
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  if (names.size() > kMaxColumns) {
    return absl::InvalidArgumentError(absl::StrCat("CSV header has ", names.size(),
                                                   " columns; at most ", kMaxColumns));
  }
  l.num_columns = static_cast<int>(names.size());
  for (int c = 0; c < l.num_columns; ++c) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(names[c]));
    for (int i = 0; i < kNumCriteoFields; ++i) {
      if (name != absl::AsciiStrToLower(std::string(CriteoFieldName(i)))) continue;
      if (l.column[i] >= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("CSV header names column ", std::string(CriteoFieldName(i)), " twice"));
      }
      l.column[i] = c;
    }
  }
  for (int i = 0; i < kNumCriteoFields; ++i) {
    if (l.column[i] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("CSV header lacks column ", std::string(CriteoFieldName(i))));
    }
  }
  return l;
}

LineError ParseCriteoLine(std::string_view line, const CriteoLayout& layout, CriteoRow* row) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return {"empty line", -1};
  // Field f spans [start[f], start[f+1] - 1).
  std::array<uint32_t, kMaxColumns + 1> start;
  int n = 0;
  const char* base = line.data();
  const char* p = base;
  const char* end = base + line.size();
  start[n++] = 0;
  while (true) {
    const void* hit = std::memchr(p, layout.separator, static_cast<size_t>(end - p));
    if (hit == nullptr) break;
    if (n == layout.num_columns) return {"too many fields", -1};
    p = static_cast<const char*>(hit) + 1;
    start[n++] = static_cast<uint32_t>(p - base);
  }
  if (n < layout.num_columns && !layout.pad_short_lines) return {"too few fields", -1};
  const int present = n;
  start[n] = static_cast<uint32_t>(line.size() + 1);
  auto field = [&](int canonical) -> std::string_view {
    int c = layout.column[canonical];
    if (c >= present) return {};  // padded: a stripped trailing field is missing
    return std::string_view(base + start[c], start[c + 1] - start[c] - 1);
  };

  int64_t label;
  std::string_view lf = field(0);
  if (!ParseInteger(lf, &label) || (label != 0 && label != 1)) return {"not 0 or 1", 0};
  row->label = static_cast<uint8_t>(label);
  for (int j = 0; j < kNumDense; ++j) {
    std::string_view f = field(1 + j);
    row->dense_present[j] = !f.empty();
    row->dense[j] = 0;
    if (!f.empty() && !ParseInteger(f, &row->dense[j])) return {"not an integer", 1 + j};
  }
  for (int j = 0; j < kNumSparse; ++j) {
    std::string_view f = field(1 + kNumDense + j);
    row->sparse[j] = kMissingId;
    if (!f.empty() && !ParseHex8(f, &row->sparse[j])) {
      return {"not an 8-digit hex value", 1 + kNumDense + j};
    }
  }
  return {};
}

}  // namespace augur::data
