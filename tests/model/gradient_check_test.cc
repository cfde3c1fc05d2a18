// Finite-difference gradient checks of the CPU model, run on CpuDlrm<double>: the same code
// that trains in float, instantiated in double so central differences are accurate to ~1e-8.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "tests/model/model_test_util.h"
#include "worker/model/cpu_dlrm.h"

namespace augur::model {
namespace {

using testing::OwnedBatch;

// Everything one double-precision model evaluation needs.
struct DoubleProblem {
  DlrmConfig config;
  OwnedBatch batch;
  int num_rows = 0;
  std::vector<double> weights, rows;  // rows: num_rows x dim, slot r holds row r
  CpuDlrm<double> model;

  DoubleProblem(const DlrmConfig& c, int b, int nrows, uint32_t seed)
      : config(c), batch(testing::RandomBatch(c, b, nrows, seed)), num_rows(nrows), model(c) {
    for (float w : InitDenseWeights(c, seed)) weights.push_back(w);
    for (float r : testing::RandomRows(nrows, c.dim, seed + 1)) rows.push_back(r);
  }
  // Mean loss over the global batch.
  double Loss() {
    Minibatch mb = batch.view();
    model.Forward(weights.data(), rows.data(), config.dim, mb);
    return model.Loss(mb) / static_cast<double>(mb.global_batch_size);
  }
  void Gradients(std::vector<double>* dense, std::vector<SlotIndex>* slots,
                 std::vector<double>* row_grads) {
    Minibatch mb = batch.view();
    model.Forward(weights.data(), rows.data(), config.dim, mb);
    model.Loss(mb);
    dense->assign(weights.size(), 0.0);
    std::vector<int32_t> scratch(num_rows, -1);
    model.Backward(weights.data(), mb, dense->data(), slots, row_grads, scratch.data());
  }
};

double Central(DoubleProblem& p, double* x) {
  const double h = 1e-6, saved = *x;
  *x = saved + h;
  const double up = p.Loss();
  *x = saved - h;
  const double down = p.Loss();
  *x = saved;
  return (up - down) / (2 * h);
}

void CheckClose(double analytic, double numeric) {
  CHECK(analytic == Approx(numeric).epsilon(1e-5).margin(1e-9));
}

// Checks every parameter of one layer against central differences.
void CheckLayer(DoubleProblem& p, const LayerSlice& l) {
  std::vector<double> dense, row_grads;
  std::vector<SlotIndex> slots;
  p.Gradients(&dense, &slots, &row_grads);
  const int64_t n = static_cast<int64_t>(l.in) * l.out;
  for (int64_t i = 0; i < n; ++i) {
    CheckClose(dense[l.weight_offset + i], Central(p, &p.weights[l.weight_offset + i]));
  }
  for (int o = 0; o < l.out; ++o) {
    CheckClose(dense[l.bias_offset + o], Central(p, &p.weights[l.bias_offset + o]));
  }
}

TEST_CASE("Every bottom MLP layer's gradient matches finite differences") {
  DoubleProblem p(testing::TinyConfig(), 6, 10, 11);
  for (const auto& l : p.model.layout().bottom) CheckLayer(p, l);
}

TEST_CASE("Every top MLP layer's gradient matches finite differences") {
  DoubleProblem p(testing::TinyConfig(), 6, 10, 12);
  for (const auto& l : p.model.layout().top) CheckLayer(p, l);
}

TEST_CASE("Embedding row gradients through pooling and interaction match finite differences") {
  DoubleProblem p(testing::TinyConfig(), 6, 10, 13);
  std::vector<double> dense, row_grads;
  std::vector<SlotIndex> slots;
  p.Gradients(&dense, &slots, &row_grads);
  REQUIRE(!slots.empty());
  std::vector<bool> touched(p.num_rows, false);
  for (size_t u = 0; u < slots.size(); ++u) {
    touched[slots[u]] = true;
    for (int d = 0; d < p.config.dim; ++d) {
      CheckClose(row_grads[u * p.config.dim + d],
                 Central(p, &p.rows[static_cast<size_t>(slots[u]) * p.config.dim + d]));
    }
  }
  for (int r = 0; r < p.num_rows; ++r) {  // untouched rows really have zero gradient
    if (!touched[r]) CHECK(Central(p, &p.rows[static_cast<size_t>(r) * p.config.dim]) == 0.0);
  }
}

TEST_CASE("Self-interaction gradients match finite differences") {
  DoubleProblem p(testing::TinyConfig(/*self_interaction=*/true), 5, 8, 14);
  CheckLayer(p, p.model.layout().top[0]);
  CheckLayer(p, p.model.layout().bottom.back());
  std::vector<double> dense, row_grads;
  std::vector<SlotIndex> slots;
  p.Gradients(&dense, &slots, &row_grads);
  for (int d = 0; d < p.config.dim; ++d) {
    CheckClose(row_grads[d], Central(p, &p.rows[static_cast<size_t>(slots[0]) * p.config.dim + d]));
  }
}

TEST_CASE("The whole-model gradient matches finite differences as one vector") {
  // A directional derivative along a random direction over ALL dense weights and rows checks
  // that no parameter's gradient is missing or mis-scaled (global-batch averaging included).
  DoubleProblem p(testing::TinyConfig(), 7, 9, 15);
  std::vector<double> dense, row_grads;
  std::vector<SlotIndex> slots;
  p.Gradients(&dense, &slots, &row_grads);
  std::vector<double> dw(p.weights.size()), dr(p.rows.size());
  uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return static_cast<double>(state >> 8) / (1 << 24) - 0.5;
  };
  for (auto& x : dw) x = next();
  for (auto& x : dr) x = next();
  double analytic = 0.0;
  for (size_t i = 0; i < dw.size(); ++i) analytic += dense[i] * dw[i];
  for (size_t u = 0; u < slots.size(); ++u) {
    for (int d = 0; d < p.config.dim; ++d) {
      analytic += row_grads[u * p.config.dim + d] * dr[slots[u] * p.config.dim + d];
    }
  }
  auto shifted = [&](double t) {
    DoubleProblem q = p;
    for (size_t i = 0; i < dw.size(); ++i) q.weights[i] += t * dw[i];
    for (size_t i = 0; i < dr.size(); ++i) q.rows[i] += t * dr[i];
    return q.Loss();
  };
  const double h = 1e-6;
  CheckClose(analytic, (shifted(h) - shifted(-h)) / (2 * h));
}

TEST_CASE("The loss is the summed BCE with logits of the local samples") {
  DoubleProblem p(testing::TinyConfig(), 4, 6, 16);
  Minibatch mb = p.batch.view();
  p.model.Forward(p.weights.data(), p.rows.data(), p.config.dim, mb);
  double expected = 0.0;
  for (int b = 0; b < mb.batch_size; ++b) {
    const double z = p.model.logits()[b], y = mb.labels[b];
    const double s = 1.0 / (1.0 + std::exp(-z));
    expected += -(y * std::log(s) + (1 - y) * std::log(1 - s));
  }
  CHECK(p.model.Loss(mb) == Approx(expected).epsilon(1e-12));
}

}  // namespace
}  // namespace augur::model
