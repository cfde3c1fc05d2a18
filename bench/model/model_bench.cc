// model_bench: dense training throughput of one DenseCompute backend with every embedding row
// already resident in the slot array (the steady state the oracle's prefetching aims for).
// Slot ids are Zipf-skewed per feature, as real categorical data is; --multi-hot gives each
// feature a fixed bag size (MLPerf DLRMv2's 26 sizes with `mlperf`), one id per bag otherwise.
// Each step is a full
// training step: ForwardBackward, (local) dense all-reduce, dense optimizer, embedding row
// updates. The row updates take the one-worker path by default (gradients kept in the backend,
// ApplyEmbeddingGradients: on CUDA they never leave the GPU); --host-embedding-grads takes the
// multi-worker path instead (gradients to the host and back through UpdateSlots).
// Times --repeats windows of --iters steps and prints one JSON line with the median.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "nlohmann/json.hpp"
#include "worker/model/collective.h"
#include "worker/model/dense_compute.h"

namespace augur::model {
namespace {

// Ids per bag of each of the 26 sparse features in MLPerf DLRMv2's multi-hot Criteo 1TB.
const std::vector<int> kMlperfMultiHot = {3, 2, 1, 2, 6,  1,   1,  1,  1, 7, 3, 8, 1,
                                          6, 9, 5, 1, 1, 12, 100, 27, 10, 3, 1, 1, 1};

struct BenchArgs {
  std::string backend = "cpu", config = "kaggle";
  std::string multi_hot;  // "", "mlperf" or a comma-separated list of bag sizes
  std::vector<int> bag_sizes;  // per sparse feature, from multi_hot (all 1 when empty)
  int batch = 2048, iters = 20, warmup = 3, threads = 0, rows_per_feature = 20000;
  int distinct_batches = 4, repeats = 3;
  double zipf = 1.05;
  bool tf32 = false, json = false, host_embedding_grads = false;
};

struct Batch {
  std::vector<float> dense, labels;
  std::vector<int64_t> offsets;
  std::vector<SlotIndex> slots;
};

// Zipf(s) over [0, n) by inverse CDF on a precomputed table.
class Zipf {
 public:
  Zipf(int n, double s) : cdf_(n) {
    double sum = 0;
    for (int i = 0; i < n; ++i) cdf_[i] = (sum += 1.0 / std::pow(i + 1.0, s));
    for (auto& c : cdf_) c /= sum;
  }
  int operator()(std::mt19937_64& g) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(g);
    return static_cast<int>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

Batch MakeBatch(const DlrmConfig& c, const BenchArgs& a, const Zipf& zipf, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Batch b;
  b.dense.resize(static_cast<size_t>(a.batch) * c.num_dense);
  for (auto& x : b.dense) x = std::abs(normal(g));
  for (int i = 0; i < a.batch; ++i) b.labels.push_back((g() % 4) == 0 ? 1.0f : 0.0f);
  for (int f = 0; f < c.num_sparse; ++f) {
    for (int i = 0; i < a.batch; ++i) {
      b.offsets.push_back(static_cast<int64_t>(b.slots.size()));
      for (int k = 0; k < a.bag_sizes[f]; ++k) {
        // Scatter hot rows across the feature's slot range, as an allocator would.
        const uint64_t r = static_cast<uint64_t>(zipf(g)) * 2654435761u % a.rows_per_feature;
        b.slots.push_back(
            static_cast<SlotIndex>(f * static_cast<int64_t>(a.rows_per_feature) + r));
      }
    }
    b.offsets.push_back(static_cast<int64_t>(b.slots.size()));
  }
  return b;
}

// Fills a->bag_sizes from a->multi_hot for `num_sparse` features; false (with a message) when
// the list is malformed.
bool ParseMultiHot(int num_sparse, BenchArgs* a) {
  a->bag_sizes.assign(num_sparse, 1);
  if (a->multi_hot.empty()) return true;
  std::vector<int> sizes;
  if (a->multi_hot == "mlperf") {
    sizes = kMlperfMultiHot;
  } else {
    std::stringstream ss(a->multi_hot);
    for (std::string item; std::getline(ss, item, ',');) {
      try {
        size_t used = 0;
        sizes.push_back(std::stoi(item, &used));
        if (used != item.size()) throw std::invalid_argument(item);
      } catch (const std::exception&) {
        fprintf(stderr, "--multi-hot: '%s' is not an integer\n", item.c_str());
        return false;
      }
    }
  }
  if (static_cast<int>(sizes.size()) != num_sparse) {
    fprintf(stderr, "--multi-hot: %zu bag sizes for %d sparse features\n", sizes.size(),
            num_sparse);
    return false;
  }
  for (int s : sizes) {
    if (s < 1 || s > 10000) {
      fprintf(stderr, "--multi-hot: bag sizes must be in 1..10000, got %d\n", s);
      return false;
    }
  }
  a->bag_sizes = sizes;
  return true;
}

int Run(BenchArgs a) {
  auto preset = DlrmPreset(a.config);
  if (!preset.ok()) {
    fprintf(stderr, "%s\n", preset.status().ToString().c_str());
    return 2;
  }
  if (!ParseMultiHot(preset->num_sparse, &a)) return 2;
  int64_t ids_per_sample = 0;
  for (int s : a.bag_sizes) ids_per_sample += s;
  DenseComputeOptions o;
  o.backend = a.backend;
  o.model = *preset;
  o.capacity = static_cast<int64_t>(a.rows_per_feature) * o.model.num_sparse;
  o.embedding_optimizer.kind = OptimizerKind::kSgd;
  o.dense_optimizer.kind = OptimizerKind::kSgd;
  o.threads = a.threads > 0 ? a.threads : static_cast<int>(std::thread::hardware_concurrency());
  o.max_batch_size = a.batch;
  o.tf32 = a.tf32;
  auto created = CreateDenseCompute(o);
  if (!created.ok()) {
    fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return 1;
  }
  DenseCompute& dc = **created;
  // Fill the slot array in chunks with small random rows (SGD: no optimizer state).
  {
    std::mt19937_64 g(1);
    std::uniform_real_distribution<float> u(-0.05f, 0.05f);
    const int64_t chunk = 65536;
    std::vector<SlotIndex> ids;
    std::vector<float> rec;
    for (int64_t s = 0; s < o.capacity; s += chunk) {
      const int64_t n = std::min(chunk, o.capacity - s);
      ids.resize(n);
      rec.resize(n * dc.row_floats());
      for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<SlotIndex>(s + i);
      for (auto& x : rec) x = u(g);
      if (!dc.WriteSlots(ids, rec).ok()) return 1;
    }
  }
  Zipf zipf(a.rows_per_feature, a.zipf);
  std::vector<Batch> batches;
  for (int i = 0; i < a.distinct_batches; ++i) batches.push_back(MakeBatch(o.model, a, zipf, i));
  auto coll = NewLocalCollective();
  EmbeddingGradients emb;
  auto step = [&](const Batch& b) -> bool {
    Minibatch mb{a.batch, a.batch, b.dense, b.labels, b.offsets, b.slots};
    auto loss = dc.ForwardBackward(mb, a.host_embedding_grads ? &emb : nullptr);
    if (!loss.ok()) {
      fprintf(stderr, "%s\n", loss.status().ToString().c_str());
      return false;
    }
    auto g = dc.dense_gradients();
    absl::Status st = coll->AllReduceSum(g.data(), static_cast<int64_t>(g.size()));
    if (st.ok()) st = dc.ApplyDenseGradients();
    if (st.ok()) {
      st = a.host_embedding_grads ? dc.UpdateSlots(emb.slots, emb.grads, o.embedding_optimizer)
                                  : dc.ApplyEmbeddingGradients(o.embedding_optimizer);
    }
    if (!st.ok()) fprintf(stderr, "%s\n", st.ToString().c_str());
    return st.ok();
  };
  for (int i = 0; i < a.warmup; ++i) {
    if (!step(batches[i % batches.size()])) return 1;
  }
  // Every DenseCompute call returns after its device work is done, so wall time is step time.
  std::vector<double> rates;
  for (int r = 0; r < std::max(a.repeats, 1); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < a.iters; ++i) {
      if (!step(batches[i % batches.size()])) return 1;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(a.iters) * a.batch / secs);
  }
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  const double sps = sorted[sorted.size() / 2];
  // A training step is forward + two backward GEMMs per layer: ~3x the forward MACs, 2 flops each.
  const double flops = 6.0 * static_cast<double>(ForwardMacsPerSample(o.model));
  nlohmann::json j = {{"backend", a.backend}, {"config", a.config},   {"batch", a.batch},
                      {"tf32", a.tf32},       {"threads", o.threads}, {"iters", a.iters},
                      {"repeats", rates.size()},
                      {"embedding_path", a.host_embedding_grads ? "host" : "kept"},
                      {"interaction", InteractionName(o.model.interaction)},
                      {"multi_hot", a.multi_hot.empty() ? "none" : a.multi_hot},
                      {"ids_per_sample", ids_per_sample},
                      {"samples_per_s", sps}, {"samples_per_s_each", rates},
                      {"flops_per_sample", flops}, {"gflops", sps * flops / 1e9}};
  if (a.json) {
    printf("%s\n", j.dump().c_str());
  } else {
    printf("%s %s batch %d: %.0f samples/s (%.1f GFLOP/s)\n", a.backend.c_str(),
           a.config.c_str(), a.batch, sps, sps * flops / 1e9);
  }
  return 0;
}

}  // namespace
}  // namespace augur::model

