// CpuDenseCompute: the host twin of the CUDA backend. It owns the slot array, the dense weights
// and their optimizer state, and drives CpuDlrm<float> for the math.
#include "worker/model/cpu_dense_compute.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "worker/model/cpu_dlrm.h"
#include "worker/model/dense_optimizer.h"

namespace augur::model {
namespace {


class CpuDenseCompute final : public DenseCompute {
 public:
  explicit CpuDenseCompute(const DenseComputeOptions& o)
      : options_(o),
        row_floats_(o.model.dim + StateFloats(o.embedding_optimizer.kind, o.model.dim)),
        dlrm_(o.model),
        slot_array_(static_cast<size_t>(o.capacity) * row_floats_, 0.0f),
        slot_to_unique_(static_cast<size_t>(o.capacity), -1),
        weights_(InitDenseWeights(o.model, o.seed)),
        grads_(weights_.size(), 0.0f) {
    const OptimizerKind k = o.dense_optimizer.kind;
    if (k != OptimizerKind::kSgd) {
      state1_.assign(weights_.size(),
                     k == OptimizerKind::kAdagrad ? o.dense_optimizer.initial_accumulator : 0.0f);
    }
    if (k == OptimizerKind::kAdam) state2_.assign(weights_.size(), 0.0f);
    openblas_set_num_threads(o.threads);
  }

  std::string_view backend() const override { return "cpu"; }
  const DlrmConfig& config() const override { return options_.model; }
  int64_t capacity() const override { return options_.capacity; }
  int row_floats() const override { return row_floats_; }

  absl::Status WriteSlots(absl::Span<const SlotIndex> slots,
                          absl::Span<const float> records) override {
    AUGUR_RETURN_IF_ERROR(CheckSize("records", records.size(),
                                    static_cast<int64_t>(slots.size()) * row_floats_));
    AUGUR_RETURN_IF_ERROR(CheckSlots(slots, options_.capacity));
    for (size_t i = 0; i < slots.size(); ++i) {
      std::memcpy(Row(slots[i]), records.data() + i * row_floats_, sizeof(float) * row_floats_);
    }
    return absl::OkStatus();
  }

  absl::Status ReadSlots(absl::Span<const SlotIndex> slots, absl::Span<float> records) override {
    AUGUR_RETURN_IF_ERROR(CheckSize("records", records.size(),
                                    static_cast<int64_t>(slots.size()) * row_floats_));
    AUGUR_RETURN_IF_ERROR(CheckSlots(slots, options_.capacity));
    for (size_t i = 0; i < slots.size(); ++i) {
      std::memcpy(records.data() + i * row_floats_, Row(slots[i]), sizeof(float) * row_floats_);
    }
    return absl::OkStatus();
  }

