// The CUDA backend's custom kernels. Every reduction a thread performs follows the CPU
// backend's order (see worker/model/cpu_dlrm.cc), so with --fmad=false a kernel gives the CPU
// code's bits for the same inputs wherever it uses only + - * / and sqrt: gather, pooling,
// interaction, embedding-gradient sums and the optimizers. Not the loss and sigmoid kernels:
// device exp / expf / log1p are not correctly rounded and may differ from glibc's in the last
// bit (common/optimizer.h says what is bitwise and what is not).
#include <cub/cub.cuh>

#include "worker/cuda/cuda_kernels.h"

namespace augur::cuda {
namespace {

constexpr int kThreads = 256;
// The shared-memory interaction kernel: block size, and the most shared memory it may use
// without opting in to more (larger models take the global-memory kernel).
constexpr int kInteractThreads = 128;
constexpr size_t kInteractSharedBytes = 48 * 1024;
inline unsigned Blocks(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

__global__ void ScatterRowsKernel(float* slots_arr, int rf, const uint32_t* slots, int64_t n,
                                  const float* rec) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n * rf) return;
  int64_t r = i / rf, c = i % rf;
  slots_arr[static_cast<int64_t>(slots[r]) * rf + c] = rec[i];
}

__global__ void GatherRowsKernel(const float* slots_arr, int rf, const uint32_t* slots, int64_t n,
                                 float* rec) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n * rf) return;
  int64_t r = i / rf, c = i % rf;
  rec[i] = slots_arr[static_cast<int64_t>(slots[r]) * rf + c];
}

__global__ void UpdateRowsKernel(OptimizerConfig opt, int dim, int rf, float* slots_arr,
                                 const uint32_t* slots, int64_t n, const float* grads) {
  int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (r >= n) return;
  float* row = slots_arr + static_cast<int64_t>(slots[r]) * rf;
  ApplyRowUpdate(opt, dim, row, row + dim, grads + r * dim);
}

__global__ void BiasReluKernel(int batch, int out, const float* bias, bool relu, float* y) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(batch) * out) return;
  float v = y[i] + bias[i % out];
  y[i] = relu ? (v > 0.0f ? v : 0.0f) : v;
}

__global__ void ReluMaskKernel(int64_t n, const float* y, float* dy) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

// Pass 1: one thread per (chunk, o) sums the chunk's samples in order (coalesced over o).
__global__ void BiasGradChunkKernel(int batch, int out, const float* dy, float* partial) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t chunks = (static_cast<int64_t>(batch) + kBiasGradChunk - 1) / kBiasGradChunk;
  if (i >= chunks * out) return;
  const int o = static_cast<int>(i % out);
  const int64_t c = i / out;
  const int64_t end = min(static_cast<int64_t>(batch), (c + 1) * kBiasGradChunk);
  float acc = 0.0f;
  for (int64_t b = c * kBiasGradChunk; b < end; ++b) acc += dy[b * out + o];
  partial[i] = acc;
}

// Pass 2: one thread per o adds the chunks in order.
__global__ void BiasGradSumKernel(int64_t chunks, int out, const float* partial, float* db) {
  int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= out) return;
  float acc = partial[o];
  for (int64_t c = 1; c < chunks; ++c) acc += partial[c * out + o];
  db[o] = acc;
}

__global__ void CopyBottomKernel(int batch, int v, int dim, const float* src, float* z) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(batch) * dim) return;
  int64_t b = i / dim, d = i % dim;
  z[b * v * dim + d] = src[i];
}

__global__ void CopyBottomGradKernel(int batch, int v, int dim, const float* dz, float* dst) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(batch) * dim) return;
  int64_t b = i / dim, d = i % dim;
  dst[i] = dz[b * v * dim + d];
}

// One thread per (feature, sample, d): the bag's rows in bag order, starting from 0.
__global__ void PoolKernel(int batch, int num_sparse, int v, int first, int dim,
                           const int64_t* offsets,
                           const uint32_t* slots, const float* arr, int rf, float* z) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(num_sparse) * batch * dim) return;
  int d = static_cast<int>(i % dim);
  int64_t fb = i / dim;
  int b = static_cast<int>(fb % batch), f = static_cast<int>(fb / batch);
  const int64_t* off = offsets + static_cast<int64_t>(f) * (batch + 1);
  float acc = 0.0f;
  for (int64_t k = off[b]; k < off[b + 1]; ++k) acc += arr[static_cast<int64_t>(slots[k]) * rf + d];
  z[(static_cast<int64_t>(b) * v + first + f) * dim + d] = acc;
}

