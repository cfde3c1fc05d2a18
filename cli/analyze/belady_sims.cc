// batch-min and min as interval selection. A hit of row x at iteration t, last read at p, means x
// stayed resident from p to t: a reuse interval. Rows enter a cache only when read, so a schedule
// is exactly the set of intervals it keeps, and it is feasible when at every point the kept
// intervals fit:
//   batch-min  points are iterations j strictly inside (p, t), with room capacity - |S(w,j)|
//              (the slice of j is resident too); a reuse at t = p + 1 spans nothing and always hits
//   min        points are the gaps between iterations p..t-1, with room capacity (only rows carried
//              across a gap count)
// Taking intervals in the order they end, each one whenever it fits, keeps the most of them (an
// exchange argument: the first interval the optimum drops but the greedy keeps can replace the
// later-ending one that blocks it), and the result is the Belady schedule's hit count. Points only
// fill up, so once a point is full every interval over it is refused: the rightmost full point
// `full` decides in O(1) whether an interval ending now fits, and only a kept interval pays the
// O(log iterations) update.
#include <algorithm>

#include "cli/analyze/cache_sim.h"
#include "cli/analyze/slack_tree.h"

namespace augur::analyze {
namespace {

class IntervalBeladySim : public CacheSim {
 public:
  // slice_takes_room: batch-min (the slice occupies its iteration) rather than min.
  IntervalBeladySim(int num_workers, int64_t capacity, bool slice_takes_room)
      : capacity_(capacity), slice_takes_room_(slice_takes_room), workers_(num_workers) {}

  void Step(int w, int64_t t, std::span<const uint32_t> slice) override {
    Worker& s = workers_[w];
    while (s.points.size() < t) {  // the point of iteration (or gap after) t - 1 is complete
      const int64_t room = slice_takes_room_ ? capacity_ - s.last_slice : capacity_;
      s.points.Append(static_cast<int32_t>(std::min<int64_t>(room, INT32_MAX / 4)));
      if (room <= 0) s.full = s.points.size() - 1;
    }
    count_.accesses += static_cast<int64_t>(slice.size());
    const int32_t now = static_cast<int32_t>(t);
    for (uint32_t id : slice) {
      if (id >= s.last_read.size()) s.last_read.resize(std::max<size_t>(id + 1, s.last_read.size() * 2), -1);
      const int32_t p = s.last_read[id];
      s.last_read[id] = now;
      if (p < 0) continue;  // first read: compulsory miss
      const int64_t first = slice_takes_room_ ? p + 1 : p;
      if (first > t - 1) {  // read the iteration before: still resident with its slice
        ++count_.hits;
        continue;
      }
      if (first <= s.full) continue;  // some point in between has no room left
      ++count_.hits;
      const int64_t full = s.points.Take(first, t - 1);
      if (full >= 0) s.full = full;
    }
    s.last_slice = static_cast<int64_t>(slice.size());
  }

  HitCount Result() const override { return count_; }

 private:
  struct Worker {
    std::vector<int32_t> last_read;  // by id: the iteration of the latest read, -1 never
    SlackTree points;
    int64_t full = -1;  // rightmost point with no room left
    int64_t last_slice = 0;
  };
  HitCount count_;
  int64_t capacity_;
  bool slice_takes_room_;
  std::vector<Worker> workers_;
};

}  // namespace

std::unique_ptr<CacheSim> MakeBatchMinSim(int num_workers, int64_t capacity) {
  return std::make_unique<IntervalBeladySim>(num_workers, capacity, true);
}
std::unique_ptr<CacheSim> MakeMinSim(int num_workers, int64_t capacity) {
  return std::make_unique<IntervalBeladySim>(num_workers, capacity, false);
}

}  // namespace augur::analyze
