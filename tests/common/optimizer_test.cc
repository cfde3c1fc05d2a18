#include "common/optimizer.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace augur;

TEST_CASE("SGD subtracts lr times the gradient") {
  OptimizerConfig c{OptimizerKind::kSgd, 0.5f};
  std::vector<float> row{1.0f, -2.0f}, g{0.2f, -0.4f};
  ApplyRowUpdate(c, 2, row.data(), nullptr, g.data());
  CHECK(row[0] == Approx(0.9f));
  CHECK(row[1] == Approx(-1.8f));
  CHECK(StateFloats(OptimizerKind::kSgd, 2) == 0);
}

TEST_CASE("Row-wise Adagrad accumulates the mean squared gradient") {
  OptimizerConfig c{OptimizerKind::kAdagrad, 0.1f, 1e-8f};
  c.initial_accumulator = 0.0f;
  std::vector<float> row{1.0f, 1.0f}, st(1), g{3.0f, 4.0f};
  InitRowState(c, 2, st.data());
  ApplyRowUpdate(c, 2, row.data(), st.data(), g.data());
  CHECK(st[0] == Approx(12.5f));  // (9 + 16) / 2
  CHECK(row[0] == Approx(1.0f - 0.1f * 3.0f / std::sqrt(12.5f)));
  ApplyRowUpdate(c, 2, row.data(), st.data(), g.data());
  CHECK(st[0] == Approx(25.0f));
}

TEST_CASE("Adam's first step moves each coordinate by about lr") {
  OptimizerConfig c{OptimizerKind::kAdam, 0.01f, 1e-8f, 0.9f, 0.999f};
  std::vector<float> row{0.0f, 0.0f}, st(StateFloats(c.kind, 2)), g{5.0f, -0.001f};
  InitRowState(c, 2, st.data());
  ApplyRowUpdate(c, 2, row.data(), st.data(), g.data());
  CHECK(row[0] == Approx(-0.01f).epsilon(1e-4));
  CHECK(row[1] == Approx(0.01f).epsilon(1e-3));
  CHECK(st[4] == 1.0f);  // per-row step count
}

TEST_CASE("PowSteps is within half a float ulp of the exact power, even for large steps") {
  // Exact: long double powl (64-bit significand, far finer than float). PowSteps's double
  // squarings may add up to ~2n double ulps before the one rounding to float.
  for (float beta : {0.0f, 0.5f, 0.9f, 0.99f, 0.999f, 0.9999f, 0.99999f}) {
    for (uint64_t n : {0ull, 1ull, 2ull, 3ull, 7ull, 10ull, 100ull, 900ull, 1000ull, 12345ull,
                       100000ull, 1ull << 20, 9999991ull, 1ull << 24}) {
      const long double exact = powl(static_cast<long double>(beta), static_cast<long double>(n));
      const float nearest = static_cast<float>(exact);
      const float p = PowSteps(beta, n);
      const long double ulp = std::nextafter(nearest, INFINITY) - nearest;
      const long double bound = 0.5L * ulp + exact * 2.0L * static_cast<long double>(n) * 0x1p-53L;
      INFO("beta " << beta << " n " << n << ": " << p << " vs exact " << static_cast<double>(exact));
      CHECK(std::abs(static_cast<long double>(p) - exact) <= bound);
      CHECK(std::isfinite(p));
    }
  }
  CHECK(PowSteps(0.9f, 0) == 1.0f);
  CHECK(PowSteps(0.0f, 5) == 0.0f);
  CHECK(PowSteps(0.5f, 3) == 0.125f);
}

TEST_CASE("Adam's step count saturates a corrupt counter instead of converting it") {
  CHECK(AdamStepCount(0.0f) == 0u);
  CHECK(AdamStepCount(3.0f) == 3u);
  CHECK(AdamStepCount(16777216.0f) == 16777216u);
  CHECK(AdamStepCount(-1.0f) == 16777216u);
  CHECK(AdamStepCount(1e30f) == 16777216u);
  CHECK(AdamStepCount(NAN) == 16777216u);
}

TEST_CASE("Adam's bias corrections use PowSteps of the row's own step count") {
  OptimizerConfig c{OptimizerKind::kAdam, 0.01f, 1e-8f, 0.9f, 0.999f};
  std::vector<float> row{0.5f}, st(StateFloats(c.kind, 1)), g{0.25f};
  InitRowState(c, 1, st.data());
  st[2] = 41.0f;  // this row was updated 41 times before
  const float m = (1.0f - c.beta1) * g[0], v = (1.0f - c.beta2) * g[0] * g[0];
  const float mhat = m / (1.0f - PowSteps(c.beta1, 42)), vhat = v / (1.0f - PowSteps(c.beta2, 42));
  const float expect = row[0] - c.lr * mhat / (std::sqrt(vhat) + c.eps);
  ApplyRowUpdate(c, 1, row.data(), st.data(), g.data());
  CHECK(st[2] == 42.0f);
  CHECK(row[0] == expect);  // the same operations in the same order: bitwise
}

TEST_CASE("Optimizer names parse and bad hyper-parameters are rejected") {
  CHECK(*ParseOptimizerKind("adam") == OptimizerKind::kAdam);
  CHECK(ParseOptimizerKind("adamw").status().code() == absl::StatusCode::kInvalidArgument);
  OptimizerConfig c;
  c.lr = 0;
  CHECK(ValidateOptimizerConfig(c).code() == absl::StatusCode::kInvalidArgument);
}
