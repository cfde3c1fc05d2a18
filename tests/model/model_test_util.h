// Small random DLRM inputs for the model tests: a tiny config, a slot array, and minibatches
// with multi-hot bags (including empty bags and repeated rows) that own their storage.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "worker/model/dense_compute.h"
#include "worker/model/dlrm_config.h"

namespace augur::model::testing {

inline DlrmConfig TinyConfig(bool self_interaction = false) {
  DlrmConfig c;
  c.num_dense = 4;
  c.num_sparse = 3;
  c.dim = 4;
  c.bottom = {8, 4};
  c.top = {6, 5, 1};
  c.self_interaction = self_interaction;
  return c;
}

// TinyConfig with the DCNv2 interaction: F=3, dim 4 (cross width 16), 2 cross layers of rank 3.
inline DlrmConfig TinyDcnConfig(int num_dense = 4) {
  DlrmConfig c = TinyConfig();
  c.num_dense = num_dense;
  c.interaction = Interaction::kDcn;
  c.cross_layers = 2;
  c.cross_rank = 3;
  return c;
}

// TinyConfig without dense features (no bottom MLP; `bottom` stays set and is ignored).
inline DlrmConfig TinyNoDenseConfig(Interaction interaction = Interaction::kDot) {
  DlrmConfig c = interaction == Interaction::kDcn ? TinyDcnConfig(0) : TinyConfig();
  c.num_dense = 0;
  return c;
}

// A minibatch whose bags name "rows" 0..num_rows-1; SlotsFor maps rows to slots.
struct OwnedBatch {
  int batch = 0;
  int64_t global = 0;
  std::vector<float> dense, labels;
  std::vector<int64_t> offsets;
  std::vector<uint32_t> rows;   // row ids per bag entry (feature-major, like slots)
  std::vector<SlotIndex> slots; // filled by PlaceRows

  Minibatch view() const {
    Minibatch mb;
    mb.batch_size = batch;
    mb.global_batch_size = global;
    mb.dense = dense;
    mb.labels = labels;
    mb.offsets = offsets;
    mb.slots = slots;
    return mb;
  }
  // Row r lives in slot slot_of_row[r].
  void PlaceRows(const std::vector<SlotIndex>& slot_of_row) {
    slots.clear();
    for (uint32_t r : rows) slots.push_back(slot_of_row[r]);
  }
};

inline OwnedBatch RandomBatch(const DlrmConfig& c, int batch, int num_rows, uint32_t seed,
                              int max_bag = 3) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> bag(0, max_bag);
  std::uniform_int_distribution<uint32_t> row(0, num_rows - 1);
  OwnedBatch b;
  b.batch = batch;
  b.global = 2 * batch;  // as if a second worker held the other half
  for (int i = 0; i < batch * c.num_dense; ++i) b.dense.push_back(normal(gen));
  for (int i = 0; i < batch; ++i) b.labels.push_back(static_cast<float>(gen() & 1));
  for (int f = 0; f < c.num_sparse; ++f) {
    for (int s = 0; s < batch; ++s) {
      b.offsets.push_back(static_cast<int64_t>(b.rows.size()));
      int n = bag(gen);
      for (int k = 0; k < n; ++k) b.rows.push_back(row(gen));
    }
    b.offsets.push_back(static_cast<int64_t>(b.rows.size()));
  }
  std::vector<SlotIndex> identity(num_rows);
  for (int r = 0; r < num_rows; ++r) identity[r] = r;
  b.PlaceRows(identity);
  return b;
}

// num_rows embedding rows of `dim` values, normal(0, 0.5).
inline std::vector<float> RandomRows(int num_rows, int dim, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  std::vector<float> v(static_cast<size_t>(num_rows) * dim);
  for (auto& x : v) x = normal(gen);
  return v;
}

// Checks ApplyEmbeddingGradients against the host path on one backend: from the same slot
// contents, ForwardBackward(mb, &emb) + UpdateSlots(emb) and ForwardBackward(mb, nullptr) +
// ApplyEmbeddingGradients must leave bit-identical records in `slots`, the kept gradients must
// apply once only, and a ForwardBackward that returns them must leave none kept. Returns ""
// when all holds, else what failed. Leaves the host path's records in the slots.
inline std::string CheckKeptEmbeddingGradients(DenseCompute& dc, const Minibatch& mb,
                                               const std::vector<SlotIndex>& slots,
                                               const OptimizerConfig& opt) {
  const size_t n = slots.size() * static_cast<size_t>(dc.row_floats());
  std::vector<float> before(n), host(n), kept(n);
  if (!dc.ReadSlots(slots, absl::MakeSpan(before)).ok()) return "ReadSlots failed";
  if (!dc.ForwardBackward(mb, nullptr).ok()) return "ForwardBackward(mb, nullptr) failed";
  std::vector<SlotIndex> kept_slots;
  if (!dc.KeptEmbeddingSlots(&kept_slots).ok()) return "KeptEmbeddingSlots failed";
  if (!dc.ApplyEmbeddingGradients(opt).ok()) return "ApplyEmbeddingGradients failed";
  if (dc.KeptEmbeddingSlots(&kept_slots).code() != absl::StatusCode::kFailedPrecondition) {
    return "slots still kept after ApplyEmbeddingGradients";
  }
  if (!dc.ReadSlots(slots, absl::MakeSpan(kept)).ok()) return "ReadSlots failed";
  if (dc.ApplyEmbeddingGradients(opt).code() != absl::StatusCode::kFailedPrecondition) {
    return "a second ApplyEmbeddingGradients was not FAILED_PRECONDITION";
  }
  if (!dc.WriteSlots(slots, before).ok()) return "WriteSlots failed";
  EmbeddingGradients emb;
  if (!dc.ForwardBackward(mb, &emb).ok()) return "ForwardBackward(mb, &emb) failed";
  if (dc.ApplyEmbeddingGradients(opt).code() != absl::StatusCode::kFailedPrecondition) {
    return "gradients returned to the caller were also kept";
  }
  if (kept_slots != emb.slots) return "KeptEmbeddingSlots differ from the returned slots";
  if (!dc.UpdateSlots(emb.slots, emb.grads, opt).ok()) return "UpdateSlots failed";
  if (!dc.ReadSlots(slots, absl::MakeSpan(host)).ok()) return "ReadSlots failed";
  if (host == before) return "the step changed no slot";
  if (std::memcmp(host.data(), kept.data(), sizeof(float) * n) != 0) {
    return "kept gradients updated the slots differently from UpdateSlots";
  }
  return "";
}

}  // namespace augur::model::testing
