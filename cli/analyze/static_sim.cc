// Static top-K with the slice rule. With the rows of a worker ranked by count (rank 0 = most
// read), pinning the top K leaves a slice S needing K + |S| - |{x in S : rank x < K}| rows, which
// never shrinks as K grows; so each slice allows every K up to a largest one, and the policy pins
// the least of those over the trace. A slice is checked against the current K in O(|S|); only a
// slice that refuses it pays a sort to find its own largest K, and K only goes down.
//
// Largest K for a slice S (ranks sorted r_0 < r_1 < ..., room = capacity - |S|): the pins that are
// not in S must fit in `room`, and the first K ranks hold r_j for every j with r_j < K, so K =
// room + |{j : r_j - j <= room}|.
#include <algorithm>
#include <numeric>

#include "cli/analyze/cache_sim.h"
#include "cli/analyze/dense_state.h"

namespace augur::analyze {

void RowCounts::Observe(int w, std::span<const uint32_t> slice) {
  auto& c = counts_[w];
  CoverSlice(&c, slice, 0u);
  for (size_t j = 0; j < slice.size(); ++j) {
    PrefetchAhead(c, slice, j);
    ++c[slice[j]];
  }
}

FrequencyRanks::FrequencyRanks(const RowCounts& counts) : workers_(counts.num_workers()) {
  for (int w = 0; w < counts.num_workers(); ++w) {
    const std::vector<uint32_t>& c = counts.of(w);
    std::vector<uint32_t> order(c.size());
    std::iota(order.begin(), order.end(), 0);
    // Ties in id order, i.e. the row first seen first: deterministic.
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return c[a] > c[b]; });
    Worker& k = workers_[w];
    k.rank.resize(c.size());
    k.top_reads.assign(1, 0);
    for (uint32_t r = 0; r < order.size(); ++r) {
      k.rank[order[r]] = r;
      if (c[order[r]] > 0) k.top_reads.push_back(k.top_reads.back() + c[order[r]]);
    }
  }
}

namespace {

class StaticTopKSim : public CacheSim {
 public:
  StaticTopKSim(int64_t capacity, std::shared_ptr<const FrequencyRanks> ranks, int num_workers)
      : capacity_(capacity), ranks_(std::move(ranks)), pins_(num_workers) {
    for (int w = 0; w < num_workers; ++w) {
      const int64_t rows = static_cast<int64_t>(ranks_->of(w).top_reads.size()) - 1;
      pins_[w] = std::min(capacity_, rows);
    }
  }

  void Step(int w, int64_t, std::span<const uint32_t> slice) override {
    const std::vector<uint32_t>& rank = ranks_->of(w).rank;
    int64_t& pins = pins_[w];
    int64_t pinned_in_slice = 0;
    for (size_t j = 0; j < slice.size(); ++j) {
      PrefetchAhead(rank, slice, j);
      pinned_in_slice += rank[slice[j]] < pins;
    }
    const int64_t size = static_cast<int64_t>(slice.size());
    if (pins + size - pinned_in_slice <= capacity_) return;
    std::vector<uint32_t>& r = scratch_;
    r.clear();
    for (uint32_t id : slice) r.push_back(rank[id]);
    std::sort(r.begin(), r.end());
    const int64_t room = capacity_ - size;
    int64_t j = 0;
    while (j < size && static_cast<int64_t>(r[j]) - j <= room) ++j;
    pins = std::min(pins, room + j);
  }

  HitCount Result() const override {
    HitCount h;
    for (size_t w = 0; w < pins_.size(); ++w) {
      const std::vector<int64_t>& top = ranks_->of(w).top_reads;
      h.accesses += top.back();
      h.hits += top[pins_[w]] - pins_[w];  // each pinned row's first read is its fetch
    }
    return h;
  }

 private:
  int64_t capacity_;
  std::shared_ptr<const FrequencyRanks> ranks_;
  std::vector<int64_t> pins_;  // K per worker
  std::vector<uint32_t> scratch_;
};

}  // namespace

std::unique_ptr<CacheSim> MakeStaticTopKSim(int64_t capacity,
                                            std::shared_ptr<const FrequencyRanks> ranks) {
  const int workers = static_cast<int>(ranks->num_workers());
  return std::make_unique<StaticTopKSim>(capacity, std::move(ranks), workers);
}

}  // namespace augur::analyze
