// Read access to a binary dataset directory (layout in manifest.h) and the batch arithmetic every
// process shares.
//
// Batches: with slice size B and W workers, global batch i is samples [i·B·W, (i+1)·B·W) and
// worker w's slice of it is [i·B·W + w·B, i·B·W + (w+1)·B). num_batches(B, W) = rows / (B·W):
// the final partial global batch is DROPPED, so every iteration has W full slices and the loss
// scaling never changes mid-epoch.
//
// Columns are memory-mapped read-only: opening costs no reads, a reader touches only the pages it
// uses (the oracle, which reads only sparse ids, never faults in a dense page), and the dataset is
// never copied into RAM. Ownership: the Dataset owns the mappings; spans it returns are valid for
// its lifetime. Thread-safety: every const method may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/data/manifest.h"

namespace augur::data {

class MappedFile;

struct BatchShape {
  int64_t batch_size = 0;  // B: samples per worker slice
  int num_workers = 1;     // W
  int64_t global() const { return batch_size * num_workers; }
};

// [begin, end) sample indices of worker w's slice of global batch i.
struct SampleRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
SampleRange SliceRange(int64_t batch, int worker, const BatchShape& shape);

// One slice in the layout the model takes (worker/model/dense_compute.h Minibatch): filled by
// Dataset::FillSlice, which grows the vectors once and then reuses them.
//   dense:   B x num_dense, row-major
//   labels:  B
//   sparse:  every id of the slice, feature-major; within a feature, sample by sample (a
//            multi-hot sample's bag in file order)
//   offsets: num_sparse x (B+1), absolute into `sparse`: sample b's bag of feature f is
//            sparse[offsets[f*(B+1)+b] .. offsets[f*(B+1)+b+1]); the features tile `sparse`.
struct Slice {
  explicit Slice(int64_t batch_size = 0) : batch_size(batch_size) {}
  int64_t batch_size = 0;
  int num_sparse = 0;
  std::vector<float> dense;
  std::vector<float> labels;
  std::vector<uint32_t> sparse;
  std::vector<int64_t> offsets;
  // Feature f's ids (every sample's bag, in sample order).
  std::span<const uint32_t> ids(int feature) const {
    const int64_t b = batch_size;
    return std::span<const uint32_t>(sparse).subspan(
        offsets[feature * (b + 1)], offsets[feature * (b + 1) + b] - offsets[feature * (b + 1)]);
  }
};

// The sparse ids of one slice: per feature, a span straight into the mapped column (no copy);
// for a multi-hot feature, every id of the slice's samples.
using SparseSliceView = std::vector<std::span<const uint32_t>>;

struct DatasetOpenOptions {
  // Read every column and compare its CRC-32 with the manifest (costs a full read).
  bool verify_checksums = false;
  // Map only the sparse columns; dense and label files need not exist (the oracle's view).
  bool sparse_only = false;
};

class Dataset {
 public:
  // Errors name the file: NOT_FOUND when `dir` or manifest.json is missing; DATA_LOSS for an
  // unreadable manifest, a missing or wrongly sized column, or a CRC mismatch; INVALID_ARGUMENT
  // for a manifest of an unknown format version.
  static absl::StatusOr<std::unique_ptr<Dataset>> Open(const std::string& dir,
                                                       const DatasetOpenOptions& options = {});
  ~Dataset();
  Dataset(const Dataset&) = delete;
  Dataset& operator=(const Dataset&) = delete;

  int64_t num_rows() const { return manifest_.rows; }
  const Manifest& manifest() const { return manifest_; }
  const std::string& dir() const { return dir_; }
  uint64_t table_rows(int feature) const { return manifest_.sparse[feature].table_rows; }
  int num_dense() const { return manifest_.num_dense(); }
  int num_sparse() const { return manifest_.num_sparse(); }
  bool has_dense() const { return !sparse_only_; }

  // Full global batches of B·W samples; the final partial one is dropped (see the file comment).
  int64_t num_batches(const BatchShape& shape) const;

  // Whole columns. dense_column / labels are empty for a sparse_only dataset. A multi-hot
  // feature's sparse_column holds all its ids; offsets_column (rows + 1 values) says whose they
  // are, and is empty for a one-hot feature.
  std::span<const uint32_t> sparse_column(int feature) const;
  std::span<const uint64_t> offsets_column(int feature) const;
  std::span<const float> dense_column(int j) const;
  std::span<const uint8_t> labels() const;

  // Zero-copy view of slice (batch, worker)'s ids. OUT_OF_RANGE past num_batches; DATA_LOSS
  // naming the file when a multi-hot feature's offsets inside the slice decrease or run past
  // its ids (offsets are checked where they are read, not at Open).
  absl::StatusOr<SparseSliceView> SparseSlice(int64_t batch, int worker,
                                              const BatchShape& shape) const;
  // Copies slice (batch, worker) into `out` (sized here; no allocation once warmed up).
  // OUT_OF_RANGE past num_batches; DATA_LOSS as SparseSlice; FAILED_PRECONDITION on a
  // sparse_only dataset.
  absl::Status FillSlice(int64_t batch, int worker, const BatchShape& shape, Slice* out) const;

  // Lets the kernel drop the mapped pages of sparse rows [0, end_row) from this process's
  // resident set: a streaming reader (the oracle, the trace analyzer) keeps its memory bounded
  // by its window, not by the dataset. Data stay readable (re-faulted from the page cache).
  void ReleaseSparseBefore(int64_t end_row) const;

 private:
  Dataset() = default;
  absl::Status CheckBatch(int64_t batch, int worker, const BatchShape& shape) const;
  // Feature f's ids of samples [r.begin, r.end); for multi-hot, checks the offsets it reads.
  absl::StatusOr<std::span<const uint32_t>> FeatureIds(int f, SampleRange r) const;

  std::string dir_;
  Manifest manifest_;
  bool sparse_only_ = false;
  // Manifest column order (ExpectedColumns); null if unmapped.
  std::vector<std::unique_ptr<MappedFile>> files_;
  std::vector<int> offsets_file_;  // per sparse feature: index into files_, -1 for one-hot
};

}  // namespace augur::data
