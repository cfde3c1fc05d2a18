// Jobs own their tables: jobs run one after another on one cluster (real gRPC between shards,
// oracle and workers) and each starts from the deterministic init of its own seed, whatever ran
// before — the second job ends with exactly the model it ends with on a fresh cluster, and the
// same job run twice gives the same model twice. An ended job keeps its tables until it is
// deleted; a running one cannot be deleted.
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>

#include "oracle_cacher/job_host.h"
#include "tests/support/test_paths.h"
#include "tests/worker/local_cluster.h"

using namespace augur;

namespace {

constexpr uint64_t kRows = 200;

struct Model {
  std::string job_id;
  std::vector<char> dense;
  std::vector<shard::RowBlock> rows;  // every row of every table, with optimizer state
};

job::JobSpec Spec(const std::string& dataset, uint64_t seed, int workers) {
  auto s = job::ParseJobSpec(R"(
name: isolation
model: {preset: custom, dim: 8, bottom: [16, 8], top: [16, 1]}
training:
  batch_size: 32
  iterations: 12
  dense_optimizer: {kind: sgd, lr: 0.05}
  embedding_optimizer: {kind: adagrad, lr: 0.05}
cache: {policy: oracle, capacity: 4000, lookahead: 6, prefetch_distance: 2}
data: {train: )" + dataset + "}\n");
  REQUIRE(s.ok());
  s->seed = seed;
  s->cluster.workers = workers;
  return *s;
}

Model Run(testing::LocalCluster& cluster, const job::JobSpec& spec, const std::string& out) {
  auto status = cluster.RunJob(spec, out);
  REQUIRE(status.ok());
  INFO(status->reason);
  REQUIRE(oracle::JobStateName(status->state) == std::string("SUCCEEDED"));
  Model m;
  m.job_id = status->job_id;
  std::ifstream in(out + "/" + m.job_id + "/dense.f32", std::ios::binary);
  m.dense.assign(std::istreambuf_iterator<char>(in), {});
  REQUIRE(!m.dense.empty());
  auto rows = cluster.ReadAllRows(26, kRows, m.job_id);
  REQUIRE(rows.ok());
  m.rows = std::move(*rows);
  return m;
}

// Values compared by memcmp: bit for bit, -0.0 and NaN included.
void CheckBitwise(const Model& a, const Model& b) {
  testing::CheckSameModel(a.dense, a.rows, b.dense, b.rows);
}

}  // namespace

TEST_CASE("A second job with another seed on the same cluster ends as it does on a fresh one") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("isolation-seeds");
  const std::string train = testing::PrepareCriteoSample(shared, "wideresdnn_train.tsv", kRows,
                                                         dir.path() + "/train");
  for (int workers : {1, 2}) {
    INFO(workers << " worker(s)");
    auto shared_cluster = testing::LocalCluster::Start(2);
    REQUIRE(shared_cluster.ok());
    Model first = Run(**shared_cluster, Spec(train, 1, workers), dir.path());
    Model second = Run(**shared_cluster, Spec(train, 2, workers), dir.path());
    CHECK(first.job_id != second.job_id);
    CHECK(testing::TouchedRows(second.rows) > 0);
    auto fresh_cluster = testing::LocalCluster::Start(2);
    REQUIRE(fresh_cluster.ok());
    Model fresh = Run(**fresh_cluster, Spec(train, 2, workers), dir.path() + "/fresh");
    CheckBitwise(second, fresh);
    // The first job's tables are still there, untouched by the second.
    auto again = (*shared_cluster)->ReadAllRows(26, kRows, first.job_id);
    REQUIRE(again.ok());
    for (size_t t = 0; t < again->size(); ++t) CHECK((*again)[t].values == first.rows[t].values);
  }
}

TEST_CASE("The same job submitted twice to one cluster gives the same model twice") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("isolation-twice");
  const std::string train = testing::PrepareCriteoSample(shared, "wideresdnn_train.tsv", kRows,
                                                         dir.path() + "/train");
  auto cluster = testing::LocalCluster::Start(2);
  REQUIRE(cluster.ok());
  Model a = Run(**cluster, Spec(train, 1, 1), dir.path());
  Model b = Run(**cluster, Spec(train, 1, 1), dir.path());
  CHECK(a.job_id != b.job_id);
  CheckBitwise(a, b);
}

TEST_CASE("Deleting a running job is refused, and deleting an ended one drops its tables") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("isolation-delete");
  const std::string train = testing::PrepareCriteoSample(shared, "wideresdnn_train.tsv", kRows,
                                                         dir.path() + "/train");
  auto cluster = testing::LocalCluster::Start(2);
  REQUIRE(cluster.ok());
  Model kept = Run(**cluster, Spec(train, 1, 1), dir.path());
  auto spec = Spec(train, 2, 1);
  spec.training.iterations = 100000;
  auto id = (*cluster)->Submit(spec);
  REQUIRE(id.ok());
  oracle::JobHost* host = (*cluster)->host();
  // Queued (no worker yet) or running: refused either way, and nothing is dropped.
  auto queued = host->Delete(*id);
  CHECK(queued.code() == absl::StatusCode::kFailedPrecondition);
  INFO(queued.message());
  CHECK(std::string(queued.message()).find("cancel it first") != std::string::npos);
  (*cluster)->StartWorkers(1, "");
  REQUIRE((*cluster)->WaitForIteration(3, absl::Seconds(30)));
  CHECK(host->Delete(*id).code() == absl::StatusCode::kFailedPrecondition);
  CHECK((*cluster)->ReadAllRows(26, kRows, *id).ok());
  REQUIRE(host->Cancel(*id, "test").ok());
  (*cluster)->JoinWorkers();
  REQUIRE(host->WaitIdle(absl::Seconds(10)));
  // Ended: its tables stay until it is deleted.
  REQUIRE((*cluster)->ReadAllRows(26, kRows, *id).ok());
  REQUIRE(host->Delete(*id).ok());
  CHECK((*cluster)->ReadAllRows(26, kRows, *id).status().code() == absl::StatusCode::kNotFound);
  CHECK(host->Status(*id).status().code() == absl::StatusCode::kNotFound);
  CHECK(host->Delete(*id).code() == absl::StatusCode::kNotFound);
  // The other ended job is untouched.
  auto rows = (*cluster)->ReadAllRows(26, kRows, kept.job_id);
  REQUIRE(rows.ok());
  for (size_t t = 0; t < rows->size(); ++t) CHECK((*rows)[t].values == kept.rows[t].values);
}

TEST_CASE("A delete that cannot reach a shard keeps the job, so it can be retried") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("isolation-delete-down");
  const std::string train = testing::PrepareCriteoSample(shared, "wideresdnn_train.tsv", kRows,
                                                         dir.path() + "/train");
  auto cluster = testing::LocalCluster::Start(2);
  REQUIRE(cluster.ok());
  Model m = Run(**cluster, Spec(train, 1, 1), dir.path());
  (*cluster)->StopShard(1);
  oracle::JobHost* host = (*cluster)->host();
  auto st = host->Delete(m.job_id);
  INFO(st.ToString());
  CHECK(st.code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(st.message()).find("shard 1") != std::string::npos);
  auto status = host->Status(m.job_id);
  REQUIRE(status.ok());
  CHECK(oracle::JobStateName(status->state) == std::string("SUCCEEDED"));
  CHECK(host->Events(m.job_id).back().find("delete failed") != std::string::npos);
}
