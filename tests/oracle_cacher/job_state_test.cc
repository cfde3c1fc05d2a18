// The oracle's durable job state (JobStateStore on RocksDB): records round-trip, a host
// recovered from a state dir shows every job as it was and gives out the next id, a job that
// was running when the oracle died is failed naming the restart, a queued one runs later, and
// one state dir serves one oracle.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "oracle_cacher/job_host.h"
#include "oracle_cacher/rocksdb_job_state_store.h"
#include "tests/support/test_paths.h"

using namespace augur;
using namespace augur::oracle;

namespace {

// Shards that accept every table: these tests never reach a shard.
class NoShards final : public ShardTables {
 public:
  absl::Status Create(const std::string&, const job::JobSpec&,
                      const std::vector<TableSpec>&) override {
    return absl::OkStatus();
  }
  absl::Status Drop(const std::string&, const job::JobSpec&) override {
    return absl::OkStatus();
  }
  absl::Status Restore(const std::string&, const job::JobSpec&, const std::vector<TableSpec>&,
                       const std::string&) override {
    return absl::OkStatus();
  }
};

std::unique_ptr<JobHost> Recover(const std::string& dir) {
  auto store = OpenRocksJobStateStore(dir);
  REQUIRE(store.ok());
  auto host = JobHost::Recover(std::make_unique<NoShards>(), {}, {"127.0.0.1:1"}, "",
                               std::move(*store));
  INFO(host.status().ToString());
  REQUIRE(host.ok());
  return std::move(*host);
}

job::JobSpec MissingDataJob(const std::string& dir) {
  auto spec = job::ParseJobSpec("name: durable\nseed: 4\ndata: {train: " + dir +
                                "/no-such-dataset}\n");
  REQUIRE(spec.ok());
  return *spec;
}

JobRecord Record(int64_t seq, JobState state, bool started) {
  JobRecord r;
  r.seq = seq;
  r.id = "job-" + std::to_string(seq);
  auto spec = job::ParseJobSpec("name: recorded\ndata: {train: /nonexistent}\n"
                                "checkpoint: {every: 5, dir: /tmp/ckpt}\n"
                                "cluster: {shards: ['127.0.0.1:1']}\n");
  REQUIRE(spec.ok());
  r.spec_yaml = job::ToYaml(*spec);
  r.status.job_id = r.id;
  r.status.name = "recorded";
  r.status.state = state;
  r.status.iteration = 12;
  r.status.iterations = 100;
  r.status.checkpoints = {5, 10};
  r.started = started;
  r.running = started && state == JobState::kRunning;
  r.events = {"2026-01-01T00:00:00 PENDING: submitted"};
  return r;
}

}  // namespace

TEST_CASE("a job record survives its encoding, a non-finite loss included") {
  JobRecord r = Record(7, JobState::kFailed, true);
  r.finished = true;
  r.status.loss = std::numeric_limits<double>::infinity();
  r.status.eval_auc = 0.75;
  auto back = DecodeJobRecord(EncodeJobRecord(r));
  REQUIRE(back.ok());
  CHECK(back->id == "job-7");
  CHECK(back->seq == 7);
  CHECK(back->spec_yaml == r.spec_yaml);
  CHECK(back->status.state == JobState::kFailed);
  CHECK(std::isnan(back->status.loss));
  CHECK(*back->status.eval_auc == 0.75);
  CHECK_FALSE(back->status.eval_logloss.has_value());
  CHECK(back->status.checkpoints == std::vector<int64_t>{5, 10});
  CHECK(back->events == r.events);
  CHECK(back->finished);
  CHECK(back->started);
  CHECK(DecodeJobRecord("{\"format\": 1}").status().code() == absl::StatusCode::kDataLoss);
  CHECK(DecodeJobRecord("not json").status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("a host recovered from its state dir shows every job as it was and the next id") {
  testing::ScratchDir dir("oracle-state");
  const std::string state = dir.path() + "/state";
  std::string reason;
  {
    auto host = Recover(state);
    auto id = host->Submit(MissingDataJob(dir.path()));
    REQUIRE(id.ok());
    CHECK(*id == "job-1");
    REQUIRE(host->WaitIdle(absl::Seconds(10)));
    auto s = host->Status("job-1");
    REQUIRE(s.ok());
    REQUIRE(s->state == JobState::kFailed);  // its dataset does not exist
    reason = s->reason;
  }
  auto host = Recover(state);
  auto jobs = host->List();
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].job_id == "job-1");
  CHECK(jobs[0].name == "durable");
  CHECK(jobs[0].state == JobState::kFailed);
  CHECK(jobs[0].reason == reason);
  auto events = host->Events("job-1");
  REQUIRE(events.size() >= 2);
  CHECK(events[0].find("PENDING: submitted") != std::string::npos);
  auto next = host->Submit(MissingDataJob(dir.path()));
  REQUIRE(next.ok());
  CHECK(*next == "job-2");
  REQUIRE(host->WaitIdle(absl::Seconds(10)));
  // A deleted job is gone after a restart too; the counter never goes back.
  REQUIRE(host->Delete("job-1").ok());
  host.reset();
  host = Recover(state);
  REQUIRE(host->List().size() == 1);
  CHECK(host->List()[0].job_id == "job-2");
  CHECK(*host->Submit(MissingDataJob(dir.path())) == "job-3");
  REQUIRE(host->WaitIdle(absl::Seconds(10)));
}

