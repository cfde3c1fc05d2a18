// The free capacity ("slack") at each point of a growing timeline, for the Belady simulators
// (belady_sims.cc): points are appended at the right, a kept reuse interval takes one unit from
// every point it spans, and the caller learns which points just became full. A min segment tree
// with per-node pending adds (never pushed down), grown by doubling; O(log points) per take.
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
  // Takes one unit from every point of [a, b] (0 <= a <= b < size(); every point there must have
  // slack >= 1) and returns the rightmost point of [a, b] left with none, or -1.
  int64_t Take(int64_t a, int64_t b);
  // The slack of one point (tests).
  int32_t At(int64_t i) const;

 private:
  static constexpr int32_t kUnused = INT32_MAX / 2;  // leaves past size(): never full
  void Grow();
  // Takes one unit from [a, b] under v; returns the least slack left there (without v's ancestors).
  int32_t Sub(size_t v, int64_t lo, int64_t hi, int64_t a, int64_t b);
  int64_t RightmostEmpty(size_t v, int64_t lo, int64_t hi, int64_t a, int64_t b, int32_t above) const;
  // min_[v]: the least slack in v's subtree counting v's own pending add, not its ancestors'.
  // add_[v]: the pending add of every point under inner node v.
  std::vector<int32_t> min_, add_;
  int64_t leaves_ = 0, n_ = 0;
};

}  // namespace augur::analyze