  absl::Status UpdateSlots(absl::Span<const SlotIndex> slots, absl::Span<const float> grads,
                           const OptimizerConfig& opt) override {
    const int dim = options_.model.dim;
    AUGUR_RETURN_IF_ERROR(CheckOptimizerKind(opt, options_));
    AUGUR_RETURN_IF_ERROR(
        CheckSize("grads", grads.size(), static_cast<int64_t>(slots.size()) * dim));
    AUGUR_RETURN_IF_ERROR(CheckSlots(slots, options_.capacity));
    for (size_t i = 0; i < slots.size(); ++i) {
      float* row = Row(slots[i]);
      ApplyRowUpdate(opt, dim, row, row + dim, grads.data() + i * dim);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<double> ForwardBackward(const Minibatch& mb, EmbeddingGradients* emb) override {
    kept_pending_ = false;
    AUGUR_RETURN_IF_ERROR(ValidateMinibatch(options_.model, options_.capacity, mb, true));
    dlrm_.Forward(weights_.data(), slot_array_.data(), row_floats_, mb);
    const double loss = dlrm_.Loss(mb);
    EmbeddingGradients* out = emb != nullptr ? emb : &kept_;
    dlrm_.Backward(weights_.data(), mb, grads_.data(), &out->slots, &out->grads,
                   slot_to_unique_.data());
    kept_pending_ = emb == nullptr;
    return loss;
  }

  absl::Status ApplyEmbeddingGradients(const OptimizerConfig& opt) override {
    if (!kept_pending_) {
      return absl::FailedPreconditionError(
          "no embedding gradients kept: call ForwardBackward(mb, nullptr) first");
    }
    AUGUR_RETURN_IF_ERROR(UpdateSlots(kept_.slots, kept_.grads, opt));
    kept_pending_ = false;
    return absl::OkStatus();
  }

  absl::Status KeptEmbeddingSlots(std::vector<SlotIndex>* slots) override {
    if (!kept_pending_) return absl::FailedPreconditionError("no embedding gradients kept");
    *slots = kept_.slots;
    return absl::OkStatus();
  }

  absl::Span<float> dense_gradients() override { return absl::MakeSpan(grads_); }
  bool dense_gradients_on_device() const override { return false; }
  absl::Status ReadDenseGradients(absl::Span<float> out) override {
    AUGUR_RETURN_IF_ERROR(CheckSize("dense gradients", out.size(), grads_.size()));
    std::copy(grads_.begin(), grads_.end(), out.begin());
    return absl::OkStatus();
  }
  absl::Status WriteDenseGradients(absl::Span<const float> in) override {
    AUGUR_RETURN_IF_ERROR(CheckSize("dense gradients", in.size(), grads_.size()));
    std::copy(in.begin(), in.end(), grads_.begin());
    return absl::OkStatus();
  }

  absl::Status ApplyDenseGradients() override {
    const DenseStep s = MakeDenseStep(options_.dense_optimizer, ++dense_steps_);
    float* w = weights_.data();
    const float* g = grads_.data();
    const int64_t n = static_cast<int64_t>(weights_.size());
    // Separate loops per kind keep each one branch-free, hence vectorised.
    switch (s.kind) {
      case OptimizerKind::kSgd:
        for (int64_t i = 0; i < n; ++i) DenseStepElement(s, w + i, nullptr, nullptr, g[i]);
        break;
      case OptimizerKind::kAdagrad:
        for (int64_t i = 0; i < n; ++i) DenseStepElement(s, w + i, &state1_[i], nullptr, g[i]);
        break;
      case OptimizerKind::kAdam:
        for (int64_t i = 0; i < n; ++i) {
          DenseStepElement(s, w + i, &state1_[i], &state2_[i], g[i]);
        }
        break;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<float>> GetDenseWeights() override { return weights_; }

  absl::Status SetDenseWeights(absl::Span<const float> weights) override {
    AUGUR_RETURN_IF_ERROR(
        CheckSize("weights", weights.size(), static_cast<int64_t>(weights_.size())));
    std::copy(weights.begin(), weights.end(), weights_.begin());
    return absl::OkStatus();
  }

  absl::StatusOr<DenseOptimizerState> GetDenseOptimizerState() override {
    return DenseOptimizerState{dense_steps_, state1_, state2_};
  }

  absl::Status SetDenseOptimizerState(const DenseOptimizerState& state) override {
    AUGUR_RETURN_IF_ERROR(CheckDenseOptimizerState(state, options_.dense_optimizer.kind,
                                                   static_cast<int64_t>(weights_.size())));
    dense_steps_ = state.steps;
    state1_ = state.s1;
    state2_ = state.s2;
    return absl::OkStatus();
  }

  absl::Status Predict(const Minibatch& mb, absl::Span<float> probabilities) override {
    AUGUR_RETURN_IF_ERROR(ValidateMinibatch(options_.model, options_.capacity, mb, false));
    AUGUR_RETURN_IF_ERROR(CheckSize("probabilities", probabilities.size(), mb.batch_size));
    dlrm_.Forward(weights_.data(), slot_array_.data(), row_floats_, mb);
    const float* z = dlrm_.logits();
    for (int b = 0; b < mb.batch_size; ++b) {
      const float e = std::exp(-std::abs(z[b]));
      probabilities[b] = z[b] >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    }
    return absl::OkStatus();
  }

 private:
  float* Row(SlotIndex s) { return slot_array_.data() + static_cast<size_t>(s) * row_floats_; }

  DenseComputeOptions options_;
  int row_floats_;
  CpuDlrm<float> dlrm_;
  std::vector<float> slot_array_;
  std::vector<int32_t> slot_to_unique_;
  std::vector<float> weights_, grads_, state1_, state2_;
  int64_t dense_steps_ = 0;
  EmbeddingGradients kept_;  // of the last ForwardBackward(mb, nullptr)
  bool kept_pending_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<DenseCompute>> CreateCpuDenseCompute(
    const DenseComputeOptions& options) {
  AUGUR_RETURN_IF_ERROR(ValidateDenseComputeOptions(options));
  return std::unique_ptr<DenseCompute>(new CpuDenseCompute(options));
}

}  // namespace augur::model
