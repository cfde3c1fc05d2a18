// Writes a binary dataset directory (layout in manifest.h) atomically.
//
// Everything goes into a temporary directory beside the target (`.<name>.tmp-<pid>-<n>`); Finish
// fsyncs every file, writes manifest.json last, fsyncs, and renames the directory into place. A
// failure or a writer destroyed before Finish removes the temporary directory, so a reader never
// sees a half-written dataset under the target name (a crash can leave only the hidden temp dir).
//
// Rows arrive either raw (`AppendRow`, from the Criteo readers: the dense transform and the
// categorical mapping are applied here) or already final (`AppendBlock`, from the generator).
// Ownership: the writer owns its files. Thread-safety: none; one thread appends.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/data/criteo_line.h"
#include "common/data/manifest.h"

namespace augur::data {

// Rows in final column form, for a writer's layout: n labels, one vector of n floats per dense
// feature, and per sparse feature its ids (n for a one-hot feature; for a multi-hot feature all
// bags one after the other, with bag sizes in `lengths[f]`, n entries; `lengths[f]` is empty for
// a one-hot feature).
struct ColumnBlock {
  std::vector<uint8_t> labels;
  std::vector<std::vector<float>> dense;
  std::vector<std::vector<uint32_t>> sparse;
  std::vector<std::vector<uint32_t>> lengths;
  // n rows of `layout`; multi-hot features' ids are left empty (their size is not known).
  void Resize(size_t n, const FeatureLayout& layout);
  size_t size() const { return labels.size(); }
};

// One row as a text parser produced it: final dense values, raw 32-bit categorical values (the
// writer maps them: hash / mod / vocabulary) of every sparse feature one after the other, and the
// number of values each feature contributed (1 for a one-hot feature).
struct RawRow {
  uint8_t label = 0;
  std::vector<float> dense;
  std::vector<uint32_t> ids;
  std::vector<uint32_t> lengths;
};

struct DatasetWriterOptions {
  FeatureLayout layout = FeatureLayout::Criteo();
  SparseTransform transform = SparseTransform::kHash;
  uint64_t max_rows = 0;      // kMod: ids = hash mod max_rows (> 0)
  uint64_t min_count = 0;     // kVocab built here: keep ids seen >= min_count times (> 0)
  std::string vocab_from;     // kVocab from an existing dataset directory's vocabulary
  std::vector<uint64_t> table_rows;  // kSynthetic: each sparse feature's table size
  std::string dense_transform = "log1p(max(x,0)); missing=0";  // recorded in the manifest
  std::map<std::string, std::string> source;  // provenance recorded in the manifest
};

// The dense transform of the DLRM reference: log(1 + max(x, 0)); missing values are 0.
float DenseTransform(int64_t x);

class DatasetWriter {
 public:
  // ALREADY_EXISTS when `out_dir` exists and is not an empty directory; INVALID_ARGUMENT for an
  // inconsistent option set or layout; a --vocab-from dataset of another layout is
  // INVALID_ARGUMENT too; errors of `vocab_from` (NOT_FOUND, DATA_LOSS) pass through.
  static absl::StatusOr<std::unique_ptr<DatasetWriter>> Create(const std::string& out_dir,
                                                               DatasetWriterOptions options);
  virtual ~DatasetWriter() = default;

  // A parsed Criteo row (the writer's layout must be FeatureLayout::Criteo()): applies the
  // dense transform and the categorical mapping.
  virtual absl::Status AppendRow(const CriteoRow& row) = 0;
  // A row of any layout with final dense values: applies the categorical mapping.
  // INVALID_ARGUMENT when its sizes do not follow the layout (a one-hot feature with other than
  // one value).
  virtual absl::Status AppendRaw(const RawRow& row) = 0;
  // Final values (kSynthetic): ids must be < table_rows (checked; INVALID_ARGUMENT otherwise).
  virtual absl::Status AppendBlock(const ColumnBlock& block) = 0;
  // Adds a provenance entry to the manifest.
  virtual void SetSource(const std::string& key, const std::string& value) = 0;
  // Completes the dataset and renames it into place; returns its manifest.
  virtual absl::StatusOr<Manifest> Finish() = 0;
  virtual int64_t rows() const = 0;
};

}  // namespace augur::data
