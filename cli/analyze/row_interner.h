// (table, row) keys -> dense ids 0, 1, 2, ... in order of first sight, so the cache simulators
// keep arrays indexed by id rather than hash maps. One interner serves every worker and every pass
// over a trace, so a row keeps its id throughout.
//
// An open-addressing table (linear probing, at most half full, 16 bytes a slot): a lookup is one
// cache miss, and Intern prefetches the slots of the keys a few places ahead, so a slice's misses
// overlap instead of queueing. Memory: 32-64 bytes per distinct key. Thread-safety: none.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/plan/plan.h"

namespace augur::analyze {

class RowInterner {
 public:
  RowInterner();
  // ids[i] = the id of keys[i], giving new keys the next ids.
  void Intern(std::span<const plan::RowKey> keys, std::vector<uint32_t>* ids);
  int64_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t key_plus_one = 0;  // 0: empty (a key is < 2^64 - 1: the table id has 24 bits)
    uint32_t id = 0;
  };
  size_t Home(plan::RowKey k) const { return (k * 0x9E3779B97F4A7C15ull) >> shift_; }
  void Grow();
  std::vector<Slot> slots_;
  int shift_;
  int64_t size_ = 0;
};

}  // namespace augur::analyze