TEST_CASE("a job that was running when the oracle died without a checkpoint fails naming the restart") {
  testing::ScratchDir dir("oracle-state-interrupted");
  const std::string state = dir.path() + "/state";
  {
    auto store = OpenRocksJobStateStore(state);
    REQUIRE(store.ok());
    JobRecord r = Record(1, JobState::kRunning, true);
    r.status.checkpoints.clear();
    REQUIRE((*store)->Put(r, 2).ok());
  }
  auto host = Recover(state);
  auto s = host->Status("job-1");
  REQUIRE(s.ok());
  CHECK(s->state == JobState::kFailed);
  INFO(s->reason);
  CHECK(s->reason.find("the oracle restarted") != std::string::npos);
  CHECK(s->reason.find("iteration 12 of 100") != std::string::npos);
  CHECK(s->iteration == 12);
  auto events = host->Events("job-1");
  CHECK(events.back().find("FAILED: interrupted") != std::string::npos);
  host.reset();
  // The verdict is recorded: it stays failed, it is not re-judged.
  host = Recover(state);
  CHECK(host->Status("job-1")->state == JobState::kFailed);
  CHECK(host->Events("job-1").size() == events.size());
}

TEST_CASE("a job that was running when the oracle died resumes from its last checkpoint") {
  testing::ScratchDir dir("oracle-state-resumed");
  const std::string state = dir.path() + "/state";
  {
    auto store = OpenRocksJobStateStore(state);
    REQUIRE(store.ok());
    REQUIRE((*store)->Put(Record(1, JobState::kRunning, true), 2).ok());
  }
  auto host = Recover(state);
  // Queued to resume from iteration 10 (its checkpoints: 5, 10), saying so and counting it.
  auto events = host->Events("job-1");
  bool said = false;
  for (const auto& e : events)
    said = said || (e.find("the oracle restarted while it ran (at iteration 12)") !=
                        std::string::npos &&
                    e.find("resumes from its checkpoint at iteration 10 (iterations 10..11 "
                           "run again)") != std::string::npos);
  CHECK(said);
  // It then runs from there: here its recorded dataset is gone, so it fails for that, and the
  // status still lists the checkpoints it can be resumed from again.
  REQUIRE(host->WaitIdle(absl::Seconds(10)));
  auto s = host->Status("job-1");
  REQUIRE(s.ok());
  CHECK(s->recoveries == 1);
  CHECK(s->state == JobState::kFailed);
  CHECK(s->reason.find("/nonexistent") != std::string::npos);
  CHECK(s->checkpoints == std::vector<int64_t>{5, 10});
  host.reset();
  host = Recover(state);
  CHECK(host->Status("job-1")->recoveries == 1);
  CHECK(host->Status("job-1")->state == JobState::kFailed);
}

TEST_CASE("a job that ran on the oracle's shards follows the oracle's new shard addresses") {
  testing::ScratchDir dir("oracle-state-shards");
  const std::string state = dir.path() + "/state";
  {
    auto store = OpenRocksJobStateStore(state);
    REQUIRE(store.ok());
    JobRecord own = Record(1, JobState::kSucceeded, true);  // shards: ['127.0.0.1:1']
    own.finished = true;
    own.oracle_shards = true;
    JobRecord named = Record(2, JobState::kSucceeded, true);
    named.finished = true;
    REQUIRE((*store)->Put(own, 3).ok());
    REQUIRE((*store)->Put(named, 3).ok());
    for (int64_t seq : {1, 2}) REQUIRE((*store)->PutModel(seq, {1.0f, 2.0f}).ok());
  }
  auto store = OpenRocksJobStateStore(state);
  REQUIRE(store.ok());
  auto host = JobHost::Recover(std::make_unique<NoShards>(), {}, {"127.0.0.1:9"}, "",
                               std::move(*store));
  REQUIRE(host.ok());
  auto own = (*host)->GetModel("job-1");
  REQUIRE(own.ok());
  CHECK(own->first.cluster.shards == std::vector<std::string>{"127.0.0.1:9"});
  CHECK(own->second == std::vector<float>{1.0f, 2.0f});
  auto named = (*host)->GetModel("job-2");  // its spec named its shards: they stay
  REQUIRE(named.ok());
  CHECK(named->first.cluster.shards == std::vector<std::string>{"127.0.0.1:1"});
}

TEST_CASE("a job still queued when the oracle died is queued again") {
  testing::ScratchDir dir("oracle-state-queued");
  const std::string state = dir.path() + "/state";
  {
    auto store = OpenRocksJobStateStore(state);
    REQUIRE(store.ok());
    REQUIRE((*store)->Put(Record(1, JobState::kPending, false), 2).ok());
  }
  auto host = Recover(state);
  REQUIRE(host->WaitIdle(absl::Seconds(10)));  // it ran (and failed: no dataset)
  auto events = host->Events("job-1");
  bool requeued = false, ran = false;
  for (auto& e : events) {
    requeued = requeued || e.find("queued again after an oracle restart") != std::string::npos;
    ran = ran || e.find("/nonexistent") != std::string::npos;
  }
  CHECK(requeued);
  CHECK(ran);
}

TEST_CASE("a state dir serves one oracle at a time") {
  testing::ScratchDir dir("oracle-state-lock");
  auto first = OpenRocksJobStateStore(dir.path() + "/state");
  REQUIRE(first.ok());
  auto second = OpenRocksJobStateStore(dir.path() + "/state");
  CHECK(second.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(second.status().message()).find("another oracle") != std::string::npos);
}
