// Deterministic embedding-row gradients on the GPU, without float atomics:
//   1. number every occurrence by its sample-major position (sample, feature, bag position);
//   2. stable radix sort (slot, position) by slot: each slot's occurrences stay in sample order;
//   3. run-length encode the sorted slots into one run per touched slot;
//   4. order the runs by their first position (= order of first appearance);
//   5. one thread per (row, d) sums its run in sample order, starting from the first term.
// Steps 2-5 never look at slot values except as sort keys, so the output order and every sum
// are independent of which slots hold the rows, and equal to the CPU backend's bit for bit.
#include <cub/cub.cuh>

#include "worker/cuda/cuda_kernels.h"

namespace augur::cuda {
namespace {

constexpr int kThreads = 256;
inline unsigned Blocks(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

struct Workspace {
  int64_t *bag_count, *bag_start;
  uint32_t *ordered_slot, *rank_iota, *sorted_slot, *sorted_rank, *unique_slot;
  int32_t *ordered_src, *run_count, *run_start, *num_runs;
  uint32_t *first_rank, *seg_iota, *sorted_first, *sorted_seg;
  void* temp;
  size_t temp_bytes;
};

inline size_t Align(size_t x) { return (x + 255) & ~size_t{255}; }

size_t CubTempBytes(int64_t n, int64_t m) {
  size_t a = 0, b = 0, c = 0, d = 0;
  cub::DeviceScan::ExclusiveSum(nullptr, a, static_cast<int64_t*>(nullptr),
                                static_cast<int64_t*>(nullptr), static_cast<int>(m));
  cub::DeviceRadixSort::SortPairs(nullptr, b, static_cast<uint32_t*>(nullptr),
                                  static_cast<uint32_t*>(nullptr), static_cast<uint32_t*>(nullptr),
                                  static_cast<uint32_t*>(nullptr), static_cast<int>(n));
  cub::DeviceRunLengthEncode::Encode(nullptr, c, static_cast<uint32_t*>(nullptr),
                                     static_cast<uint32_t*>(nullptr),
                                     static_cast<int32_t*>(nullptr),
                                     static_cast<int32_t*>(nullptr), static_cast<int>(n));
  cub::DeviceScan::ExclusiveSum(nullptr, d, static_cast<int32_t*>(nullptr),
                                static_cast<int32_t*>(nullptr), static_cast<int>(n));
  return std::max(std::max(a, b), std::max(c, d));
}

// Carves the workspace; returns the bytes it needs (base may be null to just measure).
size_t Carve(char* base, int64_t n, int64_t m, Workspace* w) {
  size_t off = 0;
  auto take = [&](size_t bytes) {
    char* p = base ? base + off : nullptr;
    off += Align(bytes);
    return p;
  };
  w->bag_count = reinterpret_cast<int64_t*>(take(sizeof(int64_t) * m));
  w->bag_start = reinterpret_cast<int64_t*>(take(sizeof(int64_t) * m));
  w->ordered_slot = reinterpret_cast<uint32_t*>(take(4 * n));
  w->rank_iota = reinterpret_cast<uint32_t*>(take(4 * n));
  w->sorted_slot = reinterpret_cast<uint32_t*>(take(4 * n));
  w->sorted_rank = reinterpret_cast<uint32_t*>(take(4 * n));
  w->unique_slot = reinterpret_cast<uint32_t*>(take(4 * n));
  w->ordered_src = reinterpret_cast<int32_t*>(take(4 * n));
  w->run_count = reinterpret_cast<int32_t*>(take(4 * n));
  w->run_start = reinterpret_cast<int32_t*>(take(4 * n));
  w->num_runs = reinterpret_cast<int32_t*>(take(4));
  w->first_rank = reinterpret_cast<uint32_t*>(take(4 * n));
  w->seg_iota = reinterpret_cast<uint32_t*>(take(4 * n));
  w->sorted_first = reinterpret_cast<uint32_t*>(take(4 * n));
  w->sorted_seg = reinterpret_cast<uint32_t*>(take(4 * n));
  w->temp_bytes = CubTempBytes(n, m);
  w->temp = take(w->temp_bytes);
  return off;
}

// i = b * F + f (sample-major).
__global__ void BagCountKernel(int batch, int num_sparse, const int64_t* offsets, int64_t* count) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(batch) * num_sparse) return;
  int b = static_cast<int>(i / num_sparse), f = static_cast<int>(i % num_sparse);
  const int64_t* off = offsets + static_cast<int64_t>(f) * (batch + 1);
  count[i] = off[b + 1] - off[b];
}

__global__ void OrderKernel(int batch, int num_sparse, int v, int first, const int64_t* offsets,
                            const uint32_t* slots, const int64_t* start, uint32_t* ordered_slot,
                            int32_t* ordered_src, uint32_t* rank_iota) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(batch) * num_sparse) return;
  int b = static_cast<int>(i / num_sparse), f = static_cast<int>(i % num_sparse);
  const int64_t* off = offsets + static_cast<int64_t>(f) * (batch + 1);
  int64_t r = start[i];
  for (int64_t k = off[b]; k < off[b + 1]; ++k, ++r) {
    ordered_slot[r] = slots[k];
    ordered_src[r] = b * v + first + f;
    rank_iota[r] = static_cast<uint32_t>(r);
  }
}

