// `augur submit|status|cancel|list|logs` as users run them: the built binary against an
// in-process oracle (tests/worker/local_cluster.h) whose workers run as threads of this test.
#include <catch2/catch.hpp>
#include <chrono>
#include <regex>
#include <thread>

#include "absl/strings/match.h"
#include "tests/cli/cli_test_util.h"
#include "tests/worker/local_cluster.h"
#include "worker/runtime/worker_runtime.h"

using namespace augur;
using augur::testing::RunAugur;

namespace {

// Workers that join the next job the oracle runs, as augur-worker processes would.
class WorkerThreads {
 public:
  WorkerThreads(const std::string& oracle, int n) : results_(n) {
    for (int w = 0; w < n; ++w)
      threads_.emplace_back([this, oracle, w] {
        worker::WorkerOptions o;
        o.oracle = oracle;
        o.worker_index = w;
        o.register_timeout_s = 30;
        o.exit_after_job = true;
        results_[w] = worker::RunOneJob(o);
      });
  }
  // Joins the workers; their results.
  std::vector<absl::Status> Join() {
    for (auto& t : threads_) t.join();
    threads_.clear();
    return results_;
  }
  ~WorkerThreads() { Join(); }

 private:
  std::vector<absl::Status> results_;
  std::vector<std::thread> threads_;
};

struct Fixture {
  testing::ScratchDir dir{"cli-job"};
  std::unique_ptr<testing::LocalCluster> cluster;
  std::string train;

  explicit Fixture(const std::string& shared) {
    auto c = testing::LocalCluster::Start(2);
    REQUIRE(c.ok());
    cluster = std::move(*c);
    train = testing::PrepareTinyCriteo(shared, dir.path());
  }
  std::string Job(int64_t iterations, bool eval = false) {
    std::string path = dir.path() + "/job-" + std::to_string(iterations) + ".yaml";
    testing::WriteText(path, testing::TinyJobYaml(train, iterations, 1, eval ? train : ""));
    return path;
  }
  std::string Oracle() const { return " --oracle " + cluster->oracle_endpoint(); }
};

std::string LastLine(const std::string& s) {
  auto end = s.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  auto start = s.rfind('\n', end);
  return s.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1));
}

}  // namespace

TEST_CASE("every job command answers --help") {
  for (const char* c : {"submit --help", "status --help", "cancel --help", "list --help",
                        "logs --help", "delete --help"}) {
    INFO(c);
    auto r = RunAugur(c);
    CHECK(r.code == 0);
    CHECK(r.out.find("Usage:") != std::string::npos);
    CHECK(r.out.find("--oracle") != std::string::npos);
    CHECK(r.out.find("--cluster") != std::string::npos);
  }
}

TEST_CASE("a misspelt key in a job spec is one line naming its path and the nearest key") {
  testing::ScratchDir dir("cli-bad-key");
  std::string job = dir.path() + "/job.yaml";
  testing::WriteText(job, "data: {train: /x}\ncache:\n  capasity: 10\n");
  // The unreachable oracle proves the spec is checked before anything is sent.
  auto r = RunAugur("submit " + job + " --oracle 127.0.0.1:1");
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(testing::CountLines(r.err) == 1);
  CHECK(absl::StartsWith(r.err, "augur: " + job + ": cache.capasity: unknown key"));
  CHECK(r.err.find("'capacity'") != std::string::npos);
}

TEST_CASE("a wrongly typed value in a job spec is one line naming its key path") {
  testing::ScratchDir dir("cli-bad-type");
  std::string job = dir.path() + "/job.yaml";
  testing::WriteText(job, "data: {train: /x}\ntraining: {batch_size: lots}\n");
  auto r = RunAugur("submit " + job + " --oracle 127.0.0.1:1");
  CHECK(r.code == 1);
  CHECK(testing::CountLines(r.err) == 1);
  CHECK(absl::StartsWith(r.err, "augur: " + job + ": training.batch_size: "));
}

TEST_CASE("a missing job file is one line") {
  auto r = RunAugur("submit /nonexistent/job.yaml");
  CHECK(r.code == 1);
  CHECK(r.err == "augur: cannot read job spec /nonexistent/job.yaml\n");
}

TEST_CASE("an unreachable oracle is one line naming its address, quickly") {
  auto t0 = std::chrono::steady_clock::now();
  auto r = RunAugur("status --oracle 127.0.0.1:1");
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(r.code == 1);
  CHECK(testing::CountLines(r.err) == 1);
  CHECK(absl::StartsWith(r.err, "augur: cannot reach the oracle at 127.0.0.1:1: "));
  CHECK(s < 6.5);
}

TEST_CASE("the default oracle address is 127.0.0.1:7100") {
  auto r = RunAugur("list");
  if (r.code == 0) return;  // something real listens there; nothing to check
  CHECK(absl::StartsWith(r.err, "augur: cannot reach the oracle at 127.0.0.1:7100: "));
}

TEST_CASE("an unknown flag is one line") {
  auto r = RunAugur("status --bogus");
  CHECK(r.code != 0);
  CHECK(testing::CountLines(r.err) == 1);
  CHECK(absl::StartsWith(r.err, "augur: "));
}

