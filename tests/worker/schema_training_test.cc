// Datasets beyond Criteo train end to end on a real cluster (shards, oracle, workers): the Avazu
// sample through the built-in schema, with no dense feature at all, must beat the label-entropy
// baseline on a held-out split. The baseline is computed here from the held-out labels.
#include <catch2/catch.hpp>
#include <cmath>

#include "common/data/dataset.h"
#include "common/data/prep.h"
#include "tests/support/test_paths.h"
#include "tests/worker/local_cluster.h"

using namespace augur;

TEST_CASE("Avazu (no dense features) trains through its schema and beats the label-entropy baseline") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("avazu-train");
  auto prep = [&](const std::string& file, const std::string& out) {
    data::PrepOptions o;
    o.inputs = {shared + "/avazu/" + file};
    o.out_dir = dir.path() + "/" + out;
    o.schema = "avazu";
    o.writer.transform = data::SparseTransform::kMod;
    o.writer.max_rows = 20000;
    auto r = data::PrepareDataset(o);
    REQUIRE(r.ok());
    return o.out_dir;
  };
  const std::string train = prep("wideresdnn_train.csv", "train");
  const std::string eval = prep("wideresdnn_dev.csv", "dev");

  auto spec = job::ParseJobSpec(R"(
name: avazu
seed: 1
model: {preset: custom, dim: 8, bottom: [8], top: [64, 1]}
training:
  batch_size: 64
  iterations: 60
  dense_optimizer: {kind: adagrad, lr: 0.05}
  embedding_optimizer: {kind: adagrad, lr: 0.05}
cache: {policy: oracle, capacity: 100000, lookahead: 32, prefetch_distance: 4}
data: {train: )" + train + ", eval: " + eval + "}\n");
  REQUIRE(spec.ok());
  spec->cluster.workers = 2;
  auto cluster = testing::LocalCluster::Start(2, 0, absl::Seconds(60));
  REQUIRE(cluster.ok());
  testing::ScratchDir out("avazu-out");
  std::vector<absl::Status> results;
  auto status = (*cluster)->RunJob(*spec, out.path(), &results);
  REQUIRE(status.ok());
  for (auto& r : results) {
    INFO(r.ToString());
    CHECK(r.ok());
  }
  INFO(status->reason);
  REQUIRE(oracle::JobStateName(status->state) == std::string("SUCCEEDED"));
  REQUIRE(status->eval_logloss.has_value());
  // The held-out labels' entropy: the log-loss of always predicting their mean click rate.
  auto ds = data::Dataset::Open(eval);
  REQUIRE(ds.ok());
  double p = 0;
  for (uint8_t y : (*ds)->labels()) p += y;
  p /= static_cast<double>((*ds)->num_rows());
  const double entropy = -(p * std::log(p) + (1 - p) * std::log(1 - p));
  INFO("eval log-loss " << *status->eval_logloss << " auc " << status->eval_auc.value_or(0)
                        << " label entropy " << entropy << " click rate " << p);
  CHECK(*status->eval_logloss < entropy);
  CHECK(status->eval_auc.value_or(0) > 0.6);
}
