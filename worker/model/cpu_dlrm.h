// The DLRM forward/backward math on the CPU (dot or DCNv2 interaction, with or without dense
// features; see dlrm_config.h), templated on the scalar type.
//
// CpuDenseCompute runs CpuDlrm<float>; the gradient-check tests run CpuDlrm<double> on the very
// same code (cblas_dgemm instead of cblas_sgemm), so finite differences in double check the
// shipped kernels rather than a second hand-written reference that could share a bug with the
// documentation but not with the code.
//
// CpuDlrm holds activations and scratch for the largest batch seen (grown on demand, never
// per step) but no parameters: weights, the slot array and gradient outputs are passed in.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "worker/model/dense_compute.h"
#include "worker/model/dlrm_config.h"

namespace augur::model {

template <typename T>
class CpuDlrm {
 public:
  explicit CpuDlrm(const DlrmConfig& config);

  const DlrmConfig& config() const { return config_; }
  const DenseLayout& layout() const { return layout_; }

  // Forward pass; logits() then holds B logits. `slot_array` has rows of `row_stride` T, the
  // first dim of which are the embedding value. Inputs must be valid (ValidateMinibatch).
  void Forward(const T* weights, const T* slot_array, int64_t row_stride, const Minibatch& mb);
  const T* logits() const { return logits_; }

  // Sum over the B samples of BCE-with-logits (in double); stores dL/dlogit =
  // (sigmoid(z) - y) / global_batch_size for Backward.
  double Loss(const Minibatch& mb);

  // Backward after Forward + Loss. Writes all dense gradients into dense_grad (layout order)
  // and the per-row embedding gradients, unique slots in first-appearance order.
  // slot_to_unique: scratch of >= capacity entries, all -1 on entry and on return.
  void Backward(const T* weights, const Minibatch& mb, T* dense_grad,
                std::vector<SlotIndex>* unique_slots, std::vector<T>* row_grads,
                int32_t* slot_to_unique);

 private:
  void Reserve(int batch);
  void Pool(const T* slot_array, int64_t row_stride, const Minibatch& mb);
  void Interact(int batch);
  void InteractBackward(int batch);
  // DCNv2 cross network on z_ (x0); x_L lands in cross_x_.back().
  void Cross(const T* weights, int batch);
  // grad_a_ holds dL/dx_L on entry; writes the cross layers' gradients and dz_ (dL/dx0).
  // Uses grad_b_ as scratch.
  void CrossBackward(const T* weights, int batch, T* dense_grad);
  // The top MLP's input: x_L (dcn) or top_in_ (dot).
  const T* TopInput() const;

  DlrmConfig config_;
  DenseLayout layout_;
  int reserved_ = 0;
  int width_max_ = 0;
  std::vector<T> input_;                 // B x num_dense
  std::vector<std::vector<T>> bottom_;   // per bottom layer: B x out (post-ReLU)
  std::vector<std::vector<T>> top_;      // per top layer: B x out
  std::vector<T> z_;                     // B x V x dim: [bottom_out (if any), pooled emb ...]
  std::vector<T> top_in_;                // B x TopInputWidth (dot only)
  std::vector<std::vector<T>> cross_x_;  // per cross layer l: x_{l+1}, B x CrossWidth
  std::vector<std::vector<T>> cross_u_;  // per cross layer l: V_l x_l, B x rank
  std::vector<std::vector<T>> cross_t_;  // per cross layer l: W_l u_l + b_l, B x CrossWidth
  std::vector<T> cross_dt_, cross_du_;   // backward scratch: B x CrossWidth, B x rank
  std::vector<T> dz_;                    // B x V x dim
  std::vector<T> grad_a_, grad_b_;       // B x widest layer, ping-pong
  std::vector<T> dlogits_;               // B
  const T* logits_ = nullptr;
};

extern template class CpuDlrm<float>;
extern template class CpuDlrm<double>;

}  // namespace augur::model
