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

// Checks the dense weights [offset, offset + n) against central differences.
void CheckDenseRange(DoubleProblem& p, int64_t offset, int64_t n) {
  std::vector<double> dense, row_grads;
  std::vector<SlotIndex> slots;
  p.Gradients(&dense, &slots, &row_grads);
  for (int64_t i = offset; i < offset + n; ++i) CheckClose(dense[i], Central(p, &p.weights[i]));
}

// Checks every parameter of one layer against central differences.
void CheckLayer(DoubleProblem& p, const LayerSlice& l) {
  CheckDenseRange(p, l.weight_offset, static_cast<int64_t>(l.in) * l.out);
  CheckDenseRange(p, l.bias_offset, l.out);
}

// Checks V_l, W_l and b_l of one cross layer.
void CheckCrossLayer(DoubleProblem& p, const CrossSlice& l) {
  const int64_t n = static_cast<int64_t>(l.in) * l.rank;
  REQUIRE(l.w_offset == l.v_offset + n);
  REQUIRE(l.bias_offset == l.w_offset + n);
  CheckDenseRange(p, l.v_offset, 2 * n + l.in);
}

// Every touched row's gradient against central differences; untouched rows have none.
void CheckEmbeddingRows(DoubleProblem& p) {
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

// A directional derivative along a random direction over ALL dense weights and rows checks
// that no parameter's gradient is missing or mis-scaled (global-batch averaging included).
void CheckWholeModel(DoubleProblem& p) {
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
  CheckEmbeddingRows(p);
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
  DoubleProblem p(testing::TinyConfig(), 7, 9, 15);
  CheckWholeModel(p);
}

// DCNv2 (F=3, dim 4, 2 cross layers of rank 3). The weights are perturbed away from the init
// first: the init's zero cross biases would leave the bias-times-x0 paths at a special point.
void Perturb(DoubleProblem* p, uint32_t seed) {
  std::vector<float> noise = testing::RandomRows(1, static_cast<int>(p->weights.size()), seed);
  for (size_t i = 0; i < p->weights.size(); ++i) p->weights[i] += 0.2 * noise[i];
}

TEST_CASE("Every cross layer's gradient matches finite differences") {
  DoubleProblem p(testing::TinyDcnConfig(), 6, 10, 21);
  Perturb(&p, 1);
  REQUIRE(p.model.layout().cross.size() == 2);
  for (const auto& l : p.model.layout().cross) CheckCrossLayer(p, l);
}

TEST_CASE("MLP layer gradients around the cross network match finite differences") {
  DoubleProblem p(testing::TinyDcnConfig(), 5, 10, 22);
  Perturb(&p, 2);
  for (const auto& l : p.model.layout().bottom) CheckLayer(p, l);
  for (const auto& l : p.model.layout().top) CheckLayer(p, l);
}

TEST_CASE("Embedding row gradients through the cross network match finite differences") {
  DoubleProblem p(testing::TinyDcnConfig(), 6, 10, 23);
  Perturb(&p, 3);
  CheckEmbeddingRows(p);
}

TEST_CASE("The whole dcn model's gradient matches finite differences as one vector") {
  DoubleProblem p(testing::TinyDcnConfig(), 7, 9, 24);
  Perturb(&p, 4);
  CheckWholeModel(p);
}

TEST_CASE("Without dense features the dot model's gradients match finite differences") {
  DoubleProblem p(testing::TinyNoDenseConfig(), 6, 10, 31);
  REQUIRE(p.model.layout().bottom.empty());
  REQUIRE(p.model.layout().top[0].in == 3);  // the 3 dots of F=3, no dense part
  for (const auto& l : p.model.layout().top) CheckLayer(p, l);
  CheckEmbeddingRows(p);
  CheckWholeModel(p);
}

TEST_CASE("Without dense features the self-interaction model's gradients match") {
  DlrmConfig c = testing::TinyNoDenseConfig();
  c.self_interaction = true;
  DoubleProblem p(c, 5, 8, 32);
  REQUIRE(p.model.layout().top[0].in == 6);
  CheckLayer(p, p.model.layout().top[0]);
  CheckEmbeddingRows(p);
}

TEST_CASE("Without dense features the dcn model's gradients match finite differences") {
  DoubleProblem p(testing::TinyNoDenseConfig(Interaction::kDcn), 6, 10, 33);
  Perturb(&p, 5);
  REQUIRE(p.model.layout().bottom.empty());
  REQUIRE(p.model.layout().cross[0].in == 12);  // x0 = [emb_1, emb_2, emb_3]
  for (const auto& l : p.model.layout().cross) CheckCrossLayer(p, l);
  CheckLayer(p, p.model.layout().top[0]);
  CheckEmbeddingRows(p);
  CheckWholeModel(p);
}

TEST_CASE("Multi-hot bags of up to 8 rows pool by sum in the dcn gradients") {
  DlrmConfig c = testing::TinyDcnConfig();
  DoubleProblem p(c, 5, 12, 34);
  p.batch = testing::RandomBatch(c, 5, 12, 34, /*max_bag=*/8);
  Perturb(&p, 6);
  CheckEmbeddingRows(p);
  CheckWholeModel(p);
}

TEST_CASE("Mean-pooled bags (empty ones included) match finite differences, dot and dcn") {
  for (DlrmConfig c : {testing::TinyConfig(), testing::TinyDcnConfig()}) {
    c.mean_pooling = {1, 0, 1};  // features 0 and 2 average their bags, feature 1 sums
    DoubleProblem p(c, 5, 12, 35);
    p.batch = testing::RandomBatch(c, 5, 12, 35, /*max_bag=*/6);
    Perturb(&p, 7);
    CheckEmbeddingRows(p);
    CheckWholeModel(p);
  }
}

TEST_CASE("Mean pooling divides a bag's sum by its size, and changes nothing for bags of one") {
  DlrmConfig sum = testing::TinyConfig();
  DlrmConfig mean = sum;
  mean.mean_pooling = {1, 1, 1};
  DoubleProblem a(sum, 6, 10, 36), b(mean, 6, 10, 36);
  // Bags of exactly one id: identical logits.
  a.batch = testing::RandomBatch(sum, 6, 10, 36, /*max_bag=*/1);
  bool all_single = true;
  for (size_t i = 0; i + 1 < a.batch.offsets.size(); ++i) {
    const int64_t n = a.batch.offsets[i + 1] - a.batch.offsets[i];
    all_single = all_single && (n <= 1);
  }
  REQUIRE(all_single);
  b.batch = a.batch;
  CHECK(a.Loss() == b.Loss());
  // A bag of two copies of one row pools, by its mean, to that row: the same loss as a bag
  // holding the row once under sum pooling.
  testing::OwnedBatch twice = a.batch, once = a.batch;
  twice.rows.clear();
  twice.offsets.clear();
  for (int f = 0; f < 3; ++f) {
    for (int s = 0; s < 6; ++s) {
      twice.offsets.push_back(static_cast<int64_t>(twice.rows.size()));
      const uint32_t r = static_cast<uint32_t>((f * 6 + s) % 10);
      twice.rows.push_back(r);
      twice.rows.push_back(r);
    }
    twice.offsets.push_back(static_cast<int64_t>(twice.rows.size()));
  }
  once.rows.clear();
  once.offsets.clear();
  for (int f = 0; f < 3; ++f) {
    for (int s = 0; s < 6; ++s) {
      once.offsets.push_back(static_cast<int64_t>(once.rows.size()));
      once.rows.push_back(static_cast<uint32_t>((f * 6 + s) % 10));
    }
    once.offsets.push_back(static_cast<int64_t>(once.rows.size()));
  }
  std::vector<SlotIndex> identity(10);
  for (int r = 0; r < 10; ++r) identity[r] = r;
  twice.PlaceRows(identity);
  once.PlaceRows(identity);
  b.batch = twice;
  a.batch = once;
  CHECK(b.Loss() == Approx(a.Loss()).epsilon(1e-12));
  a.batch = twice;  // summed, the doubled bags are another model input
  CHECK(a.Loss() != Approx(b.Loss()).epsilon(1e-6));
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
