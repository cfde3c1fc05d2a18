// Resume: a job interrupted after a checkpoint and resumed from it (shards rolled back to the
// checkpoint's cut, dense weights and dense optimizer state read back, planning restarted from
// an empty cache at that iteration) ends with exactly the model an uninterrupted run ends with —
// dense weights, every embedding row's values, optimizer state and version, bit for bit — for
// one and two workers (three: within 1e-5), under the oracle's plans and the parameter-server
// path, with dense optimizers that keep state (adagrad, adam). Real gRPC between shards,
// oracle and workers.
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>

#include <atomic>

#include "oracle_cacher/job_host.h"
#include "tests/support/test_paths.h"
#include "tests/worker/local_cluster.h"
#include "worker/model/collective_factory.h"

using namespace augur;

namespace {

constexpr uint64_t kRows = 200;
constexpr int64_t kIterations = 24;
constexpr int64_t kEvery = 6;

struct Model {
  std::vector<char> dense;
  std::vector<shard::RowBlock> rows;
  oracle::JobStatus status;
};

struct Case {
  int workers;
  std::string policy;
  std::string dense_optimizer;
};

job::JobSpec Spec(const std::string& dataset, const Case& c, const std::string& ckpt_dir) {
  auto s = job::ParseJobSpec(R"(
name: resume
seed: 5
model: {preset: custom, dim: 8, bottom: [16, 8], top: [16, 1]}
training:
  batch_size: 32
  iterations: )" + std::to_string(kIterations) + R"(
  embedding_optimizer: {kind: adagrad, lr: 0.05}
cache: {capacity: 4000, lookahead: 6, prefetch_distance: 2}
data: {train: )" + dataset + "}\n");
  REQUIRE(s.ok());
  s->cluster.workers = c.workers;
  s->cache.policy = c.policy;
  auto kind = ParseOptimizerKind(c.dense_optimizer);
  REQUIRE(kind.ok());
  s->training.dense_optimizer.kind = *kind;
  s->training.dense_optimizer.lr = c.dense_optimizer == "adam" ? 0.01f : 0.05f;
  s->checkpoint.every = kEvery;
  s->checkpoint.dir = ckpt_dir;
  return *s;
}

Model Read(testing::LocalCluster& cluster, const std::string& job, const std::string& out) {
  Model m;
  auto status = cluster.host()->Status(job);
  REQUIRE(status.ok());
  m.status = *status;
  INFO(status->reason);
  REQUIRE(oracle::JobStateName(status->state) == std::string("SUCCEEDED"));
  std::ifstream in(out + "/" + job + "/dense.f32", std::ios::binary);
  m.dense.assign(std::istreambuf_iterator<char>(in), {});
  REQUIRE(!m.dense.empty());
  auto rows = cluster.ReadAllRows(26, kRows, job);
  REQUIRE(rows.ok());
  m.rows = std::move(*rows);
  return m;
}

void CheckWorkersOk(const std::vector<absl::Status>& results, bool cancelled_ok) {
  for (const auto& r : results) {
    INFO(r.ToString());
    CHECK((r.ok() || (cancelled_ok && r.code() == absl::StatusCode::kCancelled)));
  }
}

// A real collective whose rank 0 fails its `fail_at`-th all-reduce once per process, the way
// a broken link or a dead peer shows up in the trainer.
class FailingCollective final : public model::Collective {
 public:
  FailingCollective(std::unique_ptr<model::Collective> inner, std::atomic<int>* calls,
                    int fail_at)
      : inner_(std::move(inner)), calls_(calls), fail_at_(fail_at) {}
  model::BufferKind buffer_kind() const override { return inner_->buffer_kind(); }
  absl::Status AllReduceSum(float* data, int64_t n) override {
    if (rank() == 0 && calls_->fetch_add(1) + 1 == fail_at_)
      return absl::UnavailableError("injected: the all-reduce lost its peer");
    return inner_->AllReduceSum(data, n);
  }
  absl::Status AllReduceHostSum(float* data, int64_t n) override {
    return inner_->buffer_kind() == model::BufferKind::kHost ? AllReduceSum(data, n)
                                                            : inner_->AllReduceHostSum(data, n);
  }
  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }

 private:
  std::unique_ptr<model::Collective> inner_;
  std::atomic<int>* calls_;
  int fail_at_;
};

}  // namespace

