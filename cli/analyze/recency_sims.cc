// LRU and LFU on dense ids, with the slice rule. Both evict only after the whole slice has been
// read, so the slice's rows are the most recent ones and a victim is never one of them.
//
// LRU: the cache's recency order is the order rows were last read, so it is a queue of
// (row, iteration) entries appended on every read; the entry of a row read again goes stale in
// place (its iteration no longer matches) and is skipped when it reaches the front. One random
// access per read. The queue is compacted when stale entries outnumber the resident rows or the
// consumed front outgrows the rest, so it stays O(capacity + one slice).
//
// LFU: one list per use count (a row moves to the next list when read again, appended at the
// recent end), and a bitmap of the non-empty lists finds the least used one. O(1) per read; the
// scan for victims skips lists whose oldest row belongs to the slice being trained.
#include <algorithm>
#include <bit>

#include "cli/analyze/cache_sim.h"

namespace augur::analyze {
namespace {

template <typename T>
void GrowTo(std::vector<T>* v, uint32_t id, T fill) {
  if (id >= v->size()) v->resize(std::max<size_t>(id + 1, v->size() * 2), fill);
}

class LruSim : public CacheSim {
 public:
  LruSim(int num_workers, int64_t capacity) : capacity_(capacity), workers_(num_workers) {}

  void Step(int w, int64_t t, std::span<const uint32_t> slice) override {
    Worker& s = workers_[w];
    const int32_t now = static_cast<int32_t>(t);
    count_.accesses += static_cast<int64_t>(slice.size());
    for (uint32_t id : slice) {
      GrowTo(&s.last_read, id, kAbsent);
      int32_t& last = s.last_read[id];
      if (last != kAbsent) {
        ++count_.hits;
      } else {
        ++s.resident;
      }
      last = now;
      s.queue.push_back({id, now});
    }
    while (s.resident > capacity_) {
      const Entry e = s.queue[s.head++];
      if (s.last_read[e.id] != e.read_at) continue;  // read again later: a stale entry
      s.last_read[e.id] = kAbsent;
      --s.resident;
    }
    const size_t live = s.queue.size() - s.head;
    if (s.head > live || live > 2 * static_cast<size_t>(s.resident) + 1024) s.Compact();
  }

  HitCount Result() const override { return count_; }

 private:
  static constexpr int32_t kAbsent = -1;
  struct Entry {
    uint32_t id;
    int32_t read_at;
  };
  struct Worker {
    std::vector<int32_t> last_read;  // by id: iteration of the latest read while resident
    std::vector<Entry> queue;        // least recent first, from `head`
    size_t head = 0;
    int64_t resident = 0;
    void Compact() {
      size_t out = 0;
      for (size_t i = head; i < queue.size(); ++i) {
        if (last_read[queue[i].id] == queue[i].read_at) queue[out++] = queue[i];
      }
      queue.resize(out);
      head = 0;
    }
  };
  HitCount count_;
  int64_t capacity_;
  std::vector<Worker> workers_;
};

class LfuSim : public CacheSim {
 public:
  LfuSim(int num_workers, int64_t capacity) : capacity_(capacity), workers_(num_workers) {}

  void Step(int w, int64_t t, std::span<const uint32_t> slice) override {
    Worker& s = workers_[w];
    const int32_t now = static_cast<int32_t>(t);
    count_.accesses += static_cast<int64_t>(slice.size());
    for (uint32_t id : slice) {
      GrowTo(&s.rows, id, Row{});
      Row& r = s.rows[id];
      if (r.uses > 0) {
        ++count_.hits;
        s.Unlink(id);
      } else {
        ++s.resident;
      }
      ++r.uses;
      r.read_at = now;
      s.Append(id);
    }
    // Victims: the oldest row of the least-used list, skipping lists whose oldest row was read in
    // this iteration (then all of that list was: rows are appended in read order).
    uint32_t uses = 1;
    while (s.resident > capacity_) {
      uses = s.NextNonEmpty(uses);
      const uint32_t victim = s.lists[uses].head;
      if (s.rows[victim].read_at == now) {
        ++uses;
        continue;
      }
      s.Unlink(victim);
      s.rows[victim].uses = 0;
      --s.resident;
    }
  }

  HitCount Result() const override { return count_; }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  struct Row {
    uint32_t prev = kNil, next = kNil;
    uint32_t uses = 0;  // 0: not resident
    int32_t read_at = -1;
  };
  struct List {
    uint32_t head = kNil, tail = kNil;  // least recent first
  };
  struct Worker {
    std::vector<Row> rows;        // by id
    std::vector<List> lists;      // by use count
    std::vector<uint64_t> nonempty;  // bit per use count
    int64_t resident = 0;

    void Append(uint32_t id) {
      Row& r = rows[id];
      if (r.uses >= lists.size()) {
        lists.resize(std::max<size_t>(r.uses + 1, lists.size() * 2));
        nonempty.resize((lists.size() + 63) / 64, 0);
      }
      List& l = lists[r.uses];
      r.prev = l.tail;
      r.next = kNil;
      (l.tail == kNil ? l.head : rows[l.tail].next) = id;
      l.tail = id;
      nonempty[r.uses / 64] |= uint64_t{1} << (r.uses % 64);
    }
    void Unlink(uint32_t id) {
      Row& r = rows[id];
      List& l = lists[r.uses];
      (r.prev == kNil ? l.head : rows[r.prev].next) = r.next;
      (r.next == kNil ? l.tail : rows[r.next].prev) = r.prev;
      if (l.head == kNil) nonempty[r.uses / 64] &= ~(uint64_t{1} << (r.uses % 64));
    }
    // The least use count >= `from` with a non-empty list (one exists while the cache is over
    // capacity: it holds rows outside the slice).
    uint32_t NextNonEmpty(uint32_t from) const {
      size_t word = from / 64;
      uint64_t bits = nonempty[word] & (~uint64_t{0} << (from % 64));
      while (bits == 0) bits = nonempty[++word];
      return static_cast<uint32_t>(word * 64 + std::countr_zero(bits));
    }
  };
  HitCount count_;
  int64_t capacity_;
  std::vector<Worker> workers_;
};

}  // namespace

std::unique_ptr<CacheSim> MakeLruSim(int w, int64_t c) { return std::make_unique<LruSim>(w, c); }
std::unique_ptr<CacheSim> MakeLfuSim(int w, int64_t c) { return std::make_unique<LfuSim>(w, c); }

}  // namespace augur::analyze
