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

TEST_CASE("Optimizer names parse and bad hyper-parameters are rejected") {
  CHECK(*ParseOptimizerKind("adam") == OptimizerKind::kAdam);
  CHECK(ParseOptimizerKind("adamw").status().code() == absl::StatusCode::kInvalidArgument);
  OptimizerConfig c;
  c.lr = 0;
  CHECK(ValidateOptimizerConfig(c).code() == absl::StatusCode::kInvalidArgument);
}