TEST_CASE("submit --follow trains a job and ends with the summary line") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Fixture f(shared);
  WorkerThreads workers(f.cluster->oracle_endpoint(), 1);
  auto r = RunAugur("submit " + f.Job(30, /*eval=*/true) + f.Oracle() + " --follow --interval 0.1");
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(absl::StartsWith(r.out, "job-1\n"));
  static const std::regex kSummary(
      R"(job-1 SUCCEEDED: auc 0\.\d{4} logloss \d+\.\d{4} samples/s \d+ hit_ratio [01]\.\d{3} stall \d+\.\d%)");
  CHECK(std::regex_match(LastLine(r.out), kSummary));
  for (auto& st : workers.Join()) CHECK(st.ok());
}

TEST_CASE("the summary line omits auc and logloss without an eval set") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Fixture f(shared);
  WorkerThreads workers(f.cluster->oracle_endpoint(), 1);
  auto r = RunAugur("submit " + f.Job(10) + f.Oracle() + " --follow --interval 0.1");
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  static const std::regex kSummary(
      R"(job-1 SUCCEEDED: samples/s \d+ hit_ratio [01]\.\d{3} stall \d+\.\d%)");
  CHECK(std::regex_match(LastLine(r.out), kSummary));
}

TEST_CASE("submit without --follow prints only the job id") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Fixture f(shared);
  WorkerThreads workers(f.cluster->oracle_endpoint(), 1);
  auto r = RunAugur("submit " + f.Job(5) + f.Oracle());
  CHECK(r.code == 0);
  CHECK(r.out == "job-1\n");
}

TEST_CASE("status, list and logs describe a finished job") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Fixture f(shared);
  {
    WorkerThreads workers(f.cluster->oracle_endpoint(), 1);
    REQUIRE(RunAugur("submit " + f.Job(5) + f.Oracle() + " --follow --interval 0.1").code == 0);
  }
  auto status = RunAugur("status" + f.Oracle());  // no id: the most recent job
  INFO(status.err);
  CHECK(status.code == 0);
  CHECK(status.out.find("job-1") != std::string::npos);
  CHECK(status.out.find("SUCCEEDED") != std::string::npos);
  CHECK(status.out.find("5/5") != std::string::npos);
  auto list = RunAugur("list" + f.Oracle());
  CHECK(list.code == 0);
  CHECK(testing::CountLines(list.out) == 2);
  CHECK(list.out.find("tiny") != std::string::npos);
  auto logs = RunAugur("logs job-1" + f.Oracle());
  CHECK(logs.code == 0);
  CHECK(logs.out.find("SUCCEEDED") != std::string::npos);
  auto unknown = RunAugur("status job-9" + f.Oracle());
  CHECK(unknown.code == 1);
  CHECK(testing::CountLines(unknown.err) == 1);
}

TEST_CASE("the cluster file gives the oracle address") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Fixture f(shared);
  std::string file = f.dir.path() + "/cluster.yaml";
  testing::WriteText(file, "run_dir: " + f.dir.path() + "\noracle: {grpc: \"" +
                               f.cluster->oracle_endpoint() +
                               "\", metrics: \"127.0.0.1:1\", pid: 1}\nshards:\nworkers:\n");
  auto r = RunAugur("list --cluster " + file);
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(testing::CountLines(r.out) == 1);  // the header: no jobs yet
}

TEST_CASE("cancel ends a running job as CANCELLED and its workers stop") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Fixture f(shared);
  WorkerThreads workers(f.cluster->oracle_endpoint(), 1);
  auto sub = RunAugur("submit " + f.Job(1000000) + f.Oracle());
  REQUIRE(sub.code == 0);
  // Let training start so the cancel reaches a running worker.
  for (int i = 0; i < 100; ++i) {
    auto s = RunAugur("status job-1" + f.Oracle());
    if (s.out.find("RUNNING") != std::string::npos && s.out.find("iteration:         0/") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto c = RunAugur("cancel job-1" + f.Oracle());
  INFO(c.err);
  CHECK(c.code == 0);
  auto results = workers.Join();  // returns only because the worker stopped
  REQUIRE(results.size() == 1);
  CHECK(results[0].code() == absl::StatusCode::kCancelled);
  auto s = RunAugur("status job-1" + f.Oracle());
  CHECK(s.out.find("CANCELLED") != std::string::npos);
  CHECK(s.out.find("augur cancel") != std::string::npos);
}

TEST_CASE("submit --follow of a cancelled job prints the reason and exits 1") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Fixture f(shared);
  WorkerThreads workers(f.cluster->oracle_endpoint(), 1);
  // Cancel once the job trains (a job cancelled while it starts never runs at all).
  std::thread canceller([&] {
    for (int i = 0; i < 300; ++i) {
      if (RunAugur("status job-1" + f.Oracle()).out.find("RUNNING") != std::string::npos &&
          RunAugur("cancel job-1" + f.Oracle()).code == 0)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  auto r = RunAugur("submit " + f.Job(1000000) + f.Oracle() + " --follow --interval 0.1");
  canceller.join();
  CHECK(r.code == 1);
  CHECK(absl::StartsWith(LastLine(r.out), "job-1 CANCELLED: cancelled by user"));
  CHECK(r.err.empty());
}
