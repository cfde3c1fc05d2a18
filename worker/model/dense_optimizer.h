// The dense (MLP) optimizer step, element by element, shared by the CPU loop and the CUDA
// kernel (AUGUR_HD) so both backends do the same float operations in the same order.
//
// Dense parameters use element-wise optimizers, as torch.optim does for the reference model:
//   sgd      w -= lr * g
//   adagrad  acc += g^2; w -= (lr / (sqrt(acc) + eps)) * g           (s1 = acc)
//   adam     m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;              (s1 = m, s2 = v)
//            w -= lr * (m / bc1) / (sqrt(v / bc2) + eps), bc = 1 - beta^t with a global step t
// These mirror common/optimizer.h's row update with dim = 1 (row-wise Adagrad of a one-float
// row is element-wise Adagrad), without its per-row step counter.
#pragma once

#include <cmath>

#include "common/optimizer.h"

namespace augur::model {

struct DenseStep {
  OptimizerKind kind = OptimizerKind::kSgd;
  float lr = 0.01f, eps = 1e-8f, beta1 = 0.9f, beta2 = 0.999f;
  float bc1 = 1.0f, bc2 = 1.0f;  // Adam bias corrections for this step
};

// Builds the step for the t-th update (t starts at 1).
inline DenseStep MakeDenseStep(const OptimizerConfig& c, int64_t t) {
  DenseStep s;
  s.kind = c.kind;
  s.lr = c.lr;
  s.eps = c.eps;
  s.beta1 = c.beta1;
  s.beta2 = c.beta2;
  if (c.kind == OptimizerKind::kAdam) {
    // The rows' power (common/optimizer.h), so one definition of beta^t serves every update.
    const uint64_t steps = t > 0 ? static_cast<uint64_t>(t) : 0;
    s.bc1 = 1.0f - PowSteps(c.beta1, steps);
    s.bc2 = 1.0f - PowSteps(c.beta2, steps);
  }
  return s;
}

AUGUR_HD inline void DenseStepElement(const DenseStep& s, float* w, float* s1, float* s2,
                                      float g) {
  switch (s.kind) {
    case OptimizerKind::kSgd:
      *w -= s.lr * g;
      break;
    case OptimizerKind::kAdagrad: {
      *s1 += g * g;
      float scale = s.lr / (sqrtf(*s1) + s.eps);
      *w -= scale * g;
      break;
    }
    case OptimizerKind::kAdam: {
      *s1 = s.beta1 * *s1 + (1.0f - s.beta1) * g;
      *s2 = s.beta2 * *s2 + (1.0f - s.beta2) * g * g;
      float mhat = *s1 / s.bc1;
      float vhat = *s2 / s.bc2;
      *w -= s.lr * mhat / (sqrtf(vhat) + s.eps);
      break;
    }
  }
}

}  // namespace augur::model
