// CudaDenseCompute, part 2: the training step. Activations are row-major B x width, which
// cuBLASLt sees as column-major width x B; weights W (out x in row-major) are column-major
// in x out. Hence, per layer (column-major):
//   forward   Y (out x B) = W^T (out x in) . X (in x B)            [+ bias, ReLU epilogue]
//   weight    dW (in x out) = X (in x B) . dY^T (B x out)          == row-major out x in
//   input     dX (in x B) = W (in x out) . dY (out x B)
// A DCNv2 cross layer (cw = cross width, r = rank; V row-major r x cw is column-major cw x r,
// W row-major cw x r is column-major r x cw) runs the same three kinds of GEMM twice:
//   forward   U (r x B) = V^T X_l        T (cw x B) = W^T U  [+ b epilogue]
//   weights   dW (r x cw) = U . dT^T     dV (cw x r) = X_l . dU^T
//   inputs    dU (r x B) = W . dT        dX (cw x B) = V . dU
// with the elementwise parts (x_{l+1} = x0 * t + x_l; dt = g * x0; dx0 += g * t; g += dX) in
// small kernels, in the CPU backend's order (cpu_dlrm.cc CrossBackward).
#include <algorithm>

#include "common/status.h"
#include "worker/cuda/cuda_check.h"
#include "worker/cuda/cuda_dense_compute_impl.h"
#include "worker/cuda/cuda_kernels.h"

