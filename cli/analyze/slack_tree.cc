// Node v covers [lo, hi]; the root is 1 and leaf i is leaves_ + i. A point's slack is its leaf's
// min_ plus the add_ of every strict ancestor. Appends touch no pending add: a range never covers
// a point that did not exist when it was taken, so the new leaf's ancestors carry none.
#include "cli/analyze/slack_tree.h"

#include <algorithm>

namespace augur::analyze {

void SlackTree::Grow() {
  const int64_t leaves = std::max<int64_t>(leaves_ * 2, 64);
  std::vector<int32_t> min(2 * leaves, kUnused), add(2 * leaves, 0);
  for (int64_t i = 0; i < n_; ++i) min[leaves + i] = At(i);
  for (int64_t v = leaves - 1; v >= 1; --v) min[v] = std::min(min[2 * v], min[2 * v + 1]);
  min_ = std::move(min);
  add_ = std::move(add);
  leaves_ = leaves;
}

void SlackTree::Append(int32_t slack) {
  if (n_ == leaves_) Grow();
  size_t v = leaves_ + n_++;
  min_[v] = slack;
  for (v /= 2; v >= 1; v /= 2) min_[v] = add_[v] + std::min(min_[2 * v], min_[2 * v + 1]);
}

int32_t SlackTree::At(int64_t i) const {
  size_t v = leaves_ + i;
  int32_t s = min_[v];
  for (v /= 2; v >= 1; v /= 2) s += add_[v];
  return s;
}

int32_t SlackTree::Sub(size_t v, int64_t lo, int64_t hi, int64_t a, int64_t b, int32_t units) {
  if (a <= lo && hi <= b) {
    if (v < static_cast<size_t>(leaves_)) add_[v] -= units;
    return min_[v] -= units;
  }
  const int64_t mid = (lo + hi) / 2;
  int32_t least = kUnused;
  if (a <= mid) least = std::min(least, Sub(2 * v, lo, mid, a, b, units));
  if (b > mid) least = std::min(least, Sub(2 * v + 1, mid + 1, hi, a, b, units));
  min_[v] = add_[v] + std::min(min_[2 * v], min_[2 * v + 1]);
  return add_[v] + least;
}

int32_t SlackTree::MinUnder(size_t v, int64_t lo, int64_t hi, int64_t a, int64_t b) const {
  if (a <= lo && hi <= b) return min_[v];
  const int64_t mid = (lo + hi) / 2;
  int32_t least = kUnused;
  if (a <= mid) least = std::min(least, MinUnder(2 * v, lo, mid, a, b));
  if (b > mid) least = std::min(least, MinUnder(2 * v + 1, mid + 1, hi, a, b));
  return add_[v] + least;
}

int32_t SlackTree::Min(int64_t a, int64_t b) const { return MinUnder(1, 0, leaves_ - 1, a, b); }

int64_t SlackTree::RightmostEmpty(size_t v, int64_t lo, int64_t hi, int64_t a, int64_t b,
                                  int32_t above) const {
  if (hi < a || b < lo || above + min_[v] > 0) return -1;
  if (lo == hi) return lo;
  const int64_t mid = (lo + hi) / 2;
  const int32_t below = above + add_[v];
  int64_t r = RightmostEmpty(2 * v + 1, mid + 1, hi, a, b, below);
  return r >= 0 ? r : RightmostEmpty(2 * v, lo, mid, a, b, below);
}

int64_t SlackTree::Take(int64_t a, int64_t b, int32_t units) {
  // Most takes leave every point of the range with slack: skip the search then.
  if (Sub(1, 0, leaves_ - 1, a, b, units) > 0) return -1;
  return RightmostEmpty(1, 0, leaves_ - 1, a, b, 0);
}

}  // namespace augur::analyze
