// The simulators keep their per-worker state in absl::flat_hash_map plus either an index-linked
// list (LRU) or a lazily invalidated heap (LFU, MIN): a heap entry is stale when it no longer
// matches the map, and the heap is rebuilt from the map when stale entries pile up.
#include "cli/analyze/cache_sim.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace augur::analyze {
namespace {

class LruSim : public CacheSim {
 public:
  LruSim(int w, int64_t c) : capacity_(c), workers_(w) {}
  void Step(const IterationReads& reads) override {
    for (size_t w = 0; w < reads.by_worker.size(); ++w) {
      Worker& s = workers_[w];
      for (RowKey k : reads.by_worker[w]) {
        ++count_.accesses;
        auto [it, inserted] = s.where.try_emplace(k, 0);
        if (!inserted) {
          ++count_.hits;
          s.Unlink(it->second);
        } else {
          it->second = s.Alloc(k);
        }
        s.PushFront(it->second);
      }
      while (static_cast<int64_t>(s.where.size()) > capacity_) {
        uint32_t victim = s.tail;
        s.Unlink(victim);
        s.where.erase(s.nodes[victim].key);
        s.free.push_back(victim);
      }
    }
  }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  struct Node {
    RowKey key;
    uint32_t prev, next;
  };
  struct Worker {
    absl::flat_hash_map<RowKey, uint32_t> where;
    std::vector<Node> nodes;
    std::vector<uint32_t> free;
    uint32_t head = kNil, tail = kNil;
    uint32_t Alloc(RowKey k) {
      if (!free.empty()) {
        uint32_t i = free.back();
        free.pop_back();
        nodes[i].key = k;
        return i;
      }
      nodes.push_back({k, kNil, kNil});
      return static_cast<uint32_t>(nodes.size() - 1);
    }
    void Unlink(uint32_t i) {
      Node& n = nodes[i];
      (n.prev == kNil ? head : nodes[n.prev].next) = n.next;
      (n.next == kNil ? tail : nodes[n.next].prev) = n.prev;
    }
    void PushFront(uint32_t i) {
      nodes[i].prev = kNil;
      nodes[i].next = head;
      (head == kNil ? tail : nodes[head].prev) = i;
      head = i;
    }
  };
  int64_t capacity_;
  std::vector<Worker> workers_;
};

class LfuSim : public CacheSim {
 public:
  LfuSim(int w, int64_t c) : capacity_(c), workers_(w) {}
  void Step(const IterationReads& reads) override {
    ++now_;
    for (size_t w = 0; w < reads.by_worker.size(); ++w) {
      Worker& s = workers_[w];
      for (RowKey k : reads.by_worker[w]) {
        ++count_.accesses;
        auto [it, inserted] = s.entries.try_emplace(k, Entry{0, 0});
        if (!inserted) ++count_.hits;
        it->second.uses++;
        it->second.last = now_;
        s.heap.push({it->second.uses, now_, k});
      }
      while (static_cast<int64_t>(s.entries.size()) > capacity_) {
        auto [uses, last, k] = s.heap.top();
        s.heap.pop();
        auto it = s.entries.find(k);
        if (it != s.entries.end() && it->second.uses == uses && it->second.last == last) {
          s.entries.erase(it);
        }
      }
      if (s.heap.size() > 4 * s.entries.size() + 4096) s.Rebuild();
    }
  }

 private:
  struct Entry {
    int64_t uses, last;
  };
  using Item = std::tuple<int64_t, int64_t, RowKey>;
  struct Worker {
    absl::flat_hash_map<RowKey, Entry> entries;
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap;
    void Rebuild() {
      std::vector<Item> items;
      items.reserve(entries.size());
      for (auto& [k, e] : entries) items.push_back({e.uses, e.last, k});
      heap = decltype(heap)(std::greater<Item>(), std::move(items));
    }
  };
  int64_t capacity_;
  int64_t now_ = 0;
  std::vector<Worker> workers_;
};

class BeladySim : public CacheSim {
 public:
  BeladySim(int w, int64_t c, std::shared_ptr<const BeladyNextUse> n)
      : capacity_(c), next_(std::move(n)), workers_(w) {}
  void Step(const IterationReads& reads) override {
    for (size_t w = 0; w < reads.by_worker.size(); ++w) {
      Worker& s = workers_[w];
      const auto& next = next_->next[w];
      for (RowKey k : reads.by_worker[w]) {
        ++count_.accesses;
        int32_t nu = next[s.cursor++];
        auto [it, inserted] = s.next_use.try_emplace(k, nu);
        if (!inserted) ++count_.hits;
        it->second = nu;
        s.heap.push({nu, k});
      }
      // Keep the rows needed soonest: evict the farthest next use (never-again rows first).
      while (static_cast<int64_t>(s.next_use.size()) > capacity_) {
        auto [nu, k] = s.heap.top();
        s.heap.pop();
        auto it = s.next_use.find(k);
        if (it != s.next_use.end() && it->second == nu) s.next_use.erase(it);
      }
      if (s.heap.size() > 4 * s.next_use.size() + 4096) {
        std::vector<std::pair<int32_t, RowKey>> items;
        for (auto& [k, nu] : s.next_use) items.push_back({nu, k});
        s.heap = decltype(s.heap)(std::less<std::pair<int32_t, RowKey>>(), std::move(items));
      }
    }
  }

