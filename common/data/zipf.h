// Zipf(alpha) over ranks 1..n in O(1) expected time per draw, for n up to 2^40: Hörmann and
// Derflinger's rejection-inversion ("Rejection-inversion to generate variates from monotone
// discrete distributions", ACM TOMACS 1996), following the formulation of Apache Commons RNG's
// RejectionInversionZipfSampler. No table proportional to n is built, so a 292M-row feature costs
// the same as a 3-row one. alpha = 0 is the uniform distribution; alpha must be >= 0.
// Thread-safety: immutable after construction; Sample is const.
#pragma once

#include <cstdint>

namespace augur::data {

class ZipfSampler {
 public:
  ZipfSampler(uint64_t n, double alpha);

  // A rank in [1, n]. `uniform(i)` must return the i-th uniform double in [0, 1) of this draw;
  // one is used per attempt, and attempts are accepted with probability > 0.9 for every n, alpha.
  template <typename UniformFn>
  uint64_t Sample(UniformFn&& uniform) const {
    if (alpha_ == 0.0) return 1 + static_cast<uint64_t>(uniform(0) * static_cast<double>(n_)) % n_;
    for (int attempt = 0;; ++attempt) {
      double u = h_integral_n_ + uniform(attempt) * (h_integral_x1_ - h_integral_n_);
      double x = HIntegralInverse(u);
      double kd = x + 0.5;
      uint64_t k = kd < 1.0 ? 1 : (kd > static_cast<double>(n_) ? n_ : static_cast<uint64_t>(kd));
      if (static_cast<double>(k) - x <= s_ || u >= HIntegral(static_cast<double>(k) + 0.5) - H(k)) {
        return k;
      }
    }
  }

  uint64_t n() const { return n_; }
  double alpha() const { return alpha_; }

 private:
  double H(double x) const;
  double HIntegral(double x) const;
  double HIntegralInverse(double x) const;

  uint64_t n_;
  double alpha_;
  double h_integral_x1_ = 0, h_integral_n_ = 0, s_ = 0;
};

}  // namespace augur::data
