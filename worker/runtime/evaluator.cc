// Held-out evaluation: AUC and log-loss of the trained model, with embedding rows read straight
// from the shards (the caches are flushed by then), batch by batch through the slot array.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "common/plan/plan.h"
#include "worker/runtime/slot_cache.h"
#include "worker/runtime/trainer.h"

namespace augur::worker {

EvalResult ScorePredictions(const std::vector<float>& probs, const std::vector<float>& labels) {
  EvalResult r;
  r.samples = static_cast<int64_t>(probs.size());
  if (probs.empty()) return r;
  double ll = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    double p = std::clamp<double>(probs[i], 1e-7, 1 - 1e-7);
    ll -= labels[i] > 0.5f ? std::log(p) : std::log(1 - p);
  }
  r.logloss = ll / static_cast<double>(probs.size());
  // AUC by the rank-sum (Mann-Whitney) statistic, ties sharing their average rank.
  std::vector<size_t> order(probs.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return probs[a] < probs[b]; });
  double rank_sum = 0, pos = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && probs[order[j]] == probs[order[i]]) ++j;
    double avg_rank = (static_cast<double>(i) + static_cast<double>(j) + 1) / 2.0;
    for (size_t k = i; k < j; ++k)
      if (labels[order[k]] > 0.5f) rank_sum += avg_rank, ++pos;
    i = j;
  }
  double neg = static_cast<double>(probs.size()) - pos;
  r.auc = pos > 0 && neg > 0 ? (rank_sum - pos * (pos + 1) / 2) / (pos * neg) : 0.5;
  return r;
}

absl::StatusOr<EvalResult> Evaluate(const data::Dataset& eval, int64_t batch, int64_t max_samples,
                                    shard::ShardClient* shards, model::DenseCompute* compute) {
  // A held-out set smaller than one batch is evaluated as a single batch.
  batch = std::max<int64_t>(1, std::min(batch, eval.num_rows()));
  data::BatchShape shape{batch, 1};
  int64_t batches = eval.num_batches(shape);
  if (max_samples > 0) batches = std::min(batches, std::max<int64_t>(1, max_samples / batch));
  const int F = compute->config().num_sparse;
  const int rf = compute->row_floats();
  data::Slice slice(batch);
  std::vector<float> probs, labels, scratch(batch);
  std::vector<model::SlotIndex> slots;
  for (int64_t b = 0; b < batches; ++b) {
    AUGUR_RETURN_IF_ERROR(eval.FillSlice(b, 0, shape, &slice));
    if (slice.num_sparse != F)
      return absl::FailedPreconditionError("the eval set's features do not match the model's");
    absl::flat_hash_map<plan::RowKey, model::SlotIndex> slot_of;
    std::vector<plan::RowKey> keys;
    slots.resize(slice.sparse.size());
    for (int f = 0; f < F; ++f) {
      const int64_t begin = slice.offsets[f * (batch + 1)], end = slice.offsets[f * (batch + 1) + batch];
      for (int64_t j = begin; j < end; ++j) {
        plan::RowKey k = plan::MakeKey(f, slice.sparse[j]);
        auto [it, fresh] = slot_of.try_emplace(k, static_cast<model::SlotIndex>(keys.size()));
        if (fresh) keys.push_back(k);
        slots[j] = it->second;
      }
    }
    std::vector<std::vector<size_t>> index;
    auto rows = shards->Lookup(BlocksByTable(keys, &index), /*with_state=*/true).get();
    if (!rows.ok()) return rows.status();
    std::vector<model::SlotIndex> dst;
    std::vector<float> records;
    for (size_t bl = 0; bl < rows->size(); ++bl)
      for (size_t i = 0; i < index[bl].size(); ++i) {
        dst.push_back(static_cast<model::SlotIndex>(index[bl][i]));
        const auto& v = (*rows)[bl].values;
        records.insert(records.end(), v.begin() + static_cast<ptrdiff_t>(i) * rf,
                       v.begin() + static_cast<ptrdiff_t>(i + 1) * rf);
      }
    AUGUR_RETURN_IF_ERROR(compute->WriteSlots(dst, records));
    model::Minibatch mb;
    mb.batch_size = static_cast<int>(batch);
    mb.global_batch_size = batch;
    mb.dense = slice.dense;
    mb.labels = slice.labels;
    mb.offsets = slice.offsets;
    mb.slots = slots;
    AUGUR_RETURN_IF_ERROR(compute->Predict(mb, absl::MakeSpan(scratch)));
    probs.insert(probs.end(), scratch.begin(), scratch.end());
    labels.insert(labels.end(), slice.labels.begin(), slice.labels.end());
  }
  return ScorePredictions(probs, labels);
}

}  // namespace augur::worker
