// A job's life as a user sees it: a lost shard or oracle fails the job with a clear message
// instead of hanging, a cancel stops every worker on the same step with every cached row
// flushed to the shards, and progress, evaluation and checkpoints arrive as configured.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <regex>

#include "oracle_cacher/job_host.h"
#include "server/shard_core.h"
#include "server/shard_store.h"
#include "tests/support/test_paths.h"
#include "tests/worker/local_cluster.h"

using namespace augur;

namespace {

constexpr uint64_t kRows = 200;

std::string Prepare(const std::string& shared, const testing::ScratchDir& dir) {
  return testing::PrepareCriteoSample(shared, "wideresdnn_train.tsv", kRows, dir.path() + "/train");
}

job::JobSpec LongJob(const std::string& dataset, int workers, const std::string& eval = "") {
  auto s = job::ParseJobSpec("data: {train: " + dataset + "}\n" +
                             "model: {preset: custom, dim: 8, bottom: [16, 8], top: [16, 1]}\n"
                             "training: {batch_size: 16, iterations: 20000}\n"
                             "cache: {capacity: 2000, lookahead: 10, prefetch_distance: 2}\n");
  REQUIRE(s.ok());
  s->cluster.workers = workers;
  s->data.eval = eval;
  return *s;
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("A worker that loses a shard fails the job with a message naming the shard") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("fail-shard");
  auto cluster = testing::LocalCluster::Start(2, 4);
  REQUIRE(cluster.ok());
  auto id = (*cluster)->Submit(LongJob(Prepare(shared, dir), 1));
  REQUIRE(id.ok());
  (*cluster)->StartWorkers(1, "");
  REQUIRE((*cluster)->WaitForIteration(5, absl::Seconds(30)));
  (*cluster)->StopShard(1);
  auto results = (*cluster)->JoinWorkers();
  INFO(results[0].ToString());
  CHECK_FALSE(results[0].ok());
  auto status = (*cluster)->host()->Status(*id);
  REQUIRE(status.ok());
  CHECK(oracle::JobStateName(status->state) == std::string("FAILED"));
  INFO(status->reason);
  CHECK(Contains(status->reason, "shard 1"));
}

TEST_CASE("A worker that loses the oracle stops with an error instead of hanging") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("fail-oracle");
  auto cluster = testing::LocalCluster::Start(1, 4);
  REQUIRE(cluster.ok());
  REQUIRE((*cluster)->Submit(LongJob(Prepare(shared, dir), 1)).ok());
  (*cluster)->StartWorkers(1, "");
  REQUIRE((*cluster)->WaitForIteration(5, absl::Seconds(30)));
  (*cluster)->StopOracle();
  auto results = (*cluster)->JoinWorkers();
  REQUIRE_FALSE(results[0].ok());
  INFO(results[0].ToString());
  CHECK(Contains(std::string(results[0].message()), "oracle"));
}

TEST_CASE("Cancelling a job stops both workers on one step and flushes their cached rows") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("cancel");
  auto cluster = testing::LocalCluster::Start(2, 0);
  REQUIRE(cluster.ok());
  auto id = (*cluster)->Submit(LongJob(Prepare(shared, dir), 2));
  REQUIRE(id.ok());
  (*cluster)->StartWorkers(2, "");
  REQUIRE((*cluster)->WaitForIteration(8, absl::Seconds(30)));
  REQUIRE((*cluster)->host()->Cancel(*id, "test cancel").ok());
  auto results = (*cluster)->JoinWorkers();
  for (auto& r : results) CHECK(r.code() == absl::StatusCode::kCancelled);
  REQUIRE((*cluster)->host()->WaitIdle(absl::Seconds(10)));
  auto status = (*cluster)->host()->Status(*id);
  REQUIRE(status.ok());
  CHECK(oracle::JobStateName(status->state) == std::string("CANCELLED"));
  CHECK(status->reason == "test cancel");
  // Hot rows are updated at every step and stay cached: only a flush puts the last step's
  // version on the shards.
  auto rows = (*cluster)->ReadAllRows(26, kRows);
  REQUIRE(rows.ok());
  int64_t newest = 0;
  for (auto& b : *rows)
    for (auto v : b.versions) newest = std::max(newest, v);
  CHECK(newest >= 8);
  CHECK(newest == status->iteration);
}

