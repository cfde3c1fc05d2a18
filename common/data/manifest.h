// The manifest of a binary dataset directory: what `augur data prep` / `gen` wrote and how to
// read it back. Layout of a dataset directory (format version 1):
//
//   manifest.json      this struct as JSON (written last; its presence marks a complete dataset)
//   label.u8           one byte per sample, 0 or 1
//   I1.f32 .. I13.f32  dense features after log(1 + max(x, 0)), missing = 0; little-endian float32
//   C1.u32 .. C26.u32  sparse ids, little-endian uint32, each < the feature's table_rows
//   vocab/C<k>.u32     only for --min-count: the kept raw hash values of feature k in ascending
//                      order; value vocab[j] maps to row j + 1, every other value to row 0
//
// Every column file holds exactly `rows` values; its CRC-32 (zlib) is recorded per file.
// Thread-safety: plain value types.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/data/criteo_line.h"

namespace augur::data {

inline constexpr int kManifestFormatVersion = 1;
inline constexpr char kManifestFile[] = "manifest.json";

// How raw categorical values became row ids.
enum class SparseTransform {
  kHash,       // the 32-bit hash itself; table_rows = 2^32
  kMod,        // hash mod max_rows; table_rows = max_rows
  kVocab,      // frequency-threshold vocabulary (min_count); table_rows = vocabulary size + 1
  kSynthetic,  // generated ids; table_rows = the profile's cardinality
};
std::string_view SparseTransformName(SparseTransform t);

struct ColumnFile {
  std::string name;   // "label", "I1", "C7"
  std::string file;   // relative to the dataset directory
  std::string dtype;  // "uint8", "float32", "uint32"
  uint64_t bytes = 0;
  uint32_t crc32 = 0;
};

struct SparseFeature {
  std::string name;           // "C1".."C26"
  uint64_t table_rows = 0;    // embedding-table rows a job must create for this feature
  uint64_t cardinality = 0;   // distinct ids present in the column
  bool has_vocab = false;     // vocab/<name>.u32 exists
};

struct Manifest {
  int format_version = kManifestFormatVersion;
  int64_t rows = 0;
  std::string dense_transform = "log1p(max(x,0)); missing=0";
  SparseTransform sparse_transform = SparseTransform::kHash;
  uint64_t max_rows = 0;   // kMod only
  uint64_t min_count = 0;  // kVocab only
  std::array<SparseFeature, kNumSparse> sparse;
  // label, I1..I13, C1..C26 in this order (kNumCriteoFields entries).
  std::vector<ColumnFile> columns;
  // Provenance, free-form: input files, bad lines skipped, generator profile and seed...
  std::map<std::string, std::string> source;

  std::string ToJson() const;
  // INVALID_ARGUMENT (what is wrong) for malformed JSON, a missing field or an unknown version.
  static absl::StatusOr<Manifest> FromJson(const std::string& text);
};

// The file name of canonical field i ("label.u8", "I3.f32", "C7.u32").
std::string ColumnFileName(int canonical_field);
std::string VocabFileName(int sparse_feature);  // "vocab/C7.u32"

}  // namespace augur::data