TEST_CASE("A job that fails past a checkpoint recovers by itself and ends bit-identical") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("recover");
  const std::string train = testing::PrepareCriteoSample(shared, "wideresdnn_train.tsv", kRows,
                                                         dir.path() + "/train");
  const Case c{2, "oracle", "adam"};
  auto straight = testing::LocalCluster::Start(2);
  REQUIRE(straight.ok());
  auto sid = (*straight)->RunJob(Spec(train, c, dir.path() + "/ck-a"), dir.path() + "/out-a");
  REQUIRE(sid.ok());
  Model a = Read(**straight, sid->job_id, dir.path() + "/out-a");

  auto cluster = testing::LocalCluster::Start(2);
  REQUIRE(cluster.ok());
  std::atomic<int> calls{0};
  // Worker 0's 16th all-reduce: well past the checkpoint at iteration 6, before the end.
  (*cluster)->SetWorkerFactories(nullptr, [&calls](const model::WorkerCollectiveOptions& o)
                                              -> absl::StatusOr<std::unique_ptr<model::Collective>> {
    auto inner = model::NewWorkerCollective(o);
    if (!inner.ok()) return inner.status();
    return std::unique_ptr<model::Collective>(
        std::make_unique<FailingCollective>(std::move(*inner), &calls, 16));
  });
  auto id = (*cluster)->Submit(Spec(train, c, dir.path() + "/ck-b"));
  REQUIRE(id.ok());
  (*cluster)->StartWorkers(2, dir.path() + "/out-b");
  auto first = (*cluster)->JoinWorkers();
  CHECK_FALSE(first[0].ok());  // the injected failure
  // The oracle queued the job again by itself; the workers (restarted, as a supervisor
  // would) join the recovery and finish it.
  absl::StatusOr<oracle::JobStatus> queued;
  for (int i = 0; i < 200; ++i) {  // the host notices the failure within ~0.5 s
    queued = (*cluster)->host()->Status(*id);
    if (queued.ok() && queued->recoveries > 0) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  REQUIRE(queued.ok());
  INFO("after the failure: " << oracle::JobStateName(queued->state) << " " << queued->reason);
  CHECK(queued->recoveries == 1);
  CHECK(oracle::JobStateName(queued->state) == std::string("PENDING"));
  CHECK(queued->last_recovery.find("automatic recovery 1 of 3") != std::string::npos);
  (*cluster)->StartWorkers(2, dir.path() + "/out-b");
  CheckWorkersOk((*cluster)->JoinWorkers(), /*cancelled_ok=*/false);
  REQUIRE((*cluster)->host()->WaitIdle(absl::Seconds(30)));
  Model b = Read(**cluster, *id, dir.path() + "/out-b");
  CHECK(b.status.recoveries == 1);
  bool said = false;
  for (const auto& e : (*cluster)->host()->Events(*id))
    said = said || (e.find("automatic recovery 1 of 3") != std::string::npos &&
                    e.find("injected") != std::string::npos &&
                    e.find("resumes from its checkpoint at iteration") != std::string::npos);
  CHECK(said);
  testing::CheckSameModel(a.dense, a.rows, b.dense, b.rows);
}

