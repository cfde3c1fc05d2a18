// The one embedding-row optimizer (ARCHITECTURE.md, "One optimizer"): shards use it on the
// uncached path, workers on the cached path, so both produce bit-identical rows.
//
// A row travels as `dim` value floats followed by StateFloats() optimizer-state floats
// ("state stored beside the row"). Supported:
//   sgd      row -= lr * g                                     state: none
//   adagrad  row-wise Adagrad (DLRM/FBGEMM): acc += mean(g^2);  state: 1 float (acc)
//            row -= lr * g / (sqrt(acc) + eps)
//   adam     per-row step count t (lazy/sparse Adam);           state: m[dim], v[dim], t
//            m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//            row -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
// The update is applied to every row that appears in the global batch, with g the sum of all
// workers' gradients of the mean-over-global-batch loss.
//
// The math is inline and free of library state so a CUDA kernel can reuse it (AUGUR_HD);
// compile device code with --fmad=false to keep it bit-identical to the host.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

#if defined(__CUDACC__)
#define AUGUR_HD __host__ __device__
#else
#define AUGUR_HD
#endif

namespace augur {

enum class OptimizerKind : uint8_t { kSgd = 0, kAdagrad = 1, kAdam = 2 };

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSgd;
  float lr = 0.01f;
  float eps = 1e-8f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float initial_accumulator = 0.0f;  // adagrad only
};

absl::StatusOr<OptimizerKind> ParseOptimizerKind(std::string_view name);
std::string_view OptimizerName(OptimizerKind kind);
// INVALID_ARGUMENT when lr <= 0, eps <= 0, betas outside [0, 1), accumulator < 0.
absl::Status ValidateOptimizerConfig(const OptimizerConfig& c);

AUGUR_HD inline int StateFloats(OptimizerKind kind, int dim) {
  return kind == OptimizerKind::kSgd ? 0 : kind == OptimizerKind::kAdagrad ? 1 : 2 * dim + 1;
}

// The state of a row that was never updated.
AUGUR_HD inline void InitRowState(const OptimizerConfig& c, int dim, float* state) {
  int n = StateFloats(c.kind, dim);
  for (int i = 0; i < n; ++i) state[i] = 0.0f;
  if (c.kind == OptimizerKind::kAdagrad) state[0] = c.initial_accumulator;
}

// Applies one update to `row` (dim floats) and its `state` with gradient `g` (dim floats).
AUGUR_HD inline void ApplyRowUpdate(const OptimizerConfig& c, int dim, float* row, float* state,
                                    const float* g) {
  switch (c.kind) {
    case OptimizerKind::kSgd:
      for (int i = 0; i < dim; ++i) row[i] -= c.lr * g[i];
      break;
    case OptimizerKind::kAdagrad: {
      float sq = 0.0f;
      for (int i = 0; i < dim; ++i) sq += g[i] * g[i];
      state[0] += sq / static_cast<float>(dim);
      float scale = c.lr / (sqrtf(state[0]) + c.eps);
      for (int i = 0; i < dim; ++i) row[i] -= scale * g[i];
      break;
    }
    case OptimizerKind::kAdam: {
      float* m = state;
      float* v = state + dim;
      float& t = state[2 * dim];
      t += 1.0f;
      float bc1 = 1.0f - powf(c.beta1, t);
      float bc2 = 1.0f - powf(c.beta2, t);
      for (int i = 0; i < dim; ++i) {
        m[i] = c.beta1 * m[i] + (1.0f - c.beta1) * g[i];
        v[i] = c.beta2 * v[i] + (1.0f - c.beta2) * g[i] * g[i];
        float mhat = m[i] / bc1;
        float vhat = v[i] / bc2;
        row[i] -= c.lr * mhat / (sqrtf(vhat) + c.eps);
      }
      break;
    }
  }
}

}  // namespace augur