// One thread per (feature, sample, d) of a mean-pooled feature's non-empty bag.
__global__ void MeanScaleKernel(int batch, int num_sparse, int v, int first, int dim,
                                const int64_t* offsets, const uint8_t* mean_mask, float* z) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(num_sparse) * batch * dim) return;
  int d = static_cast<int>(i % dim);
  int64_t fb = i / dim;
  int b = static_cast<int>(fb % batch), f = static_cast<int>(fb / batch);
  if (mean_mask[f] == 0) return;
  const int64_t* off = offsets + static_cast<int64_t>(f) * (batch + 1);
  const int64_t n = off[b + 1] - off[b];
  if (n <= 0) return;
  const float scale = 1.0f / static_cast<float>(n);  // IEEE division (no fast-math)
  z[(static_cast<int64_t>(b) * v + first + f) * dim + d] *= scale;
}

// The CPU's Dot: eight interleaved lanes, then the lanes in order.
__device__ float Dot8(const float* a, const float* b, int n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) lane[k] += a[i + k] * b[i + k];
  }
  for (int k = 0; i < n; ++i, ++k) lane[k] += a[i] * b[i];
  float s = 0.0f;
  for (int k = 0; k < 8; ++k) s += lane[k];
  return s;
}

__global__ void InteractKernel(int batch, int v, int dim, int lead, int num_pairs,
                               const int2* pairs, const float* z, float* top_in) {
  const int tw = lead + num_pairs;
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(batch) * tw) return;
  int64_t b = i / tw;
  int c = static_cast<int>(i % tw);
  const float* zb = z + b * v * dim;
  if (c < lead) {
    top_in[i] = zb[c];
  } else {
    int2 p = pairs[c - lead];
    top_in[i] = Dot8(zb + p.x * dim, zb + p.y * dim, dim);
  }
}

// One block per sample: the sample's v vectors are staged in shared memory with a row stride
// of dim + 1 floats, so the threads of a warp (consecutive pairs, mostly one shared first
// vector and distinct second vectors) read distinct banks. Same Dot8 order as above.
__global__ void InteractSharedKernel(int v, int dim, int lead, int num_pairs, const int2* pairs,
                                     const float* z, float* top_in) {
  extern __shared__ float zs[];
  const int tw = lead + num_pairs, stride = dim + 1;
  const int64_t b = blockIdx.x;
  const float* zb = z + b * v * dim;
  for (int k = threadIdx.x; k < v * dim; k += blockDim.x) zs[(k / dim) * stride + k % dim] = zb[k];
  __syncthreads();
  float* out = top_in + b * tw;
  for (int c = threadIdx.x; c < tw; c += blockDim.x) {
    if (c < lead) {
      out[c] = zs[c];
    } else {
      const int2 p = pairs[c - lead];
      out[c] = Dot8(zs + p.x * stride, zs + p.y * stride, dim);
    }
  }
}

// One thread per (sample, vector r, d), adding the pair terms in the CPU's pair order.
__global__ void InteractBackwardKernel(int batch, int v, int dim, int lead, int num_pairs,
                                       bool self, const int* pair_of, const float* dtop,
                                       const float* z, float* dz) {
  const int tw = lead + num_pairs;
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(batch) * v * dim) return;
  int d = static_cast<int>(i % dim);
  int64_t br = i / dim;
  int r = static_cast<int>(br % v);
  int64_t b = br / v;
  const float* g = dtop + b * tw + lead;
  const float* zb = z + b * v * dim;
  float acc = r == 0 && lead > 0 ? dtop[b * tw + d] : 0.0f;
  for (int j = 0; j < r; ++j) acc += g[pair_of[r * v + j]] * zb[j * dim + d];
  if (self) {
    float t = g[pair_of[r * v + r]] * zb[r * dim + d];
    acc += t;
    acc += t;
  }
  for (int k = r + 1; k < v; ++k) acc += g[pair_of[k * v + r]] * zb[k * dim + d];
  dz[i] = acc;
}

