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
// `full` refuses most intervals in O(1). The rest, all ending at the current iteration, are grouped
// by where they start, and each group costs two O(log iterations) tree walks, not each read.
#include <algorithm>
#include <functional>
#include <utility>

#include "cli/analyze/cache_sim.h"
#include "cli/analyze/dense_state.h"
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
      s.waiting.push_back(0);
      if (room <= 0) s.full = s.points.size() - 1;
    }
    count_.accesses += static_cast<int64_t>(slice.size());
    const int32_t now = static_cast<int32_t>(t);
    CoverSlice(&s.last_read, slice, -1);
    s.starts.clear();
    for (size_t j = 0; j < slice.size(); ++j) {
      PrefetchAhead(s.last_read, slice, j);
      const uint32_t id = slice[j];
      const int32_t p = s.last_read[id];
      s.last_read[id] = now;
      if (p < 0) continue;  // first read: compulsory miss
      const int32_t first = slice_takes_room_ ? p + 1 : p;
      if (first > t - 1) {  // read the iteration before: still resident with its slice
        ++count_.hits;
      } else if (first > s.full && s.waiting[first]++ == 0) {  // else a point between is full
        s.starts.push_back(first);
      }
    }
    KeepIntervals(&s, t);
    s.last_slice = static_cast<int64_t>(slice.size());
  }

  HitCount Result() const override { return count_; }
  void Reserve(int64_t num_ids) override {
    for (Worker& s : workers_) s.last_read.resize(num_ids, -1);
  }

 private:
  struct Worker {
    std::vector<int32_t> last_read;  // by id: the iteration of the latest read, -1 never
    SlackTree points;
    int64_t full = -1;  // rightmost point with no room left
    int64_t last_slice = 0;
    std::vector<int32_t> waiting;  // by first point: intervals ending now that start there
    std::vector<int32_t> starts;   // the first points with some waiting
  };

  // Keeps the intervals ending at t, shortest first (any order among equal ends is optimal, and
  // shortest first leaves the most room), a whole group of equal intervals per tree update: of k
  // intervals over [a, t-1], min(k, least slack there) fit.
  void KeepIntervals(Worker* s, int64_t t) {
    std::sort(s->starts.begin(), s->starts.end(), std::greater<int32_t>());
    for (int32_t a : s->starts) {
      const int32_t k = std::exchange(s->waiting[a], 0);
      if (a <= s->full) continue;
      const int32_t kept = std::min(k, s->points.Min(a, t - 1));
      count_.hits += kept;
      const int64_t full = s->points.Take(a, t - 1, kept);
      if (full >= 0) s->full = full;
    }
  }
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