TEST_CASE("A job resumed from a checkpoint ends bit-identical to an uninterrupted run") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("resume");
  const std::string train = testing::PrepareCriteoSample(shared, "wideresdnn_train.tsv", kRows,
                                                         dir.path() + "/train");
  for (const Case& c : {Case{1, "oracle", "adam"}, Case{2, "oracle", "adagrad"},
                        Case{2, "none", "adam"}, Case{1, "prefetch1", "sgd"},
                        Case{3, "oracle", "adam"}}) {
    const std::string tag = std::to_string(c.workers) + "-" + c.policy + "-" + c.dense_optimizer;
    INFO(c.workers << " worker(s), policy " << c.policy << ", dense " << c.dense_optimizer);
    const std::string out = dir.path() + "/out-" + tag;

    auto straight = testing::LocalCluster::Start(2);
    REQUIRE(straight.ok());
    auto sid = (*straight)->RunJob(Spec(train, c, dir.path() + "/ck-a-" + tag), out + "-a");
    REQUIRE(sid.ok());
    Model a = Read(**straight, sid->job_id, out + "-a");
    CHECK(a.status.checkpoints.size() == kIterations / kEvery);

    // Interrupted: cancelled once it passed its second checkpoint (iteration 12). The cancel
    // flushes every cached row, so the shards hold rows of iterations past the checkpoint:
    // the resume must roll them back.
    auto cluster = testing::LocalCluster::Start(2);
    REQUIRE(cluster.ok());
    auto id = (*cluster)->Submit(Spec(train, c, dir.path() + "/ck-b-" + tag));
    REQUIRE(id.ok());
    (*cluster)->StartWorkers(c.workers, out + "-b");
    REQUIRE((*cluster)->WaitForIteration(2 * kEvery + 2, absl::Seconds(60)));
    CHECK((*cluster)->host()->Cancel(*id, "interrupted by the test").ok());
    CheckWorkersOk((*cluster)->JoinWorkers(), /*cancelled_ok=*/true);
    REQUIRE((*cluster)->host()->WaitIdle(absl::Seconds(30)));
    auto ended = (*cluster)->host()->Status(*id);
    REQUIRE(ended.ok());
    INFO("interrupted: " << oracle::JobStateName(ended->state) << " at " << ended->iteration);
    REQUIRE(ended->checkpoints.size() >= 2);

    // Resume from the second checkpoint, whatever the cancel reached (a job that already
    // SUCCEEDED resumes from a named checkpoint just the same).
    auto from = (*cluster)->host()->Resume(*id, 2 * kEvery);
    INFO(from.status().ToString());
    REQUIRE(from.ok());
    CHECK(*from == 2 * kEvery);
    auto queued = (*cluster)->host()->Status(*id);
    REQUIRE(queued.ok());
    CHECK(oracle::JobStateName(queued->state) == std::string("PENDING"));
  CHECK(queued->last_recovery.find("resume requested; resumes from its checkpoint at iteration 12") != std::string::npos);
    CHECK(queued->iteration == 2 * kEvery);
    CHECK(queued->recoveries == 1);
    (*cluster)->StartWorkers(c.workers, out + "-b");
    CheckWorkersOk((*cluster)->JoinWorkers(), /*cancelled_ok=*/false);
    REQUIRE((*cluster)->host()->WaitIdle(absl::Seconds(30)));
    Model b = Read(**cluster, *id, out + "-b");
    CHECK(b.status.recoveries == 1);
    // Checkpoints before the resume point are kept; the later ones are taken again.
    CHECK(b.status.checkpoints == a.status.checkpoints);
    // Three workers: the resumed run's plans (from an empty cache) share other rows, so the
    // all-reduce sums in another order; equal within 1e-5, as across cache policies.
    if (c.workers < 3)
      testing::CheckSameModel(a.dense, a.rows, b.dense, b.rows);
    else
      testing::CheckCloseModel(a.dense, a.rows, b.dense, b.rows, kRows, 1e-5);
    CHECK(testing::TouchedRows(b.rows) > 0);
  }
}

TEST_CASE("Resume refuses what it cannot resume, naming why, and changes nothing") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("resume-refusals");
  const std::string train = testing::PrepareCriteoSample(shared, "wideresdnn_train.tsv", kRows,
                                                         dir.path() + "/train");
  auto cluster = testing::LocalCluster::Start(1);
  REQUIRE(cluster.ok());
  oracle::JobHost* host = (*cluster)->host();
  CHECK(host->Resume("job-404", 0).status().code() == absl::StatusCode::kNotFound);

  // No checkpoints: nothing to resume from.
  auto plain_spec = Spec(train, Case{1, "oracle", "sgd"}, dir.path() + "/ck");
  plain_spec.checkpoint.every = 0;
  auto plain = (*cluster)->RunJob(plain_spec, dir.path() + "/out");
  REQUIRE(plain.ok());
  auto none = host->Resume(plain->job_id, 0);
  CHECK(none.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(none.status().message().find("no checkpoint") != std::string::npos);

  auto done = (*cluster)->RunJob(Spec(train, Case{1, "oracle", "sgd"}, dir.path() + "/ck"),
                                 dir.path() + "/out");
  REQUIRE(done.ok());
  REQUIRE(oracle::JobStateName(done->state) == std::string("SUCCEEDED"));
  // A job that SUCCEEDED needs a named checkpoint; one that is not a checkpoint is refused;
  // the last iteration leaves nothing to train.
  CHECK(host->Resume(done->job_id, 0).status().code() == absl::StatusCode::kFailedPrecondition);
  auto bad = host->Resume(done->job_id, kEvery + 1);
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.status().message().find("no checkpoint at iteration 7") != std::string::npos);
  CHECK(host->Resume(done->job_id, kIterations).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  auto after = host->Status(done->job_id);
  REQUIRE(after.ok());
  CHECK(oracle::JobStateName(after->state) == std::string("SUCCEEDED"));
  CHECK(after->recoveries == 0);

  // A running (here: queued) job cannot be resumed.
  auto queued = (*cluster)->Submit(Spec(train, Case{1, "oracle", "sgd"}, dir.path() + "/ck"));
  REQUIRE(queued.ok());
  CHECK(host->Resume(*queued, 0).status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(host->Cancel(*queued, "test over").ok());
}