__global__ void FirstRankKernel(int64_t n, const int32_t* num_runs, const int32_t* run_start,
                                const uint32_t* sorted_rank, uint32_t* first_rank,
                                uint32_t* seg_iota) {
  int64_t s = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (s >= n) return;
  first_rank[s] = s < *num_runs ? sorted_rank[run_start[s]] : 0xFFFFFFFFu;
  seg_iota[s] = static_cast<uint32_t>(s);
}

__global__ void RunSumKernel(int64_t n, int dim, const int32_t* num_runs,
                             const uint32_t* sorted_seg, const int32_t* run_start,
                             const int32_t* run_count, const uint32_t* sorted_rank,
                             const int32_t* ordered_src, const uint32_t* unique_slot,
                             const float* dz, uint32_t* out_slots, float* out_grads) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n * dim) return;
  int64_t u = i / dim;
  int d = static_cast<int>(i % dim);
  if (u >= *num_runs) return;
  const uint32_t seg = sorted_seg[u];
  const int32_t start = run_start[seg], cnt = run_count[seg];
  float acc = dz[static_cast<int64_t>(ordered_src[sorted_rank[start]]) * dim + d];
  for (int32_t t = 1; t < cnt; ++t) {
    acc += dz[static_cast<int64_t>(ordered_src[sorted_rank[start + t]]) * dim + d];
  }
  out_grads[i] = acc;
  if (d == 0) out_slots[u] = unique_slot[seg];
}

}  // namespace

size_t EmbeddingGradWorkspaceBytes(int64_t max_occurrences, int batch, int num_sparse) {
  Workspace w;
  return Carve(nullptr, std::max<int64_t>(max_occurrences, 1),
               static_cast<int64_t>(batch) * num_sparse, &w);
}

#define AUGUR_CUDA_OK(expr)                    \
  do {                                         \
    cudaError_t e_ = (expr);                   \
    if (e_ != cudaSuccess) return e_;          \
  } while (0)

cudaError_t LaunchEmbeddingGradients(int batch, int num_sparse, int v, int first, int dim,
                                     int64_t n,
                                     int slot_bits, const int64_t* offsets, const uint32_t* slots,
                                     const float* dz, void* workspace, size_t workspace_bytes,
                                     uint32_t* out_slots, float* out_grads, int32_t* num_unique,
                                     cudaStream_t s) {
  if (n == 0) return cudaMemsetAsync(num_unique, 0, sizeof(int32_t), s);
  const int64_t m = static_cast<int64_t>(batch) * num_sparse;
  Workspace w;
  if (Carve(static_cast<char*>(workspace), n, m, &w) > workspace_bytes) {
    return cudaErrorInvalidValue;
  }
  size_t tb = w.temp_bytes;
  BagCountKernel<<<Blocks(m), kThreads, 0, s>>>(batch, num_sparse, offsets, w.bag_count);
  AUGUR_CUDA_OK(cudaGetLastError());
  AUGUR_CUDA_OK(cub::DeviceScan::ExclusiveSum(w.temp, tb, w.bag_count, w.bag_start,
                                              static_cast<int>(m), s));
  OrderKernel<<<Blocks(m), kThreads, 0, s>>>(batch, num_sparse, v, first, offsets, slots,
                                             w.bag_start, w.ordered_slot, w.ordered_src,
                                             w.rank_iota);
  AUGUR_CUDA_OK(cudaGetLastError());
  tb = w.temp_bytes;
  AUGUR_CUDA_OK(cub::DeviceRadixSort::SortPairs(w.temp, tb, w.ordered_slot, w.sorted_slot,
                                                w.rank_iota, w.sorted_rank, static_cast<int>(n),
                                                0, slot_bits, s));
  // Counts past the last run are never written by the encoder; zero them so the scan below
  // stays well defined.
  AUGUR_CUDA_OK(cudaMemsetAsync(w.run_count, 0, sizeof(int32_t) * n, s));
  tb = w.temp_bytes;
  AUGUR_CUDA_OK(cub::DeviceRunLengthEncode::Encode(w.temp, tb, w.sorted_slot, w.unique_slot,
                                                   w.run_count, w.num_runs,
                                                   static_cast<int>(n), s));
  tb = w.temp_bytes;
  AUGUR_CUDA_OK(cub::DeviceScan::ExclusiveSum(w.temp, tb, w.run_count, w.run_start,
                                              static_cast<int>(n), s));
  FirstRankKernel<<<Blocks(n), kThreads, 0, s>>>(n, w.num_runs, w.run_start, w.sorted_rank,
                                                 w.first_rank, w.seg_iota);
  AUGUR_CUDA_OK(cudaGetLastError());
  tb = w.temp_bytes;
  AUGUR_CUDA_OK(cub::DeviceRadixSort::SortPairs(w.temp, tb, w.first_rank, w.sorted_first,
                                                w.seg_iota, w.sorted_seg, static_cast<int>(n), 0,
                                                32, s));
  RunSumKernel<<<Blocks(n * dim), kThreads, 0, s>>>(n, dim, w.num_runs, w.sorted_seg, w.run_start,
                                                    w.run_count, w.sorted_rank, w.ordered_src,
                                                    w.unique_slot, dz, out_slots, out_grads);
  AUGUR_CUDA_OK(cudaGetLastError());
  return cudaMemcpyAsync(num_unique, w.num_runs, sizeof(int32_t), cudaMemcpyDeviceToDevice, s);
}

}  // namespace augur::cuda
