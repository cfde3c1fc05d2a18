// A short real training run: the CPU backend learns the Criteo sample well below the
// label-entropy baseline. The TSV reader is deliberately tiny and local to this test; the
// project's dataset format lives elsewhere.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/rng.h"
#include "tests/support/test_paths.h"
#include "worker/model/dense_compute.h"

namespace augur::model {
namespace {

constexpr int kDense = 13, kSparse = 26;
constexpr uint32_t kSlotsPerFeature = 128;  // hash % 128: everything fits a small slot array

struct Sample {
  float label;
  float dense[kDense];
  SlotIndex slot[kSparse];
};

// Raw Criteo TSV: label, 13 integers, 26 8-hex-digit categoricals; empty = missing.
std::vector<Sample> ReadCriteo(const std::string& path) {
  std::vector<Sample> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    cols.resize(1 + kDense + kSparse);
    Sample s;
    s.label = cols[0] == "1" ? 1.0f : 0.0f;
    for (int i = 0; i < kDense; ++i) {
      const double x = cols[1 + i].empty() ? 0.0 : std::atof(cols[1 + i].c_str());
      s.dense[i] = static_cast<float>(std::log1p(std::max(x, 0.0)));
    }
    for (int f = 0; f < kSparse; ++f) {
      const std::string& h = cols[1 + kDense + f];
      const uint32_t v = h.empty() ? 0u : static_cast<uint32_t>(std::stoul(h, nullptr, 16));
      s.slot[f] = f * kSlotsPerFeature + v % kSlotsPerFeature;
    }
    out.push_back(s);
  }
  return out;
}

// Single-hot bags for samples [begin, begin + n).
struct Batch {
  std::vector<float> dense, labels;
  std::vector<int64_t> offsets;
  std::vector<SlotIndex> slots;
  Minibatch view(int n, int64_t global) const {
    return Minibatch{n, global, dense, labels, offsets, slots};
  }
};
// Without dense features (num_dense 0) the integer columns are dropped.
Batch MakeBatch(const std::vector<Sample>& data, size_t begin, int n, bool with_dense = true) {
  Batch b;
  for (int i = 0; i < n; ++i) {
    const Sample& s = data[begin + i];
    b.labels.push_back(s.label);
    if (with_dense) b.dense.insert(b.dense.end(), s.dense, s.dense + kDense);
  }
  for (int f = 0; f < kSparse; ++f) {
    for (int i = 0; i < n; ++i) {
      b.offsets.push_back(static_cast<int64_t>(b.slots.size()));
      b.slots.push_back(data[begin + i].slot[f]);
    }
    b.offsets.push_back(static_cast<int64_t>(b.slots.size()));
  }
  return b;
}

// One pass over the Criteo sample with the model dim 8, bottom 32-8, top 32-1 as `shape` changes
// it; its training loss over the second half and its held-out loss must be below the
// label-entropy baselines by the margins given.
template <typename Shape>
void TrainBeatsBaseline(Shape shape, double train_margin = 0.04, double dev_margin = 0.02) {
  AUGUR_SHARED_DATA_OR_SKIP(data_dir);
  const std::vector<Sample> data = ReadCriteo(data_dir + "/criteo-kaggle/wideresdnn_train.tsv");
  REQUIRE(data.size() > 5000);
  double pos = 0;
  for (const Sample& s : data) pos += s.label;
  const double p = pos / static_cast<double>(data.size());
  const double baseline = -(p * std::log(p) + (1 - p) * std::log(1 - p));

  DenseComputeOptions o;
  o.model.dim = 8;
  o.model.bottom = {32, 8};
  o.model.top = {32, 1};
  shape(&o.model);
  const bool with_dense = o.model.num_dense > 0;
  o.capacity = kSparse * kSlotsPerFeature;
  o.embedding_optimizer.kind = OptimizerKind::kAdagrad;
  o.embedding_optimizer.lr = 0.05f;
  o.dense_optimizer.kind = OptimizerKind::kAdam;
  o.dense_optimizer.lr = 3e-3f;
  o.seed = 42;
  auto created = CreateDenseCompute(o);
  REQUIRE(created.ok());
  DenseCompute& dc = **created;

  // Rows start as the shard would make them: counter-based uniform init, fresh state.
  const int rf = dc.row_floats();
  std::vector<float> rec(static_cast<size_t>(o.capacity) * rf, 0.0f);
  std::vector<SlotIndex> all(o.capacity);
  for (int64_t s = 0; s < o.capacity; ++s) {
    all[s] = static_cast<SlotIndex>(s);
    InitRow(o.seed, static_cast<uint32_t>(s / kSlotsPerFeature), s % kSlotsPerFeature, o.model.dim,
            -0.05f, 0.05f, &rec[s * rf]);
    InitRowState(o.embedding_optimizer, o.model.dim, &rec[s * rf + o.model.dim]);
  }
  REQUIRE(dc.WriteSlots(all, rec).ok());

  // One pass; the loss of the second half of the pass measures what was learnt in the first.
  const int batch = 128;
  const size_t steps = data.size() / batch;
  double late_sum = 0;
  size_t late_samples = 0;
  EmbeddingGradients emb;
  for (size_t i = 0; i < steps; ++i) {
    Batch b = MakeBatch(data, i * batch, batch, with_dense);
    auto loss = dc.ForwardBackward(b.view(batch, batch), &emb);
    REQUIRE(loss.ok());
    if (i >= steps / 2) {
      late_sum += *loss;
      late_samples += batch;
    }
    REQUIRE(dc.ApplyDenseGradients().ok());
    REQUIRE(dc.UpdateSlots(emb.slots, emb.grads, o.embedding_optimizer).ok());
  }
  const double late_loss = late_sum / static_cast<double>(late_samples);
  // Held-out samples: the model must generalise, not only memorise the training rows.
  const std::vector<Sample> dev = ReadCriteo(data_dir + "/criteo-kaggle/wideresdnn_dev.tsv");
  REQUIRE(dev.size() > 300);
  Batch db = MakeBatch(dev, 0, static_cast<int>(dev.size()), with_dense);
  std::vector<float> prob(dev.size());
  REQUIRE(dc.Predict(db.view(static_cast<int>(dev.size()), 0), absl::MakeSpan(prob)).ok());
  double dev_loss = 0, dev_pos = 0;
  for (size_t i = 0; i < dev.size(); ++i) {
    const double q = std::clamp(static_cast<double>(prob[i]), 1e-7, 1 - 1e-7);
    dev_pos += dev[i].label;
    dev_loss -= dev[i].label > 0 ? std::log(q) : std::log(1 - q);
  }
  dev_loss /= static_cast<double>(dev.size());
  const double q = dev_pos / static_cast<double>(dev.size());
  const double dev_baseline = -(q * std::log(q) + (1 - q) * std::log(1 - q));
  INFO("baseline " << baseline << " nats; training loss over the second half " << late_loss
                   << "; held-out loss " << dev_loss << " vs its baseline " << dev_baseline);
  CHECK(baseline == Approx(0.52).margin(0.02));
  CHECK(late_loss < baseline - train_margin);
  CHECK(dev_loss < dev_baseline - dev_margin);
}

TEST_CASE("Training on the Criteo sample beats the label-entropy baseline") {
  TrainBeatsBaseline([](DlrmConfig*) {});
}

TEST_CASE("A DCNv2 model trained on the Criteo sample beats the label-entropy baseline") {
  TrainBeatsBaseline([](DlrmConfig* c) {
    c->interaction = Interaction::kDcn;
    c->cross_layers = 2;
    c->cross_rank = 16;
  });
}

// The 26 categoricals hashed into 128 rows each carry less than the whole sample: measured
// 0.4956 training / 0.521-0.524 held-out (baselines 0.5207 / 0.5361) for dot and dcn, so the
// margins are smaller, yet still well above what an untrained or dense-blind-and-broken
// model gets (the baseline or worse).
TEST_CASE("Models without dense features learn the Criteo sample from its categoricals alone") {
  TrainBeatsBaseline([](DlrmConfig* c) { c->num_dense = 0; }, 0.015, 0.008);
  TrainBeatsBaseline(
      [](DlrmConfig* c) {
        c->num_dense = 0;
        c->interaction = Interaction::kDcn;
        c->cross_layers = 2;
        c->cross_rank = 16;
      },
      0.015, 0.008);
}

}  // namespace
}  // namespace augur::model
