// Open addressing over a power-of-two table at most half full, with a generation stamp per slot
// so a new feature or batch starts from an empty table without clearing it.
#include "common/data/dedup.h"

#include <bit>

#include "common/status.h"

namespace augur::data {

void BatchDeduplicator::DedupFeature(std::span<const uint32_t> ids, DedupedSlice* out,
                                     uint32_t* inverse) {
  const size_t want = std::bit_ceil(std::max<size_t>(16, ids.size() * 2));
  if (keys_.size() < want) {
    keys_.assign(want, 0);
    values_.assign(want, 0);
    stamps_.assign(want, 0);
    stamp_ = 0;
    shift_ = 32 - std::countr_zero(want);
  }
  if (++stamp_ == 0) {  // wrapped: old stamps could alias, start clean
    std::fill(stamps_.begin(), stamps_.end(), 0);
    stamp_ = 1;
  }
  const uint32_t mask = static_cast<uint32_t>(keys_.size() - 1);
  const uint32_t base = static_cast<uint32_t>(out->unique.size());
  for (size_t s = 0; s < ids.size(); ++s) {
    const uint32_t id = ids[s];
    uint32_t h = (id * 0x9E3779B1u) >> shift_;
    h &= mask;
    while (stamps_[h] == stamp_ && keys_[h] != id) h = (h + 1) & mask;
    if (stamps_[h] != stamp_) {
      stamps_[h] = stamp_;
      keys_[h] = id;
      values_[h] = static_cast<uint32_t>(out->unique.size()) - base;
      out->unique.push_back(id);
    }
    if (inverse != nullptr) inverse[s] = values_[h];
  }
}

void BatchDeduplicator::Dedup(const SparseSliceView& ids, DedupedSlice* out, bool with_inverse) {
  const int ns = static_cast<int>(ids.size());
  size_t total = 0;
  for (const auto& f : ids) total += f.size();
  out->unique.clear();
  out->offsets.resize(ns + 1);
  if (with_inverse) {
    out->inverse.resize(total);
  } else {
    out->inverse.clear();
  }
  size_t at = 0;
  for (int f = 0; f < ns; ++f) {
    out->offsets[f] = static_cast<int64_t>(out->unique.size());
    DedupFeature(ids[f], out, with_inverse ? out->inverse.data() + at : nullptr);
    at += ids[f].size();
  }
  out->offsets[ns] = static_cast<int64_t>(out->unique.size());
}

void BatchDeduplicator::Dedup(const Slice& slice, DedupedSlice* out, bool with_inverse) {
  view_.resize(slice.num_sparse);
  for (int f = 0; f < slice.num_sparse; ++f) view_[f] = slice.ids(f);
  Dedup(view_, out, with_inverse);
}

absl::Status FillIterationReads(const Dataset& dataset, int64_t batch, const BatchShape& shape,
                                BatchDeduplicator* dedup, plan::IterationReads* out) {
  out->by_worker.resize(shape.num_workers);
  DedupedSlice& d = dedup->scratch();
  for (int w = 0; w < shape.num_workers; ++w) {
    AUGUR_ASSIGN_OR_RETURN(SparseSliceView view, dataset.SparseSlice(batch, w, shape));
    dedup->Dedup(view, &d, /*with_inverse=*/false);
    auto& keys = out->by_worker[w];
    keys.clear();
    keys.reserve(d.num_unique());
    for (int f = 0; f < d.num_sparse(); ++f) {
      for (uint32_t id : d.unique_ids(f)) keys.push_back(plan::MakeKey(f, id));
    }
  }
  return absl::OkStatus();
}

IterationReadsStream::IterationReadsStream(const Dataset& dataset, BatchShape shape,
                                           int64_t max_batches)
    : dataset_(dataset), shape_(shape) {
  end_ = dataset.num_batches(shape);
  if (max_batches >= 0) end_ = std::min(end_, max_batches);
}

bool IterationReadsStream::Next(plan::IterationReads* out) {
  if (next_ >= end_) return false;
  // Every 16 batches, drop the pages already consumed from the resident set (one madvise per
  // column; the consumer already copied the keys it keeps).
  if (next_ % 16 == 0) dataset_.ReleaseSparseBefore(next_ * shape_.global());
  status_ = FillIterationReads(dataset_, next_, shape_, &dedup_, out);
  if (!status_.ok()) return false;  // a damaged multi-hot offsets file
  ++next_;
  return true;
}

}  // namespace augur::data