__global__ void CrossCombineKernel(int64_t n, const float* x0, const float* t, const float* x,
                                   float* y) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = x0[i] * t[i] + x[i];
}

__global__ void CrossBackwardTermsKernel(int64_t n, const float* g, const float* x0,
                                         const float* t, bool first_layer, float* dt, float* dz) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const float gi = g[i];
  dt[i] = gi * x0[i];
  const float term = gi * t[i];
  dz[i] = first_layer ? term : dz[i] + term;
}

__global__ void AddInPlaceKernel(int64_t n, const float* b, float* a) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) a[i] = a[i] + b[i];
}

// Every writer stores the same 1, so the race between them is benign.
__global__ void FlagNonFiniteKernel(int64_t n, const float* x, int32_t* flag) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n && !isfinite(x[i])) *flag = 1;
}

__global__ void BceKernel(int batch, const float* logits, const float* labels, float inv_global,
                          float* dlogits, double* loss) {
  int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= batch) return;
  const float z = logits[b], y = labels[b];
  const double zd = z, yd = y;
  loss[b] = fmax(zd, 0.0) - zd * yd + log1p(exp(-fabs(zd)));
  const float e = expf(-fabsf(z));
  const float sig = z >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
  dlogits[b] = (sig - y) * inv_global;
}

__global__ void SigmoidKernel(int batch, const float* logits, float* probs) {
  int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= batch) return;
  const float z = logits[b], e = expf(-fabsf(z));
  probs[b] = z >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

__global__ void DenseStepKernel(int64_t n, model::DenseStep st, float* w, float* s1, float* s2,
                                const float* g) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  model::DenseStepElement(st, w + i, s1 ? s1 + i : nullptr, s2 ? s2 + i : nullptr, g[i]);
}

}  // namespace

#define AUGUR_LAUNCH(n, kernel, ...)                                \
  do {                                                              \
    if ((n) > 0) kernel<<<Blocks(n), kThreads, 0, s>>>(__VA_ARGS__); \
    return cudaGetLastError();                                      \
  } while (0)

