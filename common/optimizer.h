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
// The math is inline and free of library state so a CUDA kernel can reuse it (AUGUR_HD).
//
// What is bitwise across a CPU shard and a GPU worker, and why: ApplyRowUpdate (and the dense
// DenseStepElement built on the same operations) uses only +, -, *, / and sqrtf on floats, and
// PowSteps's multiplications on doubles. IEEE 754 makes each of those correctly rounded, on
// x86-64 (SSE, never x87) and in CUDA device code alike, provided nothing fuses or approximates
// them: host code is built with -ffp-contract=off, device code with --fmad=false and without
// --use_fast_math (so division and sqrtf are the correctly rounded ones, denormals kept). Under
// those flags the same row, state and gradient give the same bits on both sides. That is why
// the Adam bias corrections use PowSteps rather than powf: powf is a library routine, CUDA's is
// not correctly rounded (a few ulp), so it need not agree with glibc's.
// What is NOT bitwise across backends: whatever calls a transcendental function or a BLAS.
// The loss and dL/dlogit use exp / expf / log1p; CUDA's device versions are accurate to one or
// two ulp but not correctly rounded, and neither is glibc's guaranteed to be, so the two sides
// may differ in the last bit of a loss term or a logit gradient. GEMMs (OpenBLAS, cuBLASLt) sum
// in library-chosen orders. Hence losses, predictions, dense and row gradients agree across
// backends to a relative norm (about 1e-6), not bit for bit; given the same gradients, the
// optimizer updates are bitwise.
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

// base^n for an integer step count n, identical on host and device: repeated squaring in
// double (every multiply correctly rounded under IEEE 754), then one rounding to float. The
// double error is at most ~2n ulp(double) relative, far below float's half ulp for any n a
// float step counter can reach (2^24), so the result is float's nearest value but for the rare
// double-rounding tie, and it is the same bits wherever it runs.
AUGUR_HD inline float PowSteps(float base, uint64_t n) {
  double result = 1.0, square = static_cast<double>(base);
  while (n != 0) {
    if ((n & 1u) != 0) result *= square;
    n >>= 1;
    if (n != 0) square *= square;
  }
  return static_cast<float>(result);
}

// Adam's per-row step counter is a float in the row state (the row's wire format is floats);
// it counts exactly to 2^24, where increments stop. Converts it for PowSteps, saturating a
// corrupt (negative, huge or NaN) counter instead of converting it out of range (undefined).
AUGUR_HD inline uint64_t AdamStepCount(float t) {
  return t >= 0.0f && t <= 16777216.0f ? static_cast<uint64_t>(t) : uint64_t{16777216};
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
      const uint64_t steps = AdamStepCount(t);
      float bc1 = 1.0f - PowSteps(c.beta1, steps);
      float bc2 = 1.0f - PowSteps(c.beta2, steps);
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
