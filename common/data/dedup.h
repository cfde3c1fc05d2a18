// Per-batch deduplication (the RecD / KeyedJaggedTensor idea): a slice reads each distinct id of a
// table once, and samples refer to it through an inverse index. The oracle plans on the unique
// ids; a worker gathers unique rows once and expands them with the inverse index. Both use this
// one utility, so they agree on what "the rows of slice w" are.
//
// Thread-safety: a BatchDeduplicator holds scratch space; use one per thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "common/data/dataset.h"
#include "common/plan/plan.h"

namespace augur::data {

// The deduplicated ids of one slice.
struct DedupedSlice {
  int64_t batch_size = 0;
  // Feature f's unique ids, in order of first occurrence: unique[offsets[f] .. offsets[f+1]).
  std::vector<uint32_t> unique;
  std::array<int64_t, kNumSparse + 1> offsets{};
  // inverse[f·B + s] = position of sample s's id within feature f's unique ids (empty when
  // deduplicated without the inverse).
  std::vector<uint32_t> inverse;

  std::span<const uint32_t> unique_ids(int f) const {
    return std::span<const uint32_t>(unique).subspan(offsets[f], offsets[f + 1] - offsets[f]);
  }
  int64_t num_unique() const { return offsets[kNumSparse]; }
};

class BatchDeduplicator {
 public:
  // Deduplicates every feature of a slice (all spans the same length B). Once warmed up to a
  // batch size it allocates nothing (`out`'s vectors keep their capacity).
  void Dedup(const SparseSliceView& ids, DedupedSlice* out, bool with_inverse = true);
  // The same for a feature-major buffer of 26·B ids (Slice::sparse).
  void Dedup(std::span<const uint32_t> feature_major, int64_t batch_size, DedupedSlice* out,
             bool with_inverse = true);
  // Scratch output for callers that only pass ids through (FillIterationReads).
  DedupedSlice& scratch() { return scratch_; }

 private:
  // Appends the unique ids of `ids` to out->unique; writes inverse positions when asked.
  void DedupFeature(std::span<const uint32_t> ids, DedupedSlice* out, uint32_t* inverse);
  std::vector<uint32_t> keys_, values_, stamps_;
  uint32_t stamp_ = 0;
  int shift_ = 32;
  DedupedSlice scratch_;
};

// The rows iteration `batch` reads: by_worker[w] = plan::MakeKey(feature, id) for the unique
// ids of slice w (table id = feature index 0..25). Reuses `out`'s vectors. Errors: those of
// Dataset::SparseSlice (OUT_OF_RANGE past the last full batch).
absl::Status FillIterationReads(const Dataset& dataset, int64_t batch, const BatchShape& shape,
                                BatchDeduplicator* dedup, plan::IterationReads* out);

// Streams IterationReads for batches 0..num_batches-1, releasing consumed mapped pages as it
// goes so memory stays bounded (the planner's `next` callback).
class IterationReadsStream {
 public:
  IterationReadsStream(const Dataset& dataset, BatchShape shape, int64_t max_batches = -1);
  // Fills the next iteration's reads; false after the last batch.
  bool Next(plan::IterationReads* out);
  int64_t batches() const { return end_; }
  int64_t position() const { return next_; }

 private:
  const Dataset& dataset_;
  BatchShape shape_;
  BatchDeduplicator dedup_;
  int64_t next_ = 0, end_ = 0;
};

}  // namespace augur::data
