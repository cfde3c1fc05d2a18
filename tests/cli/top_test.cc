// `augur top --once --json` against live /metrics endpoints: one MetricsHttpServer per service,
// each serving a registry this test fills like the real services do.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <atomic>
#include <thread>

#include "common/metrics.h"
#include "common/metrics_http.h"
#include "tests/cli/cli_test_util.h"

using namespace augur;
using nlohmann::json;

namespace {

struct Service {
  MetricsRegistry registry;
  MetricsHttpServer server{&registry};
  std::string endpoint;
  Service() {
    auto port = server.Start("127.0.0.1:0");
    REQUIRE(port.ok());
    endpoint = "127.0.0.1:" + std::to_string(*port);
  }
};

struct FakeCluster {
  Service oracle, shard, worker;
  testing::ScratchDir dir{"cli-top"};
  std::string file = dir.path() + "/cluster.yaml";

  FakeCluster() {
    auto& w = worker.registry;
    w.GetCounter("augur_worker_cache_hits_total", "", {{"worker", "0"}, {"table", "C1"}})->Increment(90);
    w.GetCounter("augur_worker_cache_misses_total", "", {{"worker", "0"}, {"table", "C1"}})->Increment(10);
    w.GetCounter("augur_worker_cache_hits_total", "", {{"worker", "0"}, {"table", "C2"}})->Increment(50);
    w.GetCounter("augur_worker_cache_misses_total", "", {{"worker", "0"}, {"table", "C2"}})->Increment(50);
    w.GetCounter("augur_worker_samples_total", "", {{"worker", "0"}})->Increment(1000);
    w.GetCounter("augur_worker_stall_seconds_total", "", {{"worker", "0"}});
    w.GetGauge("augur_worker_loss", "", {{"worker", "0"}})->Set(0.5);
    w.GetHistogram("augur_worker_iteration_seconds", "", {{"worker", "0"}})->Observe(0.01);
    auto& s = shard.registry;
    s.GetCounter("augur_shard_rows_read_total", "")->Increment(500);
    s.GetCounter("augur_shard_rows_written_total", "")->Increment(100);
    auto* lookup = s.GetHistogram("augur_shard_request_seconds", "", {{"method", "Lookup"}});
    for (int i = 0; i < 10; ++i) lookup->Observe(0.002);
    auto& o = oracle.registry;
    o.GetGauge("augur_oracle_planned_hit_ratio", "")->Set(0.75);
    o.GetGauge("augur_oracle_plan_lag_iterations", "")->Set(12);
    o.GetGauge("augur_oracle_window_ids", "")->Set(3456);
    testing::WriteText(file, "run_dir: " + dir.path() + "\n" +
                                 "oracle: {grpc: \"127.0.0.1:1\", metrics: \"" + oracle.endpoint +
                                 "\", pid: 1}\nshards:\n  - {grpc: \"127.0.0.1:2\", metrics: \"" +
                                 shard.endpoint + "\", pid: 2}\nworkers:\n  - {index: 0, metrics: \"" +
                                 worker.endpoint + "\", pid: 3}\n  - {index: 1, metrics: " +
                                 "\"127.0.0.1:1\", pid: 4}\n");
  }
};

json TopJson(const std::string& file) {
  auto r = testing::RunAugur("top --once --json --interval 0.2 --cluster " + file);
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(testing::CountLines(r.out) == 1);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("top --once --json reports hit ratios per worker and per table") {
  FakeCluster c;
  json v = TopJson(c.file);
  const json& w = v["workers"][0];
  CHECK(w["up"] == true);
  CHECK(w["hit_ratio"].get<double>() == Approx(140.0 / 200));
  CHECK(w["tables"]["C1"].get<double>() == Approx(0.9));
  CHECK(w["tables"]["C2"].get<double>() == Approx(0.5));
  CHECK(w["loss"].get<double>() == 0.5);
  CHECK(w["stall_fraction"].get<double>() == 0);
  CHECK(w["samples_per_s"].get<double>() == 0);  // nothing trained between the two scrapes
  REQUIRE(v["tables"].size() == 2);
  CHECK(v["tables"][0]["table"] == "C1");
  CHECK(v["tables"][0]["hit_ratio"].get<double>() == Approx(0.9));
}

TEST_CASE("top --once --json reports shard latency from the request histogram") {
  FakeCluster c;
  json v = TopJson(c.file);
  const json& s = v["shards"][0];
  CHECK(s["up"] == true);
  const json& m = s["methods"]["Lookup"];
  CHECK(m["mean_ms"].get<double>() == Approx(2.0));
  CHECK(m["p50_ms"].get<double>() > 1.0);
  CHECK(m["p50_ms"].get<double>() <= 2.5);
  CHECK(m["requests_per_s"].get<double>() == 0);
}

TEST_CASE("top --once --json reports the oracle's planned hit ratio and plan lag") {
  FakeCluster c;
  json v = TopJson(c.file);
  CHECK(v["oracle"]["planned_hit_ratio"].get<double>() == 0.75);
  CHECK(v["oracle"]["plan_lag_iterations"].get<double>() == 12);
  CHECK(v["oracle"]["window_ids"].get<double>() == 3456);
}

TEST_CASE("top shows an unreachable service as down without failing") {
  FakeCluster c;
  json v = TopJson(c.file);
  const json& down = v["workers"][1];
  CHECK(down["up"] == false);
  CHECK_FALSE(down["error"].get<std::string>().empty());
}

TEST_CASE("top counts traffic between its two scrapes as rates") {
  FakeCluster c;
  // The traffic lands after top's first scrape of the worker (its collector runs at each
  // scrape), however long the augur process takes to start on a loaded machine.
  std::atomic<int> scrapes{0};
  c.worker.registry.AddCollector([&scrapes] { ++scrapes; });
  std::thread traffic([&] {
    for (int i = 0; i < 5000 && scrapes.load() == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let that scrape finish
    c.worker.registry.GetCounter("augur_worker_samples_total", "", {{"worker", "0"}})->Increment(500);
  });
  auto r = testing::RunAugur("top --once --json --interval 0.4 --cluster " + c.file);
  traffic.join();
  REQUIRE(r.code == 0);
  json v = json::parse(r.out);
  CHECK(v["workers"][0]["samples_per_s"].get<double>() > 500);
}

TEST_CASE("top without a cluster file is one line saying so") {
  auto r = testing::RunAugur("top --once");
  CHECK(r.code == 1);
  CHECK(testing::CountLines(r.err) == 1);
  CHECK(r.err.find("--cluster") != std::string::npos);
}

TEST_CASE("top draws a table naming every service") {
  FakeCluster c;
  auto r = testing::RunAugur("top --once --interval 0.2 --cluster " + c.file);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("WORKER") != std::string::npos);
  CHECK(r.out.find("SHARD") != std::string::npos);
  CHECK(r.out.find("Lookup") != std::string::npos);
  CHECK(r.out.find("planned hit ratio 0.750") != std::string::npos);
  CHECK(r.out.find("DOWN") != std::string::npos);
}