cudaError_t LaunchScatterRows(float* arr, int rf, const uint32_t* slots, int64_t n,
                              const float* rec, cudaStream_t s) {
  AUGUR_LAUNCH(n * rf, ScatterRowsKernel, arr, rf, slots, n, rec);
}
cudaError_t LaunchGatherRows(const float* arr, int rf, const uint32_t* slots, int64_t n,
                             float* rec, cudaStream_t s) {
  AUGUR_LAUNCH(n * rf, GatherRowsKernel, arr, rf, slots, n, rec);
}
cudaError_t LaunchUpdateRows(const OptimizerConfig& opt, int dim, int rf, float* arr,
                             const uint32_t* slots, int64_t n, const float* grads,
                             cudaStream_t s) {
  AUGUR_LAUNCH(n, UpdateRowsKernel, opt, dim, rf, arr, slots, n, grads);
}
cudaError_t LaunchBiasRelu(int batch, int out, const float* bias, bool relu, float* y,
                           cudaStream_t s) {
  AUGUR_LAUNCH(static_cast<int64_t>(batch) * out, BiasReluKernel, batch, out, bias, relu, y);
}
cudaError_t LaunchReluMask(int64_t n, const float* y, float* dy, cudaStream_t s) {
  AUGUR_LAUNCH(n, ReluMaskKernel, n, y, dy);
}
cudaError_t LaunchBiasGrad(int batch, int out, const float* dy, float* partial, float* db,
                           cudaStream_t s) {
  const int64_t n = BiasGradPartialFloats(batch, out);
  if (n == 0) return cudaMemsetAsync(db, 0, sizeof(float) * out, s);
  BiasGradChunkKernel<<<Blocks(n), kThreads, 0, s>>>(batch, out, dy, partial);
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return e;
  AUGUR_LAUNCH(out, BiasGradSumKernel, n / out, out, partial, db);
}
cudaError_t LaunchCopyBottom(int batch, int v, int dim, const float* src, float* z,
                             cudaStream_t s) {
  AUGUR_LAUNCH(static_cast<int64_t>(batch) * dim, CopyBottomKernel, batch, v, dim, src, z);
}
cudaError_t LaunchCopyBottomGrad(int batch, int v, int dim, const float* dz, float* dst,
                                 cudaStream_t s) {
  AUGUR_LAUNCH(static_cast<int64_t>(batch) * dim, CopyBottomGradKernel, batch, v, dim, dz, dst);
}
cudaError_t LaunchPool(int batch, int num_sparse, int v, int first, int dim,
                       const int64_t* offsets, const uint32_t* slots, const float* arr, int rf,
                       float* z, cudaStream_t s) {
  AUGUR_LAUNCH(static_cast<int64_t>(num_sparse) * batch * dim, PoolKernel, batch, num_sparse, v,
               first, dim, offsets, slots, arr, rf, z);
}
cudaError_t LaunchMeanScale(int batch, int num_sparse, int v, int first, int dim,
                            const int64_t* offsets, const uint8_t* mean_mask, float* z,
                            cudaStream_t s) {
  AUGUR_LAUNCH(static_cast<int64_t>(num_sparse) * batch * dim, MeanScaleKernel, batch, num_sparse,
               v, first, dim, offsets, mean_mask, z);
}
cudaError_t LaunchInteract(int batch, int v, int dim, int lead, int num_pairs, const int2* pairs,
                           const float* z, float* top_in, cudaStream_t s) {
  const size_t shared = sizeof(float) * static_cast<size_t>(v) * (dim + 1);
  if (shared <= kInteractSharedBytes) {
    if (batch > 0) {
      InteractSharedKernel<<<batch, kInteractThreads, shared, s>>>(v, dim, lead, num_pairs,
                                                                   pairs, z, top_in);
    }
    return cudaGetLastError();
  }
  AUGUR_LAUNCH(static_cast<int64_t>(batch) * (lead + num_pairs), InteractKernel, batch, v, dim,
               lead, num_pairs, pairs, z, top_in);
}
cudaError_t LaunchInteractBackward(int batch, int v, int dim, int lead, int num_pairs, bool self,
                                   const int* pair_of, const float* dtop, const float* z,
                                   float* dz, cudaStream_t s) {
  AUGUR_LAUNCH(static_cast<int64_t>(batch) * v * dim, InteractBackwardKernel, batch, v, dim,
               lead, num_pairs, self, pair_of, dtop, z, dz);
}
cudaError_t LaunchCrossCombine(int64_t n, const float* x0, const float* t, const float* x,
                               float* y, cudaStream_t s) {
  AUGUR_LAUNCH(n, CrossCombineKernel, n, x0, t, x, y);
}
cudaError_t LaunchCrossBackwardTerms(int64_t n, const float* g, const float* x0, const float* t,
                                     bool first_layer, float* dt, float* dz, cudaStream_t s) {
  AUGUR_LAUNCH(n, CrossBackwardTermsKernel, n, g, x0, t, first_layer, dt, dz);
}
cudaError_t LaunchAddInPlace(int64_t n, const float* b, float* a, cudaStream_t s) {
  AUGUR_LAUNCH(n, AddInPlaceKernel, n, b, a);
}
cudaError_t LaunchFlagNonFinite(int64_t n, const float* x, int32_t* flag, cudaStream_t s) {
  AUGUR_LAUNCH(n, FlagNonFiniteKernel, n, x, flag);
}
cudaError_t LaunchBce(int batch, const float* logits, const float* labels, float inv_global,
                      float* dlogits, double* loss, cudaStream_t s) {
  AUGUR_LAUNCH(batch, BceKernel, batch, logits, labels, inv_global, dlogits, loss);
}
cudaError_t LaunchSigmoid(int batch, const float* logits, float* probs, cudaStream_t s) {
  AUGUR_LAUNCH(batch, SigmoidKernel, batch, logits, probs);
}
cudaError_t LaunchDenseStep(int64_t n, const model::DenseStep& st, float* w, float* s1, float* s2,
                            const float* g, cudaStream_t s) {
  AUGUR_LAUNCH(n, DenseStepKernel, n, st, w, s1, s2, g);
}

}  // namespace augur::cuda
