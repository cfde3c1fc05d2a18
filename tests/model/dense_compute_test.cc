// Behaviour of the "cpu" DenseCompute: the slot array, the optimizer hooks, and the invariant
// that which slots hold the rows never changes the math.
#include "worker/model/dense_compute.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "tests/model/model_test_util.h"

namespace augur::model {
namespace {

DenseComputeOptions TinyOptions(OptimizerKind emb_kind = OptimizerKind::kAdagrad) {
  DenseComputeOptions o;
  o.model = testing::TinyConfig();
  o.capacity = 64;
  o.embedding_optimizer.kind = emb_kind;
  o.embedding_optimizer.lr = 0.05f;
  o.dense_optimizer.kind = OptimizerKind::kAdam;
  o.dense_optimizer.lr = 0.01f;
  o.seed = 7;
  return o;
}

// The model shapes the behaviour tests run on: dot, DCNv2, and both without dense features.
DlrmConfig ModelShape(int i) {
  switch (i) {
    case 1: return testing::TinyDcnConfig();
    case 2: return testing::TinyNoDenseConfig();
    case 3: return testing::TinyNoDenseConfig(Interaction::kDcn);
    default: return testing::TinyConfig();
  }
}

std::unique_ptr<DenseCompute> Make(const DenseComputeOptions& o) {
  auto dc = CreateDenseCompute(o);
  REQUIRE(dc.ok());
  return std::move(dc).value();
}

// Records for rows 0..n-1: random values, optimizer state as a fresh row.
std::vector<float> Records(const DenseComputeOptions& o, int n, uint32_t seed) {
  const int dim = o.model.dim, rf = dim + StateFloats(o.embedding_optimizer.kind, dim);
  std::vector<float> vals = testing::RandomRows(n, dim, seed), rec(static_cast<size_t>(n) * rf);
  for (int r = 0; r < n; ++r) {
    std::memcpy(&rec[r * rf], &vals[r * dim], sizeof(float) * dim);
    InitRowState(o.embedding_optimizer, dim, &rec[r * rf + dim]);
  }
  return rec;
}

bool BitEqual(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

TEST_CASE("Slots read back exactly what was written") {
  auto o = TinyOptions();
  auto dc = Make(o);
  std::vector<float> rec = Records(o, 3, 1);
  std::vector<SlotIndex> slots{5, 63, 0};
  REQUIRE(dc->WriteSlots(slots, rec).ok());
  std::vector<float> back(rec.size());
  REQUIRE(dc->ReadSlots(slots, absl::MakeSpan(back)).ok());
  CHECK(BitEqual(rec, back));
}

TEST_CASE("A slot outside the capacity is an invalid argument") {
  auto o = TinyOptions();
  auto dc = Make(o);
  std::vector<float> rec = Records(o, 1, 1);
  std::vector<SlotIndex> slots{64};
  CHECK(dc->WriteSlots(slots, rec).code() == absl::StatusCode::kInvalidArgument);
  testing::OwnedBatch b = testing::RandomBatch(o.model, 4, 8, 3);
  b.slots[0] = 1000;
  EmbeddingGradients emb;
  CHECK(dc->ForwardBackward(b.view(), &emb).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("An unknown backend name is an invalid argument") {
  auto o = TinyOptions();
  o.backend = "tpu";
  CHECK(CreateDenseCompute(o).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("UpdateSlots applies the shared row optimizer to each slot") {
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kAdagrad, OptimizerKind::kAdam}) {
    auto o = TinyOptions(kind);
    auto dc = Make(o);
    const int dim = o.model.dim, rf = dc->row_floats();
    std::vector<float> rec = Records(o, 2, 4);
    std::vector<SlotIndex> slots{9, 2};
    REQUIRE(dc->WriteSlots(slots, rec).ok());
    std::vector<float> grads = testing::RandomRows(2, dim, 5);
    for (int step = 0; step < 3; ++step) {
      REQUIRE(dc->UpdateSlots(slots, grads, o.embedding_optimizer).ok());
      for (int r = 0; r < 2; ++r) {
        ApplyRowUpdate(o.embedding_optimizer, dim, &rec[r * rf], &rec[r * rf + dim],
                       &grads[r * dim]);
      }
    }
    std::vector<float> back(rec.size());
    REQUIRE(dc->ReadSlots(slots, absl::MakeSpan(back)).ok());
    CHECK(BitEqual(rec, back));
  }
}

TEST_CASE("Predicted probabilities reproduce the training loss") {
  auto o = TinyOptions();
  o.model = ModelShape(GENERATE(0, 1, 2, 3));
  auto dc = Make(o);
  std::vector<SlotIndex> slots(8);
  std::iota(slots.begin(), slots.end(), 0);
  REQUIRE(dc->WriteSlots(slots, Records(o, 8, 2)).ok());
  testing::OwnedBatch b = testing::RandomBatch(o.model, 5, 8, 6);
  EmbeddingGradients emb;
  auto loss = dc->ForwardBackward(b.view(), &emb);
  REQUIRE(loss.ok());
  std::vector<float> p(5);
  REQUIRE(dc->Predict(b.view(), absl::MakeSpan(p)).ok());
  double expected = 0.0;
  for (int i = 0; i < 5; ++i) expected -= b.labels[i] > 0 ? std::log(p[i]) : std::log(1 - p[i]);
  CHECK(*loss == Approx(expected).epsilon(1e-5));
}

TEST_CASE("Plain SGD on the dense weights subtracts lr times the gradient") {
  auto o = TinyOptions();
  o.dense_optimizer.kind = OptimizerKind::kSgd;
  o.dense_optimizer.lr = 0.5f;
  auto dc = Make(o);
  std::vector<float> w0 = *dc->GetDenseWeights();
  auto g = dc->dense_gradients();
  for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<float>(i % 7) - 3.0f;
  REQUIRE(dc->ApplyDenseGradients().ok());
  std::vector<float> w1 = *dc->GetDenseWeights();
  for (size_t i = 0; i < w0.size(); ++i) REQUIRE(w1[i] == w0[i] - 0.5f * g[i]);
}

TEST_CASE("Dense gradients copy in and out through the host, sizes checked") {
  auto o = TinyOptions();
  o.dense_optimizer.kind = OptimizerKind::kSgd;
  o.dense_optimizer.lr = 0.25f;
  auto dc = Make(o);
  const size_t n = dc->dense_gradients().size();
  std::vector<float> g(n), back(n);
  for (size_t i = 0; i < n; ++i) g[i] = static_cast<float>(i % 5) - 2.0f;
  REQUIRE(dc->WriteDenseGradients(g).ok());
  REQUIRE(dc->ReadDenseGradients(absl::MakeSpan(back)).ok());
  CHECK(back == g);
  std::vector<float> w0 = *dc->GetDenseWeights();
  REQUIRE(dc->ApplyDenseGradients().ok());
  std::vector<float> w1 = *dc->GetDenseWeights();
  for (size_t i = 0; i < n; ++i) REQUIRE(w1[i] == w0[i] - 0.25f * g[i]);
  std::vector<float> short_buf(n - 1);
  CHECK(dc->ReadDenseGradients(absl::MakeSpan(short_buf)).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(dc->WriteDenseGradients(short_buf).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("DenseGradientsFinite finds a NaN or an infinity anywhere in the dense gradients") {
  auto dc = Make(TinyOptions());
  const size_t n = dc->dense_gradients().size();
  std::vector<float> g(n, 0.5f);
  REQUIRE(dc->WriteDenseGradients(g).ok());
  CHECK(*dc->DenseGradientsFinite());
  for (size_t at : {size_t{0}, n / 2, n - 1}) {
    for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
      std::vector<float> b = g;
      b[at] = bad;
      REQUIRE(dc->WriteDenseGradients(b).ok());
      CHECK_FALSE(*dc->DenseGradientsFinite());
    }
  }
}

TEST_CASE("Training is bit-identical whatever slots hold the rows") {
  const int rows = 12, batch = 9;
  auto o = TinyOptions();
  o.model = ModelShape(GENERATE(0, 1, 2, 3));
  auto a = Make(o), b = Make(o);
  // Instance a keeps row r in slot r; instance b scatters the rows in reverse, far apart.
  std::vector<SlotIndex> ident(rows), scattered(rows);
  for (int r = 0; r < rows; ++r) {
    ident[r] = r;
    scattered[r] = static_cast<SlotIndex>(o.capacity - 1 - 5 * r);
  }
  std::vector<float> rec = Records(o, rows, 8);
  REQUIRE(a->WriteSlots(ident, rec).ok());
  REQUIRE(b->WriteSlots(scattered, rec).ok());
  for (int step = 0; step < 4; ++step) {
    testing::OwnedBatch ba = testing::RandomBatch(o.model, batch, rows, 100 + step);
    testing::OwnedBatch bb = ba;
    bb.PlaceRows(scattered);
    EmbeddingGradients ea, eb;
    auto la = a->ForwardBackward(ba.view(), &ea);
    auto lb = b->ForwardBackward(bb.view(), &eb);
    REQUIRE(la.ok());
    REQUIRE(lb.ok());
    REQUIRE(std::memcmp(&*la, &*lb, sizeof(double)) == 0);
    auto ga = a->dense_gradients(), gb = b->dense_gradients();
    REQUIRE(std::memcmp(ga.data(), gb.data(), sizeof(float) * ga.size()) == 0);
    // The same rows, in the same first-appearance order, with bit-identical gradients.
    REQUIRE(ea.slots.size() == eb.slots.size());
    for (size_t u = 0; u < ea.slots.size(); ++u) REQUIRE(scattered[ea.slots[u]] == eb.slots[u]);
    REQUIRE(BitEqual(ea.grads, eb.grads));
    REQUIRE(a->ApplyDenseGradients().ok());
    REQUIRE(b->ApplyDenseGradients().ok());
    REQUIRE(a->UpdateSlots(ea.slots, ea.grads, o.embedding_optimizer).ok());
    REQUIRE(b->UpdateSlots(eb.slots, eb.grads, o.embedding_optimizer).ok());
  }
  std::vector<float> ra(rec.size()), rb(rec.size());
  REQUIRE(a->ReadSlots(ident, absl::MakeSpan(ra)).ok());
  REQUIRE(b->ReadSlots(scattered, absl::MakeSpan(rb)).ok());
  CHECK(BitEqual(ra, rb));
  CHECK(BitEqual(*a->GetDenseWeights(), *b->GetDenseWeights()));
}

TEST_CASE("Embedding gradients list rows in order of first appearance") {
  auto o = TinyOptions();
  auto dc = Make(o);
  std::vector<SlotIndex> slots(8);
  std::iota(slots.begin(), slots.end(), 0);
  REQUIRE(dc->WriteSlots(slots, Records(o, 8, 2)).ok());
  testing::OwnedBatch b = testing::RandomBatch(o.model, 6, 8, 21);
  EmbeddingGradients emb;
  REQUIRE(dc->ForwardBackward(b.view(), &emb).ok());
  std::vector<SlotIndex> expected;
  std::vector<bool> seen(o.capacity, false);
  for (int s = 0; s < b.batch; ++s) {
    for (int f = 0; f < o.model.num_sparse; ++f) {
      const int64_t* off = &b.offsets[f * (b.batch + 1)];
      for (int64_t k = off[s]; k < off[s + 1]; ++k) {
        if (!seen[b.slots[k]]) expected.push_back(b.slots[k]);
        seen[b.slots[k]] = true;
      }
    }
  }
  CHECK(emb.slots == expected);
  CHECK(emb.grads.size() == expected.size() * o.model.dim);
}

TEST_CASE("Embedding gradients kept in the backend update slots exactly as UpdateSlots") {
  const int shape = GENERATE(0, 1, 2, 3);
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kAdagrad, OptimizerKind::kAdam}) {
    auto o = TinyOptions(kind);
    o.model = ModelShape(shape);
    auto dc = Make(o);
    std::vector<SlotIndex> slots(10);
    for (int r = 0; r < 10; ++r) slots[r] = static_cast<SlotIndex>(60 - 5 * r);
    REQUIRE(dc->WriteSlots(slots, Records(o, 10, 6)).ok());
    testing::OwnedBatch b = testing::RandomBatch(o.model, 7, 10, 33);
    b.PlaceRows(slots);
    CHECK(testing::CheckKeptEmbeddingGradients(*dc, b.view(), slots, o.embedding_optimizer) ==
          "");
  }
}

TEST_CASE("Applying kept embedding gradients needs a ForwardBackward that kept them") {
  auto o = TinyOptions();
  auto dc = Make(o);
  CHECK(dc->ApplyEmbeddingGradients(o.embedding_optimizer).code() ==
        absl::StatusCode::kFailedPrecondition);
  std::vector<SlotIndex> slots{0, 1, 2, 3};
  REQUIRE(dc->WriteSlots(slots, Records(o, 4, 1)).ok());
  testing::OwnedBatch b = testing::RandomBatch(o.model, 3, 4, 8);
  REQUIRE(dc->ForwardBackward(b.view(), nullptr).ok());
  OptimizerConfig wrong = o.embedding_optimizer;
  wrong.kind = OptimizerKind::kSgd;
  CHECK(dc->ApplyEmbeddingGradients(wrong).code() == absl::StatusCode::kInvalidArgument);
  // A failed ForwardBackward drops what the previous one kept.
  Minibatch bad = b.view();
  bad.batch_size = 2;
  CHECK_FALSE(dc->ForwardBackward(bad, nullptr).ok());
  CHECK(dc->ApplyEmbeddingGradients(o.embedding_optimizer).code() ==
        absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace augur::model
