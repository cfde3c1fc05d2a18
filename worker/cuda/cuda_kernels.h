// Launchers for the CUDA backend's custom kernels (compiled by nvcc with --fmad=false, so every
// float operation rounds as the CPU backend's does). Each launcher enqueues on `stream` and
// returns the launch error; none allocates. Layouts match worker/model/cpu_dlrm.h:
//   z      B x V x dim   interaction vectors [bottom_out, pooled emb_1 .. emb_F]; without dense
//                        features [pooled emb_1 .. emb_F] (`first` = index of emb_1: 1 or 0)
//   top_in B x tw        dot: [bottom_out, dots in tril order], tw = lead + pairs, where `lead`
//                        is dim with a bottom MLP and 0 without
//   x_l    B x cw        dcn: cross layer activations, cw = V * dim (x_0 is z itself)
// Reductions run in the CPU backend's order (bag position, pair order, sample order), which
// makes pooling, interaction and embedding-gradient sums bitwise equal to the CPU's. Only the
// bias gradient sums in a different (still fixed) order, in chunks, to spread the work. The
// cross network's elementwise kernels do the CPU's operations in its order (CrossBackward in
// cpu_dlrm.cc); their inputs come from GEMMs, so they match the CPU within GEMM rounding.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "common/optimizer.h"
#include "worker/model/dense_optimizer.h"

namespace augur::cuda {

cudaError_t LaunchScatterRows(float* slot_array, int row_floats, const uint32_t* slots, int64_t n,
                              const float* records, cudaStream_t s);
cudaError_t LaunchGatherRows(const float* slot_array, int row_floats, const uint32_t* slots,
                             int64_t n, float* records, cudaStream_t s);
cudaError_t LaunchUpdateRows(const OptimizerConfig& opt, int dim, int row_floats,
                             float* slot_array, const uint32_t* slots, int64_t n,
                             const float* grads, cudaStream_t s);

// y (B x out) += bias, then ReLU when relu (the fallback when a cuBLASLt epilogue can't).
cudaError_t LaunchBiasRelu(int batch, int out, const float* bias, bool relu, float* y,
                           cudaStream_t s);
// dy = y > 0 ? dy : 0 (n elements).
cudaError_t LaunchReluMask(int64_t n, const float* y, float* dy, cudaStream_t s);
// db[o] = sum over samples of dy[b][o], deterministically: each chunk of kBiasGradChunk samples
// is summed in sample order into partial (BiasGradPartialFloats floats), then the chunks in order.
constexpr int kBiasGradChunk = 256;
inline int64_t BiasGradPartialFloats(int batch, int out) {
  return (static_cast<int64_t>(batch) + kBiasGradChunk - 1) / kBiasGradChunk * out;
}
cudaError_t LaunchBiasGrad(int batch, int out, const float* dy, float* partial, float* db,
                           cudaStream_t s);

// z[b][0] = bottom_out[b] (dim floats).
cudaError_t LaunchCopyBottom(int batch, int v, int dim, const float* bottom_out, float* z,
                             cudaStream_t s);
// z[b][first+f] = sum of the bag's rows, in bag order.
cudaError_t LaunchPool(int batch, int num_sparse, int v, int first, int dim, const int64_t* offsets,
                       const uint32_t* slots, const float* slot_array, int row_floats, float* z,
                       cudaStream_t s);
// Mean pooling: z's embedding vector (b, f) *= 1.0f / n for each feature with mean_mask[f] and a
// non-empty bag of n ids (the CPU's MeanScale). Applied to the pooled z after LaunchPool and to
// dz before the embedding gradients.
cudaError_t LaunchMeanScale(int batch, int num_sparse, int v, int first, int dim,
                            const int64_t* offsets, const uint8_t* mean_mask, float* z,
                            cudaStream_t s);
// pairs: P (i, j) index pairs in tril order; lead: dim (bottom_out copied first) or 0.
cudaError_t LaunchInteract(int batch, int v, int dim, int lead, int num_pairs, const int2* pairs,
                           const float* z, float* top_in, cudaStream_t s);
// dz from dtop (B x tw); pair_of: v x v table of pair index (or -1), self-pairs included.
cudaError_t LaunchInteractBackward(int batch, int v, int dim, int lead, int num_pairs, bool self,
                                   const int* pair_of, const float* dtop, const float* z,
                                   float* dz, cudaStream_t s);

// DCNv2 elementwise parts (n = B * cw elements).
// y = x0 * t + x (x_{l+1} from x0, t_l = W_l u_l + b_l and x_l).
cudaError_t LaunchCrossCombine(int64_t n, const float* x0, const float* t, const float* x,
                               float* y, cudaStream_t s);
// dt = g * x0; dz = g * t when `first_layer` (the last cross layer, where backward starts),
// else dz += g * t.
cudaError_t LaunchCrossBackwardTerms(int64_t n, const float* g, const float* x0, const float* t,
                                     bool first_layer, float* dt, float* dz, cudaStream_t s);
// a += b.
cudaError_t LaunchAddInPlace(int64_t n, const float* b, float* a, cudaStream_t s);
// *flag = 1 when some x[i] is NaN or infinite; untouched otherwise (the caller zeroes it).
cudaError_t LaunchFlagNonFinite(int64_t n, const float* x, int32_t* flag, cudaStream_t s);
// dbottom[b] = dz[b][0] (dim floats).
cudaError_t LaunchCopyBottomGrad(int batch, int v, int dim, const float* dz, float* dbottom,
                                 cudaStream_t s);

// Per-sample BCE-with-logits (double) and dL/dlogit = (sigmoid(z) - y) / global.
cudaError_t LaunchBce(int batch, const float* logits, const float* labels, float inv_global,
                      float* dlogits, double* loss, cudaStream_t s);
cudaError_t LaunchSigmoid(int batch, const float* logits, float* probs, cudaStream_t s);

cudaError_t LaunchDenseStep(int64_t n, const model::DenseStep& step, float* w, float* s1,
                            float* s2, const float* g, cudaStream_t s);

// Embedding-row gradients, deterministic and slot-numbering independent: occurrences are put
// in sample-major order, stably radix-sorted by slot, each slot's run summed in sample order,
// and the runs ordered by first appearance. Writes out_slots/out_grads (first *num_unique
// entries) and *num_unique (device). `workspace` must hold EmbeddingGradWorkspaceBytes.
size_t EmbeddingGradWorkspaceBytes(int64_t max_occurrences, int batch, int num_sparse);
cudaError_t LaunchEmbeddingGradients(int batch, int num_sparse, int v, int first, int dim,
                                     int64_t occurrences, int slot_bits, const int64_t* offsets,
                                     const uint32_t* slots, const float* dz, void* workspace,
                                     size_t workspace_bytes, uint32_t* out_slots,
                                     float* out_grads, int32_t* num_unique, cudaStream_t s);

}  // namespace augur::cuda