TEST_CASE("A finished job reports hit ratio, fetched rows and a held-out AUC") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("report");
  std::string train = Prepare(shared, dir);
  std::string eval =
      testing::PrepareCriteoSample(shared, "wideresdnn_dev.tsv", kRows, dir.path() + "/eval");
  auto cluster = testing::LocalCluster::Start(2, 4);
  REQUIRE(cluster.ok());
  auto spec = LongJob(train, 2, eval);
  spec.training.iterations = 200;  // one pass over the 7200 rows
  spec.training.eval_every = 60;
  auto status = (*cluster)->RunJob(spec, "");
  REQUIRE(status.ok());
  CHECK(oracle::JobStateName(status->state) == std::string("SUCCEEDED"));
  CHECK(status->hit_ratio > 0.5);
  CHECK(status->rows_fetched > 0);
  CHECK(status->bytes_fetched == status->rows_fetched * 8 * 4);  // dim 8, sgd: no state
  REQUIRE(status->eval_auc.has_value());
  CHECK(*status->eval_auc > 0.6);
  CHECK(*status->eval_logloss < 0.6);
  // The oracle exports how well its plans keep fills ahead of use.
  const std::string text = (*cluster)->metrics().RenderPrometheus();
  static const std::regex kLate(R"(augur_oracle_planned_late_fill_ratio ([0-9.e+-]+))");
  std::smatch m;
  REQUIRE(std::regex_search(text, m, kLate));
  CHECK(std::stod(m[1]) >= 0.0);
  CHECK(std::stod(m[1]) < 0.5);
}

TEST_CASE("A job checkpoints every shard, the dense weights and its spec on schedule") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("checkpoint");
  auto cluster = testing::LocalCluster::Start(2, 0);
  REQUIRE(cluster.ok());
  auto spec = LongJob(Prepare(shared, dir), 2);
  spec.training.iterations = 14;
  spec.checkpoint.every = 5;
  spec.checkpoint.dir = dir.path() + "/ckpt";
  auto status = (*cluster)->RunJob(spec, "");
  REQUIRE(status.ok());
  REQUIRE(oracle::JobStateName(status->state) == std::string("SUCCEEDED"));
  namespace fs = std::filesystem;
  for (int at : {5, 10}) {
    std::string c = spec.checkpoint.dir + "/" + status->job_id + "/iter-" + std::to_string(at);
    INFO(c);
    // bottom 13-16-8, top (8 + 27*26/2 interaction pairs)-16-1, weights and biases, float32
    CHECK(fs::file_size(c + "/dense.f32") == (13 * 16 + 16 + 16 * 8 + 8 + 359 * 16 + 16 + 16 + 1) * 4);
    CHECK(fs::exists(c + "/job.yaml"));
    // Each shard's checkpoint opens as a store and holds the model as of that iteration: the
    // newest row version on the two shards is exactly `at`.
    int64_t newest = 0;
    for (int s = 0; s < 2; ++s) {
      shard::StoreOptions so;
      so.profile = shard::StoreProfile::kMemory;
      so.path = "/restored-" + std::to_string(at) + "-" + std::to_string(s);
      so.from_checkpoint = c + "/shard-" + std::to_string(s);
      auto store = shard::ShardStore::Open(so);
      REQUIRE(store.ok());
      shard::ShardCoreOptions co;
      co.shard_index = s;
      co.num_shards = 2;
      auto core = shard::ShardCore::Open(std::move(*store), co);
      REQUIRE(core.ok());
      for (uint32_t t = 0; t < 26; ++t) {
        auto scan = (*core)->ScanRows(t, 0, kRows, false);
        REQUIRE(scan.ok());
        for (auto v : scan->block.versions) newest = std::max(newest, v);
      }
    }
    CHECK(newest == at);
  }
}

TEST_CASE("A job that diverges fails at the first non-finite step and no shard row is poisoned") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("diverge");
  std::string train = Prepare(shared, dir);
  for (int workers : {1, 2}) {
    auto cluster = testing::LocalCluster::Start(2, 4);
    REQUIRE(cluster.ok());
    auto spec = LongJob(train, workers);
    spec.training.iterations = 100;
    spec.training.dense_optimizer.lr = 1e30f;  // the first update blows the logits up
    spec.training.embedding_optimizer.lr = 1e30f;
    auto status = (*cluster)->RunJob(spec, "");
    REQUIRE(status.ok());
    INFO(status->reason);
    CHECK(oracle::JobStateName(status->state) == std::string("FAILED"));
    CHECK(Contains(status->reason, "not finite"));
    CHECK(status->iteration < spec.training.iterations);
    auto rows = (*cluster)->ReadAllRows(26, kRows);
    REQUIRE(rows.ok());
    for (const auto& b : *rows)
      for (float v : b.values) REQUIRE(std::isfinite(v));
  }
}
