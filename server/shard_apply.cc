// The synchronous parameter-server path: buffer the pushes of one iteration, sum gradients per
// row in a fixed order, apply the shared optimizer, commit rows and the applied iteration in one
// batch. The summation order is part of the contract: within a push, duplicates are summed in
// request order; across pushes, the per-push sums are added in worker order. Workers on the
// cached path combine in the same order, so both paths produce bit-identical rows.
#include <cstring>
#include <unordered_map>

#include "common/limits.h"
#include "common/metrics.h"
#include "common/optimizer.h"
#include "common/status.h"
#include "server/row_codec.h"
#include "server/shard_core.h"

namespace augur::shard {
namespace {

// Per-row gradient sums of one table, rows kept in order of first appearance.
struct TableGradients {
  int dim = 0;
  std::vector<uint64_t> rows;
  std::vector<float> grads;  // rows.size() x dim
  std::unordered_map<uint64_t, size_t> index;

  // Adds `g` to row's sum; a row seen for the first time takes g as is (no 0 + g, which would
  // turn -0.0f into +0.0f and differ from a cache that stores the first gradient).
  void Add(uint64_t row, const float* g) {
    auto [it, fresh] = index.emplace(row, rows.size());
    if (fresh) {
      rows.push_back(row);
      grads.insert(grads.end(), g, g + dim);
      return;
    }
    float* acc = grads.data() + it->second * dim;
    for (int j = 0; j < dim; ++j) acc[j] += g[j];
  }
};

using PushSums = std::map<uint32_t, TableGradients>;

PushSums SumPush(const std::vector<RowBlock>& push, const std::map<uint32_t, int>& dims) {
  PushSums sums;
  for (const auto& b : push) {
    auto& t = sums[b.table_id];
    t.dim = dims.at(b.table_id);
    for (size_t i = 0; i < b.rows.size(); ++i) t.Add(b.rows[i], b.values.data() + i * t.dim);
  }
  return sums;
}

}  // namespace

absl::StatusOr<bool> ShardCore::ApplyGradients(const std::vector<RowBlock>& blocks,
                                               int64_t iteration, uint32_t worker,
                                               uint32_t num_workers) {
  // Bounds first: num_workers sizes a buffer, and iteration + 1 becomes a version.
  if (num_workers == 0 || num_workers > kMaxWorkers)
    return absl::InvalidArgumentError("num_workers " + std::to_string(num_workers) +
                                      " is outside 1.." + std::to_string(kMaxWorkers));
  if (worker >= num_workers)
    return absl::InvalidArgumentError("worker " + std::to_string(worker) +
                                      " is not below num_workers " +
                                      std::to_string(num_workers));
  if (iteration < 0) return absl::InvalidArgumentError("iteration must be >= 0");
  if (iteration > kMaxIteration)
    return absl::OutOfRangeError("iteration " + std::to_string(iteration) + " is outside 0.." +
                                 std::to_string(kMaxIteration));
  absl::MutexLock lock(&write_mu_);
  AUGUR_RETURN_IF_ERROR(Validate(blocks, Payload::kGradients, false).status());
  if (iteration <= applied_iteration_)
    return absl::FailedPreconditionError("iteration " + std::to_string(iteration) +
                                         " was already applied (last applied " +
                                         std::to_string(applied_iteration_) + ")");
  if (num_workers == 1) {
    AUGUR_RETURN_IF_ERROR(ApplyIteration(iteration, {blocks}));
    return true;
  }
  size_t push_bytes = 0;
  for (const auto& b : blocks) push_bytes += b.rows.size() * 8 + b.values.size() * 4;
  if (!pending_.count(iteration) && pending_.size() >= options_.max_pending_iterations)
    return absl::ResourceExhaustedError(
        std::to_string(pending_.size()) + " iterations are already waiting for pushes (limit " +
        std::to_string(options_.max_pending_iterations) + ")");
  if (pending_bytes_ + push_bytes > options_.max_pending_bytes)
    return absl::ResourceExhaustedError("buffered pushes would exceed " +
                                        std::to_string(options_.max_pending_bytes) + " bytes");
  auto [it, fresh] = pending_.try_emplace(iteration);
  PendingIteration& p = it->second;
  if (fresh) {
    p.num_workers = num_workers;
    p.pushes.resize(num_workers);
  } else if (p.num_workers != num_workers) {
    return absl::InvalidArgumentError("iteration " + std::to_string(iteration) + " has " +
                                      std::to_string(p.num_workers) + " workers, push says " +
                                      std::to_string(num_workers));
  }
  if (p.pushes[worker])
    return absl::FailedPreconditionError("duplicate push of worker " + std::to_string(worker) +
                                         " for iteration " + std::to_string(iteration));
  p.pushes[worker] = blocks;
  p.bytes += push_bytes;
  pending_bytes_ += push_bytes;
  if (++p.received < num_workers) return false;
  std::vector<std::vector<RowBlock>> pushes;
  for (auto& push : p.pushes) pushes.push_back(std::move(*push));
  // Iterations at or before this one can never complete now (their late pushes would be
  // refused as already applied): drop what they buffered.
  for (auto e = pending_.begin(); e != pending_.end() && e->first <= iteration;) {
    pending_bytes_ -= e->second.bytes;
    e = pending_.erase(e);
  }
  // The iteration is consumed even if applying fails: a half-applied retry would double-count.
  AUGUR_RETURN_IF_ERROR(ApplyIteration(iteration, pushes));
  return true;
}

absl::Status ShardCore::ApplyIteration(int64_t iteration,
                                       const std::vector<std::vector<RowBlock>>& pushes) {
  // Specs are re-read: a table may have been dropped while pushes were buffered.
  std::map<uint32_t, TableSpec> specs;
  std::map<uint32_t, int> dims;
  for (const auto& push : pushes)
    for (const auto& b : push)
      if (!specs.count(b.table_id)) {
        AUGUR_ASSIGN_OR_RETURN(TableSpec spec, registry_->Get(b.table_id));
        dims[b.table_id] = static_cast<int>(spec.dim);
        specs.emplace(b.table_id, std::move(spec));
      }
  PushSums total;
  for (const auto& push : pushes) {
    PushSums sums = SumPush(push, dims);
    for (auto& [table, tg] : sums) {
      auto& acc = total[table];
      acc.dim = tg.dim;
      for (size_t i = 0; i < tg.rows.size(); ++i)
        acc.Add(tg.rows[i], tg.grads.data() + i * tg.dim);
    }
  }
  StoreBatch batch;
  std::vector<float> records;
  std::vector<int64_t> versions;
  for (const auto& [table, tg] : total) {
    const TableSpec& spec = specs.at(table);
    const int rf = spec.RowFloats();
    AUGUR_RETURN_IF_ERROR(ReadRecords(spec, tg.rows, records, versions));
    // A row stored at a later version (a write-back from a cache) must not move backwards.
    for (size_t i = 0; i < tg.rows.size(); ++i)
      if (versions[i] > iteration)
        return absl::FailedPreconditionError(
            "table " + std::to_string(table) + " row " + std::to_string(tg.rows[i]) +
            " has version " + std::to_string(versions[i]) + ", newer than iteration " +
            std::to_string(iteration) + " may update");
    for (size_t i = 0; i < tg.rows.size(); ++i) {
      float* rec = records.data() + i * rf;
      ApplyRowUpdate(spec.optimizer, tg.dim, rec, rec + tg.dim, tg.grads.data() + i * tg.dim);
      batch.PutRow(table, tg.rows[i], std::span<const float>(rec, rf), iteration + 1);
    }
  }
  batch.PutMeta(std::string(kAppliedIterationKey), std::to_string(iteration));
  AUGUR_RETURN_IF_ERROR(store_->Commit(batch));
  applied_iteration_ = iteration;
  if (rows_written_) rows_written_->Increment(static_cast<double>(batch.rows_put()));
  return absl::OkStatus();
}

}  // namespace augur::shard
