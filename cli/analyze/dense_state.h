// Helpers for simulator state kept in arrays indexed by dense row id (cache_sim.h): grow an array
// to cover a whole slice before stepping it, and prefetch the entries of ids a few places ahead so
// the cache misses of one slice overlap (the arrays outgrow the CPU caches once a trace has a few
// hundred thousand distinct rows). Internal to cli/analyze.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace augur::analyze {

inline constexpr size_t kPrefetchAhead = 8;

// Makes v[id] valid for every id of the slice, new entries set to `fill`.
template <typename T>
void CoverSlice(std::vector<T>* v, std::span<const uint32_t> slice, const T& fill) {
  uint32_t most = 0;
  for (uint32_t id : slice) most = std::max(most, id);
  if (!slice.empty() && most >= v->size()) {
    v->resize(std::max<size_t>(size_t{most} + 1, v->size() * 2), fill);
  }
}

// Prefetches v[slice[j + kPrefetchAhead]] for writing when there is one.
template <typename T>
void PrefetchAhead(const std::vector<T>& v, std::span<const uint32_t> slice, size_t j) {
  if (j + kPrefetchAhead < slice.size()) __builtin_prefetch(&v[slice[j + kPrefetchAhead]], 1);
}

}  // namespace augur::analyze
