// Parsing one line of raw Criteo data (label, I1..I13, C1..C26) into plain values.
//
// This is the hot loop of `augur data prep`, so it works on a string_view into the reader's
// buffer, splits fields by hand and converts with std::from_chars: no allocation per line or per
// field. The same function is the libFuzzer target (tests/data/criteo_line_fuzz.cc).
//
// Two layouts share one parser: the raw Kaggle/Terabyte TSV (fields in canonical order, tab
// separated, trailing empty fields possibly stripped) and the CSV-with-header variants, whose
// columns are mapped by header name (`CriteoLayout::FromCsvHeader`).
// Thread-safety: all functions are pure; a layout is immutable after construction.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace augur::data {

inline constexpr int kNumDense = 13;
inline constexpr int kNumSparse = 26;
inline constexpr int kNumCriteoFields = 1 + kNumDense + kNumSparse;  // 40

// One parsed sample. Missing dense values are flagged; a missing categorical is `kMissingId`
// (the raw hash 00000000 is indistinguishable from missing, as in the DLRM reference).
struct CriteoRow {
  uint8_t label = 0;
  std::array<int64_t, kNumDense> dense{};
  std::array<bool, kNumDense> dense_present{};
  std::array<uint32_t, kNumSparse> sparse{};
};
inline constexpr uint32_t kMissingId = 0;

// Where each canonical field sits in a physical line. canonical index: 0 = label, 1..13 = I1..I13,
// 14..39 = C1..C26; a physical column with no canonical meaning (the CSV `Id`) is ignored.
struct CriteoLayout {
  char separator = '\t';
  int num_columns = kNumCriteoFields;          // physical columns per line
  std::array<int, kNumCriteoFields> column{};  // canonical field -> physical column
  bool pad_short_lines = true;                 // TSV copies with stripped trailing tabs

  // The raw Kaggle/Terabyte TSV: 40 tab-separated fields, no header.
  static CriteoLayout Tsv();
  // Maps a CSV header (`Id,Label,I1..` or `label,I1..`; names case-insensitive, CR stripped).
  // INVALID_ARGUMENT naming the missing or duplicated column.
  static absl::StatusOr<CriteoLayout> FromCsvHeader(std::string_view header);
};

// Why a line was rejected: a static reason plus the canonical field it concerns (-1: the line).
struct LineError {
  const char* reason = nullptr;  // nullptr = the line parsed
  int field = -1;
  bool ok() const { return reason == nullptr; }
  std::string ToString() const;  // e.g. "I3: not an integer"
};

// Name of canonical field i: "label", "I1".."I13", "C1".."C26".
const std::string& CriteoFieldName(int i);

// Parses one line (without its '\n'; a trailing '\r' is tolerated). Integer fields accept an
// optional sign and integral floats such as "260.0" (pandas output); categoricals must be exactly
// 8 hex digits (either case) or empty; the label must be 0 or 1. An empty line is an error.
LineError ParseCriteoLine(std::string_view line, const CriteoLayout& layout, CriteoRow* row);

}  // namespace augur::data
