// The free capacity ("slack") at each point of a growing timeline, for the Belady simulators
// (belady_sims.cc): points are appended at the right, kept reuse intervals take units from every
// point they span, and the caller learns which points just became full. A min segment tree
// with per-node pending adds (never pushed down), grown by doubling; O(log points) per
// take or query.
// Memory: 16 bytes per point (two int32 per node, twice the points rounded up to a power of 2).
// Thread-safety: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace augur::analyze {

class SlackTree {
 public:
  // Appends a point with `slack` free units at position size().
  void Append(int32_t slack);
  int64_t size() const { return n_; }
  // The least slack in [a, b] (0 <= a <= b < size()).
  int32_t Min(int64_t a, int64_t b) const;
  // Takes `units` from every point of [a, b] (every point there must have at least that much) and
  // returns the rightmost point of [a, b] left with no slack, or -1.
  int64_t Take(int64_t a, int64_t b, int32_t units = 1);
  // The slack of one point (tests).
  int32_t At(int64_t i) const;

 private:
  static constexpr int32_t kUnused = INT32_MAX / 2;  // leaves past size(): never full
  void Grow();
  // Takes `units` from [a, b] under v; returns the least slack left there (without v's ancestors).
  int32_t Sub(size_t v, int64_t lo, int64_t hi, int64_t a, int64_t b, int32_t units);
  int32_t MinUnder(size_t v, int64_t lo, int64_t hi, int64_t a, int64_t b) const;
  int64_t RightmostEmpty(size_t v, int64_t lo, int64_t hi, int64_t a, int64_t b, int32_t above) const;
  // min_[v]: the least slack in v's subtree counting v's own pending add, not its ancestors'.
  // add_[v]: the pending add of every point under inner node v.
  std::vector<int32_t> min_, add_;
  int64_t leaves_ = 0, n_ = 0;
};

}  // namespace augur::analyze
