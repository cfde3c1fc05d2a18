// SlotCache: the worker's host-side bookkeeping of its embedding cache. The rows themselves live
// in the DenseCompute's slot array (host or device memory); this class knows which row is in
// which slot and at which version, runs the plan's fills as async shard lookups, and tracks
// write-backs until the shards acknowledge them.
//
// Fills are applied (copied into the slot array) on the trainer thread: every fill a step needs
// is waited for first (that wait is the stall), finished fills of later steps are applied
// whenever the trainer passes by. A fill lands in a slot the plan guarantees is free.
//
// No stale reads: a fill with a known minimum version must return exactly that version (the
// shard client retries while an older one is stored); anything else fails the run.
//
// Thread-safety: none; the trainer thread owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <future>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/plan/plan.h"
#include "server/client/shard_client.h"
#include "worker/model/dense_compute.h"

namespace augur::worker {

class SlotCache {
 public:
  // Rows per shard-client call: fills arrive (and are applied) in rounds of at most this many;
  // the client cuts each call into requests that fit their deadline on a slow link.
  static constexpr size_t kRowsPerRequest = 8192;

  SlotCache(shard::ShardClient* shards, model::DenseCompute* compute)
      : shards_(shards), compute_(compute) {}

  // Sends the lookups of `fills`, one shard-client call per need iteration, soonest first, and
  // records their slots.
  void IssueFills(const std::vector<plan::Fill>& fills);
  // Applies every outstanding fill needed at or before `iteration` (waiting for them) and every
  // other fill that already arrived. Returns the seconds spent waiting.
  absl::StatusOr<double> ApplyFillsFor(int64_t iteration);
  // Applies all outstanding fills.
  absl::Status ApplyAllFills();

  // The slot holding `key`; NOT_FOUND when the plan never put it here (a planner/data mismatch).
  absl::StatusOr<model::SlotIndex> SlotOf(plan::RowKey key) const;
  bool Holds(plan::RowKey key) const { return slot_of_.contains(key); }
  plan::RowKey KeyOf(model::SlotIndex slot) const { return key_of_[slot]; }
  // Every row currently cached (for a flush on cancel).
  std::vector<plan::Eviction> AllAsWriteBacks() const;
  int64_t version(model::SlotIndex slot) const { return version_[slot]; }
  void set_version(model::SlotIndex slot, int64_t v) { version_[slot] = v; }
  // Records a row received from a peer.
  void Insert(plan::RowKey key, model::SlotIndex slot, int64_t version);
  // Forgets rows leaving the cache; writes back the ones marked write_back (async), tagged with
  // the iteration so WaitWriteBacks can bound how far training runs ahead of the shards.
  absl::Status Evict(const std::vector<plan::Eviction>& evictions, int64_t iteration);
  // Writes every cached row the shards do not already hold back, without evicting it
  // (a checkpoint or an evaluation reads the shards next): a row whose version is the one its
  // fill read or its last write-back wrote is there already, and so is a row whose fill is
  // still in flight (it need not land first). Returns through the write-backs.
  absl::Status WriteBackAll(int64_t iteration);
  // Waits for write-backs tagged <= iteration. Returns seconds spent waiting.
  absl::StatusOr<double> WaitWriteBacks(int64_t iteration);
  size_t size() const { return slot_of_.size(); }

 private:
  struct FillRound {
    std::future<absl::StatusOr<std::vector<shard::RowBlock>>> result;
    std::vector<std::vector<const plan::Fill*>> per_block;  // fills of each request block
    std::vector<plan::Fill> fills;
    int64_t first_need;
  };
  absl::Status Apply(FillRound& round);
  absl::Status WriteRows(const std::vector<plan::RowKey>& keys,
                         const std::vector<model::SlotIndex>& slots, int64_t iteration);
  void IssueFillRound(std::vector<plan::Fill> fills);

  shard::ShardClient* shards_;
  model::DenseCompute* compute_;
  absl::flat_hash_map<plan::RowKey, model::SlotIndex> slot_of_;
  std::vector<int64_t> version_ = std::vector<int64_t>(compute_->capacity(), 0);
  // The version the shards hold of each slot's row, as far as this cache knows: what its fill
  // read or its last write-back wrote; -1 for a row handed over by a peer.
  std::vector<int64_t> stored_version_ = std::vector<int64_t>(compute_->capacity(), -1);
  std::vector<plan::RowKey> key_of_ = std::vector<plan::RowKey>(compute_->capacity(), 0);
  std::deque<FillRound> fills_;
  std::deque<std::pair<int64_t, std::future<absl::Status>>> writebacks_;
};

// `st` of a failed shard call, prefixed with `what`; CANCELLED becomes UNAVAILABLE.
absl::Status ShardError(const absl::Status& st, const std::string& what);

// Groups (key, payload) items into one RowBlock per table, preserving order within a table.
std::vector<shard::RowBlock> BlocksByTable(const std::vector<plan::RowKey>& keys,
                                           std::vector<std::vector<size_t>>* index_of_block);

}  // namespace augur::worker
