// Private: the CUDA DenseCompute class, split by concern across cuda_dense_compute.cc (slot
// array, dense weights and optimizer, factory) and cuda_dlrm_step.cc (GEMM plans, forward and
// backward). See cuda_dense_compute.h for the contract.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <memory>
#include <vector>

#include "worker/cuda/device_array.h"
#include "worker/cuda/lt_gemm.h"
#include "worker/model/dense_compute.h"

namespace augur::cuda {

using model::DenseComputeOptions;
using model::EmbeddingGradients;
using model::Minibatch;
using model::SlotIndex;

class CudaDenseCompute final : public model::DenseCompute {
 public:
  explicit CudaDenseCompute(const DenseComputeOptions& o);
  ~CudaDenseCompute() override;
  absl::Status Init();

  std::string_view backend() const override { return "cuda"; }
  const model::DlrmConfig& config() const override { return options_.model; }
  int64_t capacity() const override { return options_.capacity; }
  int row_floats() const override { return row_floats_; }

  absl::Status WriteSlots(absl::Span<const SlotIndex> slots,
                          absl::Span<const float> records) override;
  absl::Status ReadSlots(absl::Span<const SlotIndex> slots, absl::Span<float> records) override;
  absl::Status UpdateSlots(absl::Span<const SlotIndex> slots, absl::Span<const float> grads,
                           const OptimizerConfig& opt) override;
  absl::StatusOr<double> ForwardBackward(const Minibatch& mb, EmbeddingGradients* emb) override;
  absl::Status ApplyEmbeddingGradients(const OptimizerConfig& opt) override;
  absl::Status KeptEmbeddingSlots(std::vector<SlotIndex>* slots) override;
  absl::Span<float> dense_gradients() override {
    return absl::MakeSpan(grads_.get(), static_cast<size_t>(layout_.total_floats));
  }
  bool dense_gradients_on_device() const override { return true; }
  absl::Status ReadDenseGradients(absl::Span<float> out) override;
  absl::Status WriteDenseGradients(absl::Span<const float> in) override;
  absl::Status ApplyDenseGradients() override;
  absl::StatusOr<bool> DenseGradientsFinite() override;
  absl::StatusOr<std::vector<float>> GetDenseWeights() override;
  absl::Status SetDenseWeights(absl::Span<const float> weights) override;
  absl::StatusOr<model::DenseOptimizerState> GetDenseOptimizerState() override;
  absl::Status SetDenseOptimizerState(const model::DenseOptimizerState& state) override;
  absl::Status Predict(const Minibatch& mb, absl::Span<float> probabilities) override;

 private:
  // One layer's planned GEMMs: forward, weight gradient, input gradient (absent for layer 0
  // of the bottom MLP, whose input needs no gradient).
  struct LayerPlan {
    LtGemm fwd, dw, dx;
    bool has_dx = false;
  };
  // One DCNv2 cross layer's GEMMs (cuda_dlrm_step.cc has their shapes): forward u = V x and
  // t = W u + b; backward dW, du = dt W, dV, and dx = du V.
  struct CrossPlan {
    LtGemm u_fwd, t_fwd, dw, du, dv, dx;
  };

  // Makes options_.device current on the calling thread. The current device is per host
  // thread and Init ran on whichever thread created the instance; the thread that drives it
  // later (or destroys it) may be another, and would otherwise allocate, copy and launch on
  // its own current device (device 0 unless set). Every entry point that touches CUDA calls
  // this first; it is cheap when the device is already current.
  absl::Status UseDevice() const;
  absl::Status Reserve(int batch, int64_t occurrences);
  absl::Status BuildPlans(int batch);
  absl::Status Upload(const Minibatch& mb, bool labels);
  absl::Status BuildCrossPlans(int batch);
  absl::Status Forward(int batch);
  absl::Status CrossForward(int batch);
  absl::Status Backward(int batch);
  absl::Status CrossBackward(int batch);
  // The top MLP's input on the device: x_L (dcn) or top_in_ (dot).
  float* TopInput() const;
  absl::Status StageSlots(absl::Span<const SlotIndex> slots);
  // Device pointer of the ping-pong gradient buffer used at backward stage s.
  float* GradBuffer(int stage) const { return (stage % 2 == 0 ? grad_a_ : grad_b_).get(); }

  DenseComputeOptions options_;
  model::DenseLayout layout_;
  int row_floats_ = 0, v_ = 0, pairs_ = 0, tw_ = 0, width_max_ = 0, slot_bits_ = 1;
  int first_emb_ = 1, lead_ = 0;  // index of emb_1 in z; dims of bottom_out in top_in (dot)
  bool dcn_ = false;
  int64_t dense_steps_ = 0;

  cudaStream_t stream_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;

  DeviceArray<float> slot_array_, weights_, grads_, state1_, state2_;
  DeviceArray<int2> pairs_dev_;
  DeviceArray<int> pair_of_;
  DeviceArray<char> lt_workspace_;
  // Per-batch activations and scratch.
  int reserved_batch_ = 0, planned_batch_ = 0;
  DeviceArray<float> input_, labels_, z_, dz_, top_in_, grad_a_, grad_b_, probs_, bias_partial_;
  std::vector<std::unique_ptr<DeviceArray<float>>> bottom_, top_;
  // dcn: per cross layer x_{l+1} (B x cw), u_l (B x rank), t_l (B x cw); backward scratch.
  std::vector<std::unique_ptr<DeviceArray<float>>> cross_x_, cross_u_, cross_t_;
  DeviceArray<float> cross_dt_, cross_du_;
  DeviceArray<double> loss_;
  DeviceArray<int64_t> offsets_;
  DeviceArray<uint8_t> mean_mask_;  // per sparse feature, when any feature is mean-pooled
  bool any_mean_ = false;
  DeviceArray<uint32_t> slots_in_, out_slots_;
  DeviceArray<float> out_grads_;
  DeviceArray<int32_t> num_unique_;
  DeviceArray<int32_t> nonfinite_flag_;  // DenseGradientsFinite's one-int answer
  DeviceArray<char> emb_workspace_;
  size_t emb_workspace_bytes_ = 0;
  // Embedding gradients of the last ForwardBackward(mb, nullptr), still in out_slots_ /
  // out_grads_ (first pending_rows_ rows), for ApplyEmbeddingGradients.
  bool emb_pending_ = false;
  int32_t pending_rows_ = 0;
  std::vector<LayerPlan> bottom_plans_, top_plans_;
  std::vector<CrossPlan> cross_plans_;
  // Staging for slot fills, reads and updates.
  DeviceArray<uint32_t> stage_slots_;
  DeviceArray<float> stage_rows_;
  std::vector<double> loss_host_;
};

}  // namespace augur::cuda