namespace augur::cuda {

absl::Status CudaDenseCompute::Reserve(int batch, int64_t occurrences) {
  bool grew_any = false, grew = false;
  auto grow = [&](auto& arr, size_t n) -> absl::Status {
    AUGUR_RETURN_IF_ERROR(arr.Reserve(std::max<size_t>(n, 1), &grew));
    grew_any = grew_any || grew;
    return absl::OkStatus();
  };
  const size_t b = std::max(batch, reserved_batch_);
  const auto& c = options_.model;
  AUGUR_RETURN_IF_ERROR(grow(input_, b * c.num_dense));
  AUGUR_RETURN_IF_ERROR(grow(labels_, b));
  AUGUR_RETURN_IF_ERROR(grow(probs_, b));
  AUGUR_RETURN_IF_ERROR(grow(loss_, b));
  for (size_t l = 0; l < bottom_.size(); ++l) {
    AUGUR_RETURN_IF_ERROR(grow(*bottom_[l], b * layout_.bottom[l].out));
  }
  for (size_t l = 0; l < top_.size(); ++l) {
    AUGUR_RETURN_IF_ERROR(grow(*top_[l], b * layout_.top[l].out));
  }
  AUGUR_RETURN_IF_ERROR(grow(z_, b * v_ * c.dim));
  AUGUR_RETURN_IF_ERROR(grow(dz_, b * v_ * c.dim));
  AUGUR_RETURN_IF_ERROR(grow(top_in_, dcn_ ? 1 : b * tw_));  // dcn: the top reads x_L
  for (size_t l = 0; l < layout_.cross.size(); ++l) {
    AUGUR_RETURN_IF_ERROR(grow(*cross_x_[l], b * layout_.cross[l].in));
    AUGUR_RETURN_IF_ERROR(grow(*cross_u_[l], b * layout_.cross[l].rank));
    AUGUR_RETURN_IF_ERROR(grow(*cross_t_[l], b * layout_.cross[l].in));
  }
  if (dcn_) {
    AUGUR_RETURN_IF_ERROR(grow(cross_dt_, b * layout_.cross[0].in));
    AUGUR_RETURN_IF_ERROR(grow(cross_du_, b * layout_.cross[0].rank));
  }
  AUGUR_RETURN_IF_ERROR(grow(grad_a_, b * width_max_));
  AUGUR_RETURN_IF_ERROR(grow(grad_b_, b * width_max_));
  AUGUR_RETURN_IF_ERROR(bias_partial_.Reserve(
      static_cast<size_t>(BiasGradPartialFloats(static_cast<int>(b), width_max_))));
  AUGUR_RETURN_IF_ERROR(grow(offsets_, c.num_sparse * (b + 1)));
  // Occurrence-sized buffers do not feed any GEMM plan, so they may grow without a re-plan.
  const size_t n = std::max<int64_t>(occurrences, slots_in_.capacity());
  AUGUR_RETURN_IF_ERROR(slots_in_.Reserve(std::max<size_t>(n, 1)));
  // Growing the output buffers drops embedding gradients kept for ApplyEmbeddingGradients.
  bool out_grew = false;
  AUGUR_RETURN_IF_ERROR(out_slots_.Reserve(std::max<size_t>(n, 1), &out_grew));
  if (out_grew) emb_pending_ = false;
  AUGUR_RETURN_IF_ERROR(out_grads_.Reserve(std::max<size_t>(n, 1) * c.dim, &out_grew));
  if (out_grew) emb_pending_ = false;
  AUGUR_RETURN_IF_ERROR(num_unique_.Reserve(1));
  const size_t ws = EmbeddingGradWorkspaceBytes(n, static_cast<int>(b), c.num_sparse);
  AUGUR_RETURN_IF_ERROR(emb_workspace_.Reserve(ws));
  emb_workspace_bytes_ = emb_workspace_.capacity();
  reserved_batch_ = static_cast<int>(b);
  if (grew_any) planned_batch_ = 0;
  if (batch != planned_batch_) AUGUR_RETURN_IF_ERROR(BuildPlans(batch));
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::BuildPlans(int batch) {
  const float* w = weights_.get();
  float* g = grads_.get();
  void* ws = lt_workspace_.get();
  const size_t wsb = lt_workspace_.capacity();
  const bool tf32 = options_.tf32;
  const int nt = static_cast<int>(layout_.top.size());
  // Backward stages run top layers last-to-first, then bottom layers last-to-first; stage s
  // reads dY from GradBuffer(s) and writes dX to GradBuffer(s + 1).
  auto plan = [&](const model::LayerSlice& l, LayerPlan* p, const float* x, float* y, int stage,
                  bool need_dx) -> absl::Status {
    LtGemmShape f{true, false, l.out, batch, l.in, l.in, l.in, l.out};
    AUGUR_RETURN_IF_ERROR(p->fwd.Init(lt_, f, w + l.weight_offset, x, y, w + l.bias_offset,
                                      l.relu, tf32, ws, wsb));
    LtGemmShape dw{false, true, l.in, l.out, batch, l.in, l.out, l.in};
    AUGUR_RETURN_IF_ERROR(p->dw.Init(lt_, dw, x, GradBuffer(stage), g + l.weight_offset, nullptr,
                                     false, tf32, ws, wsb));
    p->has_dx = need_dx;
    if (need_dx) {
      LtGemmShape dx{false, false, l.in, batch, l.out, l.in, l.out, l.in};
      AUGUR_RETURN_IF_ERROR(p->dx.Init(lt_, dx, w + l.weight_offset, GradBuffer(stage),
                                       GradBuffer(stage + 1), nullptr, false, tf32, ws, wsb));
    }
    return absl::OkStatus();
  };
  for (int l = 0; l < nt; ++l) {
    const float* x = l == 0 ? TopInput() : top_[l - 1]->get();
    AUGUR_RETURN_IF_ERROR(plan(layout_.top[l], &top_plans_[l], x, top_[l]->get(), nt - 1 - l, true));
  }
  const int nb = static_cast<int>(layout_.bottom.size());
  for (int l = 0; l < nb; ++l) {
    const float* x = l == 0 ? input_.get() : bottom_[l - 1]->get();
    AUGUR_RETURN_IF_ERROR(plan(layout_.bottom[l], &bottom_plans_[l], x, bottom_[l]->get(),
                               nt + nb - 1 - l, l > 0));
  }
  AUGUR_RETURN_IF_ERROR(BuildCrossPlans(batch));
  planned_batch_ = batch;
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::BuildCrossPlans(int batch) {
  const float* w = weights_.get();
  float* g = grads_.get();
  void* ws = lt_workspace_.get();
  const size_t wsb = lt_workspace_.capacity();
  const bool tf32 = options_.tf32;
  // Cross backward runs after the top MLP's: it reads dL/dx_L from GradBuffer(nt), keeps the
  // running dL/dx_l there, and takes GradBuffer(nt + 1) for du V.
  const int nt = static_cast<int>(layout_.top.size());
  float* tmp = GradBuffer(nt + 1);
  for (size_t l = 0; l < layout_.cross.size(); ++l) {
    const model::CrossSlice& s = layout_.cross[l];
    const int cw = s.in, r = s.rank;
    CrossPlan& p = cross_plans_[l];
    const float* x = l == 0 ? z_.get() : cross_x_[l - 1]->get();
    float* u = cross_u_[l]->get();
    float* t = cross_t_[l]->get();
    float* dt = cross_dt_.get();
    float* du = cross_du_.get();
    // Operands as gemm_shape.h documents them (a host test checks the shapes against them).
    const CrossGemmShapes sh = CrossLayerShapes(cw, r, batch);
    AUGUR_RETURN_IF_ERROR(p.u_fwd.Init(lt_, sh.u_fwd, w + s.v_offset, x, u, nullptr, false,
                                       tf32, ws, wsb));
    AUGUR_RETURN_IF_ERROR(p.t_fwd.Init(lt_, sh.t_fwd, w + s.w_offset, u, t, w + s.bias_offset,
                                       false, tf32, ws, wsb));
    AUGUR_RETURN_IF_ERROR(
        p.dw.Init(lt_, sh.dw, u, dt, g + s.w_offset, nullptr, false, tf32, ws, wsb));
    AUGUR_RETURN_IF_ERROR(
        p.du.Init(lt_, sh.du, w + s.w_offset, dt, du, nullptr, false, tf32, ws, wsb));
    AUGUR_RETURN_IF_ERROR(
        p.dv.Init(lt_, sh.dv, x, du, g + s.v_offset, nullptr, false, tf32, ws, wsb));
    AUGUR_RETURN_IF_ERROR(
        p.dx.Init(lt_, sh.dx, w + s.v_offset, du, tmp, nullptr, false, tf32, ws, wsb));
  }
  return absl::OkStatus();
}

float* CudaDenseCompute::TopInput() const {
  return dcn_ ? cross_x_.back()->get() : top_in_.get();
}

absl::Status CudaDenseCompute::Upload(const Minibatch& mb, bool labels) {
  AUGUR_RETURN_IF_ERROR(Reserve(mb.batch_size, static_cast<int64_t>(mb.slots.size())));
  auto h2d = [&](void* dst, const void* src, size_t bytes) -> absl::Status {
    if (bytes > 0) {
      AUGUR_CUDA_RETURN_IF_ERROR(
          cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_));
    }
    return absl::OkStatus();
  };
  AUGUR_RETURN_IF_ERROR(h2d(input_.get(), mb.dense.data(), sizeof(float) * mb.dense.size()));
  if (labels) {
    AUGUR_RETURN_IF_ERROR(h2d(labels_.get(), mb.labels.data(), sizeof(float) * mb.labels.size()));
  }
  AUGUR_RETURN_IF_ERROR(
      h2d(offsets_.get(), mb.offsets.data(), sizeof(int64_t) * mb.offsets.size()));
  return h2d(slots_in_.get(), mb.slots.data(), sizeof(uint32_t) * mb.slots.size());
}

absl::Status CudaDenseCompute::Forward(int batch) {
  const auto& c = options_.model;
  auto layer = [&](const model::LayerSlice& l, const LayerPlan& p, float* y) -> absl::Status {
    AUGUR_RETURN_IF_ERROR(p.fwd.Run(stream_));
    if (!p.fwd.fused_bias()) {
      AUGUR_CUDA_RETURN_IF_ERROR(
          LaunchBiasRelu(batch, l.out, weights_.get() + l.bias_offset, l.relu, y, stream_));
    }
    return absl::OkStatus();
  };
  for (size_t l = 0; l < layout_.bottom.size(); ++l) {
    AUGUR_RETURN_IF_ERROR(layer(layout_.bottom[l], bottom_plans_[l], bottom_[l]->get()));
  }
  if (!bottom_.empty()) {
    AUGUR_CUDA_RETURN_IF_ERROR(
        LaunchCopyBottom(batch, v_, c.dim, bottom_.back()->get(), z_.get(), stream_));
  }
  AUGUR_CUDA_RETURN_IF_ERROR(LaunchPool(batch, c.num_sparse, v_, first_emb_, c.dim,
                                        offsets_.get(), slots_in_.get(), slot_array_.get(),
                                        row_floats_, z_.get(), stream_));
  if (any_mean_) {
    AUGUR_CUDA_RETURN_IF_ERROR(LaunchMeanScale(batch, c.num_sparse, v_, first_emb_, c.dim,
                                               offsets_.get(), mean_mask_.get(), z_.get(),
                                               stream_));
  }
  if (dcn_) {
    AUGUR_RETURN_IF_ERROR(CrossForward(batch));
  } else {
    AUGUR_CUDA_RETURN_IF_ERROR(LaunchInteract(batch, v_, c.dim, lead_, pairs_, pairs_dev_.get(),
                                              z_.get(), top_in_.get(), stream_));
  }
  for (size_t l = 0; l < layout_.top.size(); ++l) {
    AUGUR_RETURN_IF_ERROR(layer(layout_.top[l], top_plans_[l], top_[l]->get()));
  }
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::CrossForward(int batch) {
  for (size_t l = 0; l < layout_.cross.size(); ++l) {
    const model::CrossSlice& s = layout_.cross[l];
    const CrossPlan& p = cross_plans_[l];
    float* t = cross_t_[l]->get();
    AUGUR_RETURN_IF_ERROR(p.u_fwd.Run(stream_));
    AUGUR_RETURN_IF_ERROR(p.t_fwd.Run(stream_));
    if (!p.t_fwd.fused_bias()) {
      AUGUR_CUDA_RETURN_IF_ERROR(
          LaunchBiasRelu(batch, s.in, weights_.get() + s.bias_offset, false, t, stream_));
    }
    const float* x = l == 0 ? z_.get() : cross_x_[l - 1]->get();
    AUGUR_CUDA_RETURN_IF_ERROR(LaunchCrossCombine(static_cast<int64_t>(batch) * s.in, z_.get(),
                                                  t, x, cross_x_[l]->get(), stream_));
  }
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::CrossBackward(int batch) {
  const int nt = static_cast<int>(layout_.top.size());
  const int nl = static_cast<int>(layout_.cross.size());
  float* g = GradBuffer(nt);
  const float* tmp = GradBuffer(nt + 1);
  const int64_t n = static_cast<int64_t>(batch) * layout_.cross[0].in;
  for (int l = nl - 1; l >= 0; --l) {
    const model::CrossSlice& s = layout_.cross[l];
    const CrossPlan& p = cross_plans_[l];
    AUGUR_CUDA_RETURN_IF_ERROR(LaunchCrossBackwardTerms(n, g, z_.get(), cross_t_[l]->get(),
                                                        l == nl - 1, cross_dt_.get(), dz_.get(),
                                                        stream_));
    AUGUR_RETURN_IF_ERROR(p.dw.Run(stream_));
    AUGUR_CUDA_RETURN_IF_ERROR(LaunchBiasGrad(batch, s.in, cross_dt_.get(), bias_partial_.get(),
                                              grads_.get() + s.bias_offset, stream_));
    AUGUR_RETURN_IF_ERROR(p.du.Run(stream_));
    AUGUR_RETURN_IF_ERROR(p.dv.Run(stream_));
    AUGUR_RETURN_IF_ERROR(p.dx.Run(stream_));
    AUGUR_CUDA_RETURN_IF_ERROR(LaunchAddInPlace(n, tmp, g, stream_));
  }
  AUGUR_CUDA_RETURN_IF_ERROR(LaunchAddInPlace(n, g, dz_.get(), stream_));
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::Backward(int batch) {
  const auto& c = options_.model;
  auto layer = [&](const model::LayerSlice& l, const LayerPlan& p, const float* y,
                   int stage) -> absl::Status {
    float* dy = GradBuffer(stage);
    if (l.relu) {
      AUGUR_CUDA_RETURN_IF_ERROR(
          LaunchReluMask(static_cast<int64_t>(batch) * l.out, y, dy, stream_));
    }
    AUGUR_RETURN_IF_ERROR(p.dw.Run(stream_));
    AUGUR_CUDA_RETURN_IF_ERROR(LaunchBiasGrad(batch, l.out, dy, bias_partial_.get(),
                                              grads_.get() + l.bias_offset, stream_));
    if (p.has_dx) AUGUR_RETURN_IF_ERROR(p.dx.Run(stream_));
    return absl::OkStatus();
  };
  const int nt = static_cast<int>(layout_.top.size());
  const int nb = static_cast<int>(layout_.bottom.size());
  for (int l = nt - 1; l >= 0; --l) {
    AUGUR_RETURN_IF_ERROR(layer(layout_.top[l], top_plans_[l], top_[l]->get(), nt - 1 - l));
  }
  if (dcn_) {
    AUGUR_RETURN_IF_ERROR(CrossBackward(batch));
  } else {
    AUGUR_CUDA_RETURN_IF_ERROR(LaunchInteractBackward(batch, v_, c.dim, lead_, pairs_,
                                                      c.self_interaction, pair_of_.get(),
                                                      GradBuffer(nt), z_.get(), dz_.get(),
                                                      stream_));
  }
  if (nb > 0) {
    AUGUR_CUDA_RETURN_IF_ERROR(
        LaunchCopyBottomGrad(batch, v_, c.dim, dz_.get(), GradBuffer(nt), stream_));
  }
  for (int l = nb - 1; l >= 0; --l) {
    AUGUR_RETURN_IF_ERROR(
        layer(layout_.bottom[l], bottom_plans_[l], bottom_[l]->get(), nt + nb - 1 - l));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> CudaDenseCompute::ForwardBackward(const Minibatch& mb,
                                                         EmbeddingGradients* emb) {
  emb_pending_ = false;
  AUGUR_RETURN_IF_ERROR(UseDevice());
  AUGUR_RETURN_IF_ERROR(model::ValidateMinibatch(options_.model, options_.capacity, mb, true));
  const int batch = mb.batch_size;
  const auto& c = options_.model;
  AUGUR_RETURN_IF_ERROR(Upload(mb, /*labels=*/true));
  AUGUR_RETURN_IF_ERROR(Forward(batch));
  // dL/dlogit lands in the first backward stage's buffer (B x 1).
  const float inv_global = 1.0f / static_cast<float>(mb.global_batch_size);
  AUGUR_CUDA_RETURN_IF_ERROR(LaunchBce(batch, top_.back()->get(), labels_.get(), inv_global,
                                       GradBuffer(0), loss_.get(), stream_));
  AUGUR_RETURN_IF_ERROR(Backward(batch));
  if (any_mean_) {  // each member of a mean-pooled bag gets 1/n of the bag's gradient
    AUGUR_CUDA_RETURN_IF_ERROR(LaunchMeanScale(batch, c.num_sparse, v_, first_emb_, c.dim,
                                               offsets_.get(), mean_mask_.get(), dz_.get(),
                                               stream_));
  }
  AUGUR_CUDA_RETURN_IF_ERROR(LaunchEmbeddingGradients(
      batch, c.num_sparse, v_, first_emb_, c.dim, static_cast<int64_t>(mb.slots.size()),
      slot_bits_,
      offsets_.get(), slots_in_.get(), dz_.get(), emb_workspace_.get(), emb_workspace_bytes_,
      out_slots_.get(), out_grads_.get(), num_unique_.get(), stream_));
  int32_t num_unique = 0;
  loss_host_.resize(batch);
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(&num_unique, num_unique_.get(), sizeof(int32_t),
                                             cudaMemcpyDeviceToHost, stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(loss_host_.data(), loss_.get(),
                                             sizeof(double) * batch, cudaMemcpyDeviceToHost,
                                             stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  if (emb == nullptr) {
    emb_pending_ = true;
    pending_rows_ = num_unique;
  } else {
    emb->slots.resize(num_unique);
    emb->grads.resize(static_cast<size_t>(num_unique) * c.dim);
  }
  if (emb != nullptr && num_unique > 0) {
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(emb->slots.data(), out_slots_.get(),
                                               sizeof(uint32_t) * num_unique,
                                               cudaMemcpyDeviceToHost, stream_));
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(emb->grads.data(), out_grads_.get(),
                                               sizeof(float) * emb->grads.size(),
                                               cudaMemcpyDeviceToHost, stream_));
    AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  }
  double sum = 0.0;  // in sample order, as the CPU backend sums
  for (double l : loss_host_) sum += l;
  return sum;
}

absl::Status CudaDenseCompute::ApplyEmbeddingGradients(const OptimizerConfig& opt) {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  AUGUR_RETURN_IF_ERROR(model::CheckOptimizerKind(opt, options_));
  if (!emb_pending_) {
    return absl::FailedPreconditionError(
        "no embedding gradients kept: call ForwardBackward(mb, nullptr) first");
  }
  emb_pending_ = false;
  // out_slots_ holds each touched slot once, so the per-row updates never race.
  AUGUR_CUDA_RETURN_IF_ERROR(LaunchUpdateRows(opt, options_.model.dim, row_floats_,
                                              slot_array_.get(), out_slots_.get(), pending_rows_,
                                              out_grads_.get(), stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::KeptEmbeddingSlots(std::vector<SlotIndex>* slots) {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  if (!emb_pending_) return absl::FailedPreconditionError("no embedding gradients kept");
  slots->resize(pending_rows_);
  if (pending_rows_ > 0) {
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(slots->data(), out_slots_.get(),
                                               sizeof(uint32_t) * pending_rows_,
                                               cudaMemcpyDeviceToHost, stream_));
    AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  }
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::Predict(const Minibatch& mb, absl::Span<float> probabilities) {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  AUGUR_RETURN_IF_ERROR(model::ValidateMinibatch(options_.model, options_.capacity, mb, false));
  if (static_cast<int>(probabilities.size()) != mb.batch_size) {
    return absl::InvalidArgumentError("probabilities must hold batch_size floats");
  }
  AUGUR_RETURN_IF_ERROR(Upload(mb, /*labels=*/false));
  AUGUR_RETURN_IF_ERROR(Forward(mb.batch_size));
  AUGUR_CUDA_RETURN_IF_ERROR(
      LaunchSigmoid(mb.batch_size, top_.back()->get(), probs_.get(), stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(probabilities.data(), probs_.get(),
                                             sizeof(float) * mb.batch_size,
                                             cudaMemcpyDeviceToHost, stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return absl::OkStatus();
}

}  // namespace augur::cuda
