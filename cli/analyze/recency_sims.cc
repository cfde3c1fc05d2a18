// LRU and LFU on dense ids, with the slice rule. Both evict only after the whole slice has been
// read, so the slice's rows are the most recent ones and a victim is never one of them.
//
// LRU: the cache's recency order is the order rows were last read, so it is a queue of
// (row, iteration) entries appended on every read; the entry of a row read again goes stale in
// place (its iteration no longer matches) and is skipped when it reaches the front. One random
// access per read. The queue is compacted when stale entries outnumber the resident rows or the
// consumed front outgrows the rest, so it stays O(capacity + one slice).
//
// LFU: the same idea per use count: a row read for the u-th time since it entered is appended to
// queue u (its entry in queue u-1 goes stale), so each queue is in recency order and victims come
// from the front of the least-used queue. One random access per read; the scan for victims skips
// a queue whose oldest live row belongs to the slice being trained. Compacted when stale entries
// outnumber resident rows.
#include <algorithm>

#include "cli/analyze/cache_sim.h"
#include "cli/analyze/dense_state.h"

namespace augur::analyze {
namespace {

class LruSim : public CacheSim {
 public:
  LruSim(int num_workers, int64_t capacity) : capacity_(capacity), workers_(num_workers) {}

  void Step(int w, int64_t t, std::span<const uint32_t> slice) override {
    Worker& s = workers_[w];
    const int32_t now = static_cast<int32_t>(t);
    count_.accesses += static_cast<int64_t>(slice.size());
    CoverSlice(&s.last_read, slice, kAbsent);
    for (size_t j = 0; j < slice.size(); ++j) {
      PrefetchAhead(s.last_read, slice, j);
      const uint32_t id = slice[j];
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
  void Reserve(int64_t num_ids) override {
    for (Worker& s : workers_) s.last_read.resize(num_ids, kAbsent);
  }

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
    CoverSlice(&s.rows, slice, Row{});
    for (size_t j = 0; j < slice.size(); ++j) {
      PrefetchAhead(s.rows, slice, j);
      const uint32_t id = slice[j];
      Row& r = s.rows[id];
      if (r.uses > 0) {
        ++count_.hits;  // its entry in queues[uses] goes stale
      } else {
        ++s.resident;
      }
      ++r.uses;
      r.read_at = now;
      if (r.uses >= s.queues.size()) s.queues.resize(r.uses + 1);
      s.queues[r.uses].push_back({id, now});
      ++s.entries;
    }
    // Victims: the oldest row of the least-used queue, skipping a queue once its oldest live entry
    // was read in this iteration (then every later one was too: entries are appended in order).
    for (size_t uses = 1; s.resident > capacity_; ++uses) {
      Queue& q = s.queues[uses];
      while (q.head < q.entries.size() && s.resident > capacity_) {
        const Entry e = q.entries[q.head];
        const Row& r = s.rows[e.id];
        if (r.uses != uses || r.read_at != e.read_at) {  // stale
          ++q.head;
        } else if (e.read_at == now) {
          break;
        } else {
          ++q.head;
          s.rows[e.id].uses = 0;
          --s.resident;
        }
      }
    }
    if (s.entries > 2 * s.resident + 4096) s.Compact();
  }

  HitCount Result() const override { return count_; }
  void Reserve(int64_t num_ids) override {
    for (Worker& s : workers_) s.rows.resize(num_ids);
  }

 private:
  struct Row {
    uint32_t uses = 0;  // since it entered the cache; 0: not resident
    int32_t read_at = -1;
  };
  struct Entry {
    uint32_t id;
    int32_t read_at;
  };
  struct Queue {
    std::vector<Entry> entries;  // least recent first, from `head`
    size_t head = 0;
    void push_back(Entry e) { entries.push_back(e); }
  };
  struct Worker {
    std::vector<Row> rows;      // by id
    std::vector<Queue> queues;  // by use count: the rows that reached it, in order
    int64_t resident = 0;
    int64_t entries = 0;  // stored in all queues, consumed fronts included
    // Drops stale entries and consumed fronts: afterwards one entry per resident row.
    void Compact() {
      entries = 0;
      for (size_t uses = 0; uses < queues.size(); ++uses) {
        Queue& q = queues[uses];
        size_t out = 0;
        for (size_t i = q.head; i < q.entries.size(); ++i) {
          const Row& r = rows[q.entries[i].id];
          if (r.uses == uses && r.read_at == q.entries[i].read_at) q.entries[out++] = q.entries[i];
        }
        q.entries.resize(out);
        q.head = 0;
        entries += static_cast<int64_t>(out);
      }
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