int main(int argc, char** argv) {
  augur::model::BenchArgs a;
  CLI::App app{"Dense DLRM training throughput with embeddings resident in the slot array"};
  app.add_option("--backend", a.backend, "cpu or cuda");
  app.add_option("--config", a.config, "kaggle, mlperf or dlrmv2");
  app.add_option("--multi-hot", a.multi_hot,
                 "ids per bag of each sparse feature: 'mlperf' (MLPerf DLRMv2's 26 sizes) or a "
                 "comma-separated list; default one id per bag");
  app.add_option("--batch", a.batch, "samples per step");
  app.add_option("--iters", a.iters, "timed steps per repeat");
  app.add_option("--repeats", a.repeats, "timed windows; the median is reported");
  app.add_flag("--host-embedding-grads", a.host_embedding_grads,
               "row gradients to the host and back (the multi-worker path)");
  app.add_option("--warmup", a.warmup, "untimed steps first");
  app.add_option("--threads", a.threads, "CPU threads (0 = all cores)");
  app.add_option("--rows-per-feature", a.rows_per_feature, "slots per sparse feature");
  app.add_option("--zipf", a.zipf, "Zipf exponent of slot ids");
  app.add_option("--distinct-batches", a.distinct_batches, "pre-generated batches, cycled");
  app.add_flag("--tf32", a.tf32, "TF32 GEMMs (cuda)");
  app.add_flag("--json", a.json, "one JSON line per run");
  CLI11_PARSE(app, argc, argv);
  return augur::model::Run(a);
}
