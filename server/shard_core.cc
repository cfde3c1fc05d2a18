// ShardCore: registry, validation, lookup and write-back. The parameter-server path
// (ApplyGradients) is in shard_apply.cc.
#include "server/shard_core.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "common/limits.h"
#include "common/metrics.h"
#include "common/status.h"
#include "server/row_codec.h"

namespace augur::shard {

ShardCore::ShardCore(std::unique_ptr<ShardStore> store, const ShardCoreOptions& options)
    : options_(options), store_(std::move(store)) {}

struct ShardCore::StatsLink {
  absl::Mutex mu;
  ShardStore* store ABSL_GUARDED_BY(mu) = nullptr;
  uint64_t hits ABSL_GUARDED_BY(mu) = 0;  // ticker values already added to the counters
  uint64_t misses ABSL_GUARDED_BY(mu) = 0;
};

ShardCore::~ShardCore() {
  if (stats_link_) {
    absl::MutexLock lock(&stats_link_->mu);
    stats_link_->store = nullptr;
  }
}

// RocksDB's tickers are cumulative; the registry's counters only increment, so the collector
// adds the difference since its last run.
void ShardCore::RegisterBlockCacheCollector(MetricsRegistry* m, std::shared_ptr<StatsLink> link) {
  Counter* hit = m->GetCounter("augur_shard_block_cache_hit_total",
                               "RocksDB block cache hits (rocksdb::Statistics)");
  Counter* miss = m->GetCounter("augur_shard_block_cache_miss_total",
                                "RocksDB block cache misses (rocksdb::Statistics)");
  m->AddCollector([link, hit, miss] {
    absl::MutexLock lock(&link->mu);
    if (!link->store) return;
    StoreStats s = link->store->Stats();
    hit->Increment(static_cast<double>(s.block_cache_hits - link->hits));
    miss->Increment(static_cast<double>(s.block_cache_misses - link->misses));
    link->hits = s.block_cache_hits;
    link->misses = s.block_cache_misses;
  });
}

absl::StatusOr<std::unique_ptr<ShardCore>> ShardCore::Open(std::unique_ptr<ShardStore> store,
                                                           const ShardCoreOptions& options) {
  if (options.num_shards == 0 || options.shard_index >= options.num_shards)
    return absl::InvalidArgumentError("shard index " + std::to_string(options.shard_index) +
                                      " is not below num_shards " +
                                      std::to_string(options.num_shards));
  std::unique_ptr<ShardCore> core(new ShardCore(std::move(store), options));
  AUGUR_ASSIGN_OR_RETURN(core->registry_, TableRegistry::Load(core->store_.get()));
  auto applied = core->store_->GetMeta(kAppliedIterationKey);
  if (applied.ok()) {
    int64_t it = -1;
    auto [p, ec] = std::from_chars(applied->data(), applied->data() + applied->size(), it);
    if (ec != std::errc()) return absl::DataLossError("corrupt applied_iteration record");
    absl::MutexLock lock(&core->write_mu_);
    core->applied_iteration_ = it;
  } else if (!absl::IsNotFound(applied.status())) {
    return applied.status();
  }
  if (options.metrics) {
    core->rows_read_ = options.metrics->GetCounter("augur_shard_rows_read_total",
                                                   "Rows returned by Lookup");
    core->rows_written_ = options.metrics->GetCounter(
        "augur_shard_rows_written_total", "Rows written by Write and ApplyGradients");
    core->stats_link_ = std::make_shared<StatsLink>();
    {
      absl::MutexLock lock(&core->stats_link_->mu);
      core->stats_link_->store = core->store_.get();
    }
    RegisterBlockCacheCollector(options.metrics, core->stats_link_);
  }
  return core;
}

absl::StatusOr<bool> ShardCore::CreateTable(const TableSpec& spec) {
  absl::MutexLock lock(&write_mu_);
  return registry_->Create(spec);
}

std::vector<TableSpec> ShardCore::ListTables() const { return registry_->List(); }

absl::Status ShardCore::DropTable(uint32_t table_id) {
  // Under write_mu_ so no in-flight Write can re-create rows of the dropped table.
  absl::MutexLock lock(&write_mu_);
  return registry_->Drop(table_id);
}

absl::Status ShardCore::Checkpoint(const std::string& dir, bool replace) {
  return store_->Checkpoint(dir, replace);
}

int64_t ShardCore::applied_iteration() const {
  absl::MutexLock lock(&write_mu_);
  return applied_iteration_;
}

absl::StatusOr<std::vector<TableSpec>> ShardCore::Validate(const std::vector<RowBlock>& blocks,
                                                           Payload payload,
                                                           bool versions_required) const {
  uint64_t total = 0;
  for (const auto& b : blocks) total += b.rows.size();
  if (total > options_.max_request_rows)
    return absl::ResourceExhaustedError("request has " + std::to_string(total) +
                                        " rows, limit is " +
                                        std::to_string(options_.max_request_rows));
  std::vector<TableSpec> specs;
  specs.reserve(blocks.size());
  for (const auto& b : blocks) {
    AUGUR_ASSIGN_OR_RETURN(TableSpec spec, registry_->Get(b.table_id));
    const std::string where = "table " + std::to_string(b.table_id) + ": ";
    for (uint64_t r : b.rows) {
      if (r >= spec.rows)
        return absl::OutOfRangeError(where + "row " + std::to_string(r) + " >= rows " +
                                     std::to_string(spec.rows));
      if (ShardOf(b.table_id, r, options_.num_shards) != options_.shard_index)
        return absl::InvalidArgumentError(where + "row " + std::to_string(r) +
                                          " does not belong to shard " +
                                          std::to_string(options_.shard_index) + " of " +
                                          std::to_string(options_.num_shards));
    }
    size_t per_row = payload == Payload::kNone      ? 0
                     : payload == Payload::kRecords ? spec.RowFloats()
                                                    : spec.dim;
    if (b.values.size() != b.rows.size() * per_row)
      return absl::InvalidArgumentError(where + std::to_string(b.values.size()) +
                                        " floats for " + std::to_string(b.rows.size()) +
                                        " rows x " + std::to_string(per_row));
    bool versions_ok = b.versions.size() == b.rows.size() ||
                       (!versions_required && b.versions.empty());
    if (!versions_ok)
      return absl::InvalidArgumentError(where + std::to_string(b.versions.size()) +
                                        " versions for " + std::to_string(b.rows.size()) +
                                        " rows");
    for (int64_t v : b.versions)
      if (v < 0) return absl::InvalidArgumentError(where + "negative version");
      else if (v > kMaxVersion)
        return absl::OutOfRangeError(where + "version " + std::to_string(v) +
                                     " is outside 0.." + std::to_string(kMaxVersion));
    // A NaN or inf row or gradient would poison the table for every later reader.
    for (size_t i = 0; i < b.values.size(); ++i)
      if (!std::isfinite(b.values[i]))
        return absl::InvalidArgumentError(where + "row " +
                                          std::to_string(b.rows[i / std::max<size_t>(per_row, 1)]) +
                                          " carries a non-finite value");
    specs.push_back(std::move(spec));
  }
  return specs;
}

absl::Status ShardCore::ReadRecords(const TableSpec& spec, const std::vector<uint64_t>& rows,
                                    std::vector<float>& records,
                                    std::vector<int64_t>& versions) const {
  const int rf = spec.RowFloats();
  records.resize(rows.size() * rf);
  versions.assign(rows.size(), 0);
  std::vector<uint8_t> found;
  AUGUR_RETURN_IF_ERROR(store_->ReadRows(spec.id, rows, rf, records, versions, found));
  for (size_t i = 0; i < rows.size(); ++i)
    if (!found[i]) InitialRowRecord(spec, rows[i], records.data() + i * rf);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RowBlock>> ShardCore::Lookup(const std::vector<RowBlock>& blocks,
                                                        bool with_state) const {
  AUGUR_ASSIGN_OR_RETURN(auto specs, Validate(blocks, Payload::kNone, false));
  std::vector<RowBlock> out(blocks.size());
  uint64_t rows_read = 0;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const auto& req = blocks[b];
    const auto& spec = specs[b];
    RowBlock& res = out[b];
    res.table_id = req.table_id;
    res.rows = req.rows;
    AUGUR_RETURN_IF_ERROR(ReadRecords(spec, req.rows, res.values, res.versions));
    for (size_t i = 0; i < req.versions.size(); ++i)
      if (res.versions[i] < req.versions[i])
        return absl::AbortedError("table " + std::to_string(req.table_id) + " row " +
                                  std::to_string(req.rows[i]) + " has version " +
                                  std::to_string(res.versions[i]) + ", waiting for " +
                                  std::to_string(req.versions[i]));
    const int rf = spec.RowFloats();
    if (!with_state && rf != static_cast<int>(spec.dim)) {
      // Compact in place: row i's value moves from i*rf to i*dim (never overlaps forward).
      for (size_t i = 0; i < req.rows.size(); ++i)
        std::memmove(res.values.data() + i * spec.dim, res.values.data() + i * rf,
                     spec.dim * sizeof(float));
      res.values.resize(req.rows.size() * spec.dim);
    }
    rows_read += req.rows.size();
  }
  if (rows_read_) rows_read_->Increment(static_cast<double>(rows_read));
  return out;
}

absl::Status ShardCore::Write(const std::vector<RowBlock>& blocks) {
  absl::MutexLock lock(&write_mu_);
  AUGUR_ASSIGN_OR_RETURN(auto specs, Validate(blocks, Payload::kRecords, true));
  StoreBatch batch;
  // Newest version per (table, row) seen so far: stored, then earlier in this request.
  std::map<uint32_t, std::unordered_map<uint64_t, int64_t>> latest;
  std::vector<float> scratch;
  std::vector<int64_t> stored;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const auto& blk = blocks[b];
    const int rf = specs[b].RowFloats();
    AUGUR_RETURN_IF_ERROR(ReadRecords(specs[b], blk.rows, scratch, stored));
    auto& seen = latest[blk.table_id];
    for (size_t i = 0; i < blk.rows.size(); ++i) {
      auto [it, fresh] = seen.emplace(blk.rows[i], stored[i]);
      if (blk.versions[i] < it->second)
        return absl::FailedPreconditionError(
            "stale write: table " + std::to_string(blk.table_id) + " row " +
            std::to_string(blk.rows[i]) + " version " + std::to_string(blk.versions[i]) +
            " is older than " + std::to_string(it->second));
      it->second = blk.versions[i];
      batch.PutRow(blk.table_id, blk.rows[i],
                   std::span<const float>(blk.values.data() + i * rf, rf), blk.versions[i]);
    }
  }
  AUGUR_RETURN_IF_ERROR(store_->Commit(batch));
  if (rows_written_) rows_written_->Increment(static_cast<double>(batch.rows_put()));
  return absl::OkStatus();
}

}  // namespace augur::shard
