// Per-batch deduplication (the RecD / KeyedJaggedTensor idea): a slice reads each distinct id of a
// table once, and samples refer to it through an inverse index. The oracle plans on the unique
// ids; a worker gathers unique rows once and expands them with the inverse index. Both use this
// one utility, so they agree on what "the rows of slice w" are.
//
// Thread-safety: a BatchDeduplicator holds scratch space; use one per thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "common/data/dataset.h"
#include "common/plan/plan.h"

namespace augur::data {

// The deduplicated ids of one slice.
struct DedupedSlice {
  // Feature f's unique ids, in order of first occurrence: unique[offsets[f] .. offsets[f+1]).
  std::vector<uint32_t> unique;
  std::vector<int64_t> offsets;  // num_sparse + 1
  // inverse[j] = position of the slice's j-th id (feature-major, as Slice::sparse and the
  // concatenated view) within its feature's unique ids (empty when deduplicated without it).
  std::vector<uint32_t> inverse;

  std::span<const uint32_t> unique_ids(int f) const {
    return std::span<const uint32_t>(unique).subspan(offsets[f], offsets[f + 1] - offsets[f]);
  }
  int num_sparse() const { return static_cast<int>(offsets.size()) - 1; }
  int64_t num_unique() const { return offsets.back(); }
};

class BatchDeduplicator {
 public:
  // Deduplicates every feature of a slice (one span of ids per feature, any lengths). Once
  // warmed up to a slice size it allocates nothing (`out`'s vectors keep their capacity).
  void Dedup(const SparseSliceView& ids, DedupedSlice* out, bool with_inverse = true);
  // The same for a filled Slice.
  void Dedup(const Slice& slice, DedupedSlice* out, bool with_inverse = true);
  // Scratch output for callers that only pass ids through (FillIterationReads).
  DedupedSlice& scratch() { return scratch_; }

 private:
  // Appends the unique ids of `ids` to out->unique; writes inverse positions when asked.
  void DedupFeature(std::span<const uint32_t> ids, DedupedSlice* out, uint32_t* inverse);
  std::vector<uint32_t> keys_, values_, stamps_;
  SparseSliceView view_;
  uint32_t stamp_ = 0;
  int shift_ = 32;
  DedupedSlice scratch_;
};

// The rows iteration `batch` reads: by_worker[w] = plan::MakeKey(feature, id) for the unique
// ids of slice w (table id = feature index). Reuses `out`'s vectors. Errors: those of
// Dataset::SparseSlice (OUT_OF_RANGE past the last full batch).
absl::Status FillIterationReads(const Dataset& dataset, int64_t batch, const BatchShape& shape,
                                BatchDeduplicator* dedup, plan::IterationReads* out);

// Streams IterationReads for batches 0..num_batches-1, releasing consumed mapped pages as it
// goes so memory stays bounded (the planner's `next` callback).
class IterationReadsStream {
 public:
  IterationReadsStream(const Dataset& dataset, BatchShape shape, int64_t max_batches = -1);
  // Fills the next iteration's reads; false after the last batch, or at a damaged batch (then
  // status() says why).
  bool Next(plan::IterationReads* out);
  const absl::Status& status() const { return status_; }
  int64_t batches() const { return end_; }
  int64_t position() const { return next_; }

 private:
  const Dataset& dataset_;
  BatchShape shape_;
  BatchDeduplicator dedup_;
  int64_t next_ = 0, end_ = 0;
  absl::Status status_;
};

}  // namespace augur::data
