#include "worker/runtime/slot_cache.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "absl/container/flat_hash_set.h"

namespace augur::worker {

absl::Status ShardError(const absl::Status& st, const std::string& what) {
  // A shard that shuts down cancels its in-flight calls; for the job that is a lost shard, not
  // a cancellation by the user.
  auto code = st.code() == absl::StatusCode::kCancelled ? absl::StatusCode::kUnavailable : st.code();
  return absl::Status(code, what + ": " + std::string(st.message()));
}

std::vector<shard::RowBlock> BlocksByTable(const std::vector<plan::RowKey>& keys,
                                           std::vector<std::vector<size_t>>* index_of_block) {
  std::map<uint32_t, size_t> block_of_table;
  std::vector<shard::RowBlock> blocks;
  index_of_block->clear();
  for (size_t i = 0; i < keys.size(); ++i) {
    uint32_t t = plan::KeyTable(keys[i]);
    auto [it, fresh] = block_of_table.try_emplace(t, blocks.size());
    if (fresh) {
      blocks.emplace_back();
      blocks.back().table_id = t;
      index_of_block->emplace_back();
    }
    blocks[it->second].rows.push_back(plan::KeyRow(keys[i]));
    (*index_of_block)[it->second].push_back(i);
  }
  return blocks;
}

void SlotCache::IssueFills(const std::vector<plan::Fill>& fills) {
  // One round per need iteration, soonest first: a step waits only for the rows it needs, not
  // for rows of later steps that happen to share its plan, and the shard client sends them in
  // this order. Rounds stay small enough to meet their deadline on a slow link.
  std::vector<plan::Fill> sorted(fills);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const plan::Fill& a, const plan::Fill& b) { return a.need_at < b.need_at; });
  for (size_t b = 0; b < sorted.size();) {
    size_t e = b + 1;
    while (e < sorted.size() && e - b < kRowsPerRequest && sorted[e].need_at == sorted[b].need_at)
      ++e;
    IssueFillRound(std::vector<plan::Fill>(sorted.begin() + b, sorted.begin() + e));
    b = e;
  }
}

void SlotCache::IssueFillRound(std::vector<plan::Fill> fills) {
  FillRound round;
  round.fills = std::move(fills);
  round.first_need = round.fills.front().need_at;
  std::vector<plan::RowKey> keys;
  for (const auto& f : round.fills) {
    keys.push_back(f.key);
    round.first_need = std::min(round.first_need, f.need_at);
    slot_of_[f.key] = static_cast<model::SlotIndex>(f.slot);
    key_of_[f.slot] = f.key;
  }
  std::vector<std::vector<size_t>> index;
  auto blocks = BlocksByTable(keys, &index);
  bool any_version = false;
  for (const auto& f : round.fills) any_version |= f.min_version >= 0;
  round.per_block.resize(blocks.size());
  for (size_t b = 0; b < blocks.size(); ++b) {
    for (size_t i : index[b]) {
      round.per_block[b].push_back(&round.fills[i]);
      if (any_version) blocks[b].versions.push_back(std::max<int64_t>(round.fills[i].min_version, 0));
    }
  }
  round.result = shards_->Lookup(std::move(blocks), /*with_state=*/true,
                                 static_cast<size_t>(compute_->row_floats()));
  fills_.push_back(std::move(round));
}

absl::Status SlotCache::Apply(FillRound& round) {
  auto result = round.result.get();
  if (!result.ok()) return ShardError(result.status(), "fetching rows from the shards");
  const int rf = compute_->row_floats();
  std::vector<model::SlotIndex> slots;
  std::vector<float> records;
  for (size_t b = 0; b < result->size(); ++b) {
    const auto& block = (*result)[b];
    for (size_t i = 0; i < round.per_block[b].size(); ++i) {
      const plan::Fill& f = *round.per_block[b][i];
      int64_t v = block.versions[i];
      if (f.min_version >= 0 && v != f.min_version)
        return absl::DataLossError("stale read of table " + std::to_string(block.table_id) +
                                   " row " + std::to_string(block.rows[i]) + ": version " +
                                   std::to_string(v) + ", the plan expects " +
                                   std::to_string(f.min_version));
      slots.push_back(static_cast<model::SlotIndex>(f.slot));
      version_[f.slot] = v;
      stored_version_[f.slot] = v;
      records.insert(records.end(), block.values.begin() + static_cast<ptrdiff_t>(i) * rf,
                     block.values.begin() + static_cast<ptrdiff_t>(i + 1) * rf);
    }
  }
  return compute_->WriteSlots(slots, records);
}

