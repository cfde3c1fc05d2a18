// The manifest of a binary dataset directory: what `augur data prep` / `gen` wrote and how to
// read it back. Layout of a dataset directory (format version 2; version 1 directories, which
// are always the Criteo layout, are still read):
//
//   manifest.json      this struct as JSON (written last; its presence marks a complete dataset)
//   label.u8           one byte per sample, 0 or 1
//   <dense>.f32        one per dense feature (Criteo: I1..I13, after log(1 + max(x, 0)),
//                      missing = 0); little-endian float32, one value per sample
//   <sparse>.u32       one per sparse feature (Criteo: C1..C26): little-endian uint32 ids, each
//                      < the feature's table_rows. One id per sample for a one-hot feature; for
//                      a multi-hot feature the ids of every sample, one after the other
//   <sparse>.o64       multi-hot features only: rows + 1 little-endian uint64 offsets; sample s
//                      holds ids [o[s], o[s+1]) of <sparse>.u32 (o[0] = 0, o[rows] = ids;
//                      an empty bag is allowed)
//   vocab/<sparse>.u32 only for --min-count: the kept raw hash values of the feature in ascending
//                      order; value vocab[j] maps to row j + 1, every other value to row 0
//
// Feature names are 1..64 characters of [A-Za-z0-9_-] and unique across dense and sparse
// features, so a manifest can never name a file outside its directory. Every column file's size
// follows from rows (and ids); its CRC-32 (zlib) is recorded per file.
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace augur::data {

inline constexpr int kManifestFormatVersion = 2;
inline constexpr char kManifestFile[] = "manifest.json";
// Most features of either kind a dataset may have (table ids are feature indices).
inline constexpr int kMaxFeatures = 1024;
// Most samples (2^40) and most ids of one sparse feature (2^44) a manifest may declare.
inline constexpr int64_t kMaxRows = int64_t{1} << 40;
inline constexpr uint64_t kMaxIds = uint64_t{1} << 44;

// How raw categorical values became row ids.
enum class SparseTransform {
  kHash,       // the 32-bit hash itself; table_rows = 2^32
  kMod,        // hash mod max_rows; table_rows = max_rows
  kVocab,      // frequency-threshold vocabulary (min_count); table_rows = vocabulary size + 1
  kSynthetic,  // generated ids; table_rows = the profile's cardinality
};
std::string_view SparseTransformName(SparseTransform t);

// How a multi-hot bag becomes one vector: the sum of its rows, or their mean (an empty bag is
// the zero vector either way).
enum class Pooling { kSum, kMean };
std::string_view PoolingName(Pooling p);

// The features a dataset holds, in order: what a writer is asked to write.
struct FeatureLayout {
  struct Sparse {
    std::string name;
    bool multi_hot = false;
    Pooling pooling = Pooling::kSum;
  };
  std::vector<std::string> dense;
  std::vector<Sparse> sparse;

  // Label, I1..I13, C1..C26 (all one-hot): the Criteo Kaggle / Terabyte layout.
  static FeatureLayout Criteo();
  // INVALID_ARGUMENT naming the feature: a bad or repeated name, no sparse feature, more than
  // kMaxFeatures of a kind.
  absl::Status Validate() const;
};

// INVALID_ARGUMENT unless `name` is 1..64 characters of [A-Za-z0-9_-].
absl::Status CheckFeatureName(std::string_view name);

struct ColumnFile {
  std::string name;   // "label", "I1", "C7", "C7.offsets"
  std::string file;   // relative to the dataset directory
  std::string dtype;  // "uint8", "float32", "uint32", "uint64"
  uint64_t bytes = 0;
  uint32_t crc32 = 0;
};

struct SparseFeature {
  std::string name;           // "C1".."C26" for Criteo
  uint64_t table_rows = 0;    // embedding-table rows a job must create for this feature
  uint64_t cardinality = 0;   // distinct ids present in the column
  bool has_vocab = false;     // vocab/<name>.u32 exists
  bool multi_hot = false;     // <name>.o64 gives each sample's bag
  Pooling pooling = Pooling::kSum;
  uint64_t ids = 0;           // ids in <name>.u32 (== rows for a one-hot feature)
  uint64_t max_bag = 1;       // most ids one sample carries (1 for a one-hot feature)
};

struct Manifest {
  int format_version = kManifestFormatVersion;
  int64_t rows = 0;
  std::string dense_transform = "log1p(max(x,0)); missing=0";
  SparseTransform sparse_transform = SparseTransform::kHash;
  uint64_t max_rows = 0;   // kMod only
  uint64_t min_count = 0;  // kVocab only
  std::vector<std::string> dense;      // dense feature names, in column order
  std::vector<SparseFeature> sparse;   // sparse features, in table order
  // label, the dense features, the sparse features' ids, then the multi-hot features' offsets,
  // each in feature order (ExpectedColumns).
  std::vector<ColumnFile> columns;
  // Provenance, free-form: input files, bad lines skipped, generator profile and seed...
  std::map<std::string, std::string> source;

  int num_dense() const { return static_cast<int>(dense.size()); }
  int num_sparse() const { return static_cast<int>(sparse.size()); }
  // Sum over features of max_bag: a bound on the ids (so on the distinct rows) of one sample.
  int64_t max_ids_per_sample() const;
  FeatureLayout layout() const;

  std::string ToJson() const;
  // INVALID_ARGUMENT (what is wrong) for malformed JSON, a missing field, a bad feature name,
  // columns that do not follow the layout, or an unknown version.
  static absl::StatusOr<Manifest> FromJson(const std::string& text);
};

// The column files a manifest of this layout must list, in order (names, files, dtypes; bytes
// and CRCs left 0).
std::vector<ColumnFile> ExpectedColumns(const FeatureLayout& layout);

inline constexpr char kLabelFile[] = "label.u8";
std::string DenseFileName(std::string_view name);    // "I3.f32"
std::string SparseFileName(std::string_view name);   // "C7.u32"
std::string OffsetsFileName(std::string_view name);  // "C7.o64"
std::string VocabFileName(std::string_view name);    // "vocab/C7.u32"

}  // namespace augur::data