 private:
  struct Worker {
    absl::flat_hash_map<RowKey, int32_t> next_use;
    std::priority_queue<std::pair<int32_t, RowKey>> heap;  // max-heap on next use
    size_t cursor = 0;
  };
  int64_t capacity_;
  std::shared_ptr<const BeladyNextUse> next_;
  std::vector<Worker> workers_;
};

}  // namespace

std::unique_ptr<CacheSim> MakeLruSim(int w, int64_t c) { return std::make_unique<LruSim>(w, c); }
std::unique_ptr<CacheSim> MakeLfuSim(int w, int64_t c) { return std::make_unique<LfuSim>(w, c); }
std::unique_ptr<CacheSim> MakeBeladySim(int w, int64_t c,
                                        std::shared_ptr<const BeladyNextUse> n) {
  return std::make_unique<BeladySim>(w, c, std::move(n));
}

struct BeladyNextUse::State {
  // Per worker: row -> index (into next[w]) of its latest access.
  std::vector<absl::flat_hash_map<RowKey, size_t>> last;
};

BeladyNextUse::BeladyNextUse(int num_workers)
    : next(num_workers), state_(std::make_shared<State>()) {
  state_->last.resize(num_workers);
}

void BeladyNextUse::Observe(const IterationReads& reads) {
  const int32_t now = static_cast<int32_t>(iteration_++);
  for (size_t w = 0; w < reads.by_worker.size(); ++w) {
    auto& last = state_->last[w];
    for (RowKey k : reads.by_worker[w]) {
      size_t idx = next[w].size();
      next[w].push_back(kNever);
      auto [it, inserted] = last.try_emplace(k, idx);
      if (!inserted) {
        next[w][it->second] = now;
        it->second = idx;
      }
    }
  }
}

struct AccessCounts::State {
  std::vector<absl::flat_hash_map<RowKey, int64_t>> counts;
  std::vector<std::vector<int64_t>> prefix;  // per worker: hits of pinning the top c rows
};

AccessCounts::AccessCounts(int num_workers) : state_(std::make_shared<State>()) {
  state_->counts.resize(num_workers);
}

void AccessCounts::Observe(const IterationReads& reads) {
  for (size_t w = 0; w < reads.by_worker.size(); ++w) {
    max_slice_rows_ = std::max<int64_t>(max_slice_rows_, reads.by_worker[w].size());
    for (RowKey k : reads.by_worker[w]) ++state_->counts[w][k];
  }
  state_->prefix.clear();
}

HitCount AccessCounts::StaticTopKHits(int64_t capacity) {
  if (state_->prefix.empty()) {
    for (auto& m : state_->counts) {
      std::vector<int64_t> c;
      c.reserve(m.size());
      for (auto& [k, n] : m) c.push_back(n);
      std::sort(c.rbegin(), c.rend());
      std::vector<int64_t> p(c.size() + 1, 0);
      for (size_t i = 0; i < c.size(); ++i) p[i + 1] = p[i] + c[i];
      state_->prefix.push_back(std::move(p));
    }
  }
  HitCount h;
  for (const auto& p : state_->prefix) {
    h.accesses += p.back();
    // Pinned rows still cost one compulsory fetch each, as in every other policy.
    int64_t pinned = std::min<int64_t>(capacity, static_cast<int64_t>(p.size()) - 1);
    h.hits += p[pinned] - pinned;
  }
  return h;
}

int64_t AccessCounts::distinct_rows() const {
  if (state_->counts.size() == 1) return static_cast<int64_t>(state_->counts[0].size());
  absl::flat_hash_set<RowKey> all;
  for (auto& m : state_->counts) {
    for (auto& [k, n] : m) all.insert(k);
  }
  return static_cast<int64_t>(all.size());
}

}  // namespace augur::analyze