absl::StatusOr<double> SlotCache::ApplyFillsFor(int64_t iteration) {
  double waited = 0;
  for (auto it = fills_.begin(); it != fills_.end();) {
    bool needed = it->first_need <= iteration;
    bool ready = it->result.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    if (!needed && !ready) {
      ++it;
      continue;
    }
    auto t0 = std::chrono::steady_clock::now();
    it->result.wait();
    waited += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto st = Apply(*it);
    if (!st.ok()) return st;
    it = fills_.erase(it);
  }
  return waited;
}

absl::Status SlotCache::ApplyAllFills() {
  while (!fills_.empty()) {
    auto st = Apply(fills_.front());
    fills_.pop_front();
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<model::SlotIndex> SlotCache::SlotOf(plan::RowKey key) const {
  auto it = slot_of_.find(key);
  if (it == slot_of_.end())
    return absl::InternalError("the plan does not cover table " +
                               std::to_string(plan::KeyTable(key)) + " row " +
                               std::to_string(plan::KeyRow(key)));
  return it->second;
}

std::vector<plan::Eviction> SlotCache::AllAsWriteBacks() const {
  std::vector<plan::Eviction> out;
  for (auto& [k, s] : slot_of_) out.push_back({k, static_cast<int32_t>(s), true});
  return out;
}

void SlotCache::Insert(plan::RowKey key, model::SlotIndex slot, int64_t version) {
  slot_of_[key] = slot;
  key_of_[slot] = key;
  version_[slot] = version;
  stored_version_[slot] = -1;
}

absl::Status SlotCache::Evict(const std::vector<plan::Eviction>& evictions, int64_t iteration) {
  std::vector<plan::RowKey> keys;
  std::vector<model::SlotIndex> slots;
  for (const auto& e : evictions) {
    if (e.write_back) {
      keys.push_back(e.key);
      slots.push_back(static_cast<model::SlotIndex>(e.slot));
    }
    slot_of_.erase(e.key);
  }
  return WriteRows(keys, slots, iteration);
}

absl::Status SlotCache::WriteBackAll(int64_t iteration) {
  // A row whose fill is still on its way is on the shards already (a fill reads a row no cache
  // holds, after its last write-back), and its slot still holds the row before it.
  absl::flat_hash_set<plan::RowKey> arriving;
  for (const auto& round : fills_)
    for (const auto& f : round.fills) arriving.insert(f.key);
  std::vector<plan::RowKey> keys;
  std::vector<model::SlotIndex> slots;
  for (auto& [k, s] : slot_of_)
    if (version_[s] != stored_version_[s] && !arriving.contains(k))
      keys.push_back(k), slots.push_back(s);
  return WriteRows(keys, slots, iteration);
}

absl::Status SlotCache::WriteRows(const std::vector<plan::RowKey>& keys,
                                  const std::vector<model::SlotIndex>& slots, int64_t iteration) {
  if (keys.empty()) return absl::OkStatus();
  const int rf = compute_->row_floats();
  std::vector<float> records(slots.size() * rf);
  auto st = compute_->ReadSlots(slots, absl::MakeSpan(records));
  if (!st.ok()) return st;
  for (size_t first = 0; first < keys.size(); first += kRowsPerRequest) {
    size_t end = std::min(keys.size(), first + kRowsPerRequest);
    std::vector<plan::RowKey> chunk(keys.begin() + first, keys.begin() + end);
    std::vector<std::vector<size_t>> index;
    auto blocks = BlocksByTable(chunk, &index);
    for (size_t b = 0; b < blocks.size(); ++b)
      for (size_t c : index[b]) {
        size_t i = first + c;
        blocks[b].values.insert(blocks[b].values.end(), records.begin() + static_cast<ptrdiff_t>(i) * rf,
                                records.begin() + static_cast<ptrdiff_t>(i + 1) * rf);
        blocks[b].versions.push_back(version_[slots[i]]);
        stored_version_[slots[i]] = version_[slots[i]];
      }
    writebacks_.emplace_back(iteration, shards_->Write(std::move(blocks)));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> SlotCache::WaitWriteBacks(int64_t iteration) {
  double waited = 0;
  while (!writebacks_.empty() && writebacks_.front().first <= iteration) {
    auto t0 = std::chrono::steady_clock::now();
    auto st = writebacks_.front().second.get();
    waited += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    writebacks_.pop_front();
    if (!st.ok()) return ShardError(st, "writing rows back to the shards");
  }
  return waited;
}

}  // namespace augur::worker
