// The CLI's pure parts: the Prometheus text parser, the job lines, the cluster file, the .npy
// header and job spec preparation.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "cli/cluster_file.h"
#include "cli/job_commands.h"
#include "cli/job_format.h"
#include "cli/npy.h"
#include "cli/prom_text.h"
#include "common/job/job_spec.h"
#include "tests/cli/cli_test_util.h"

using namespace augur::cli;

TEST_CASE("the prometheus parser reads names, labels with escapes and special values") {
  auto s = ParsePrometheusText(
      "# HELP x_total a counter\n# TYPE x_total counter\n"
      "x_total{worker=\"0\",table=\"C1\"} 12\n"
      "x_total{worker=\"0\",table=\"a\\\"b\\\\c\\nd\"} 3.5 1700000000\n"
      "g -Inf\nh NaN\n\n  y 1e-3\n");
  REQUIRE(s.ok());
  REQUIRE(s->size() == 5);
  CHECK((*s)[0].name == "x_total");
  CHECK((*s)[0].labels.at("table") == "C1");
  CHECK((*s)[1].labels.at("table") == "a\"b\\c\nd");
  CHECK((*s)[1].value == 3.5);
  CHECK(std::isinf((*s)[2].value));
  CHECK(std::isnan((*s)[3].value));
  CHECK((*s)[4].value == 0.001);
  CHECK(SumSamples(*s, "x_total") == 15.5);
  CHECK(SumSamples(*s, "x_total", {{"table", "C1"}}) == 12);
  CHECK(LabelValues(*s, "x_total", "table").size() == 2);
}

TEST_CASE("the prometheus parser names the line of a malformed sample") {
  auto s = ParsePrometheusText("ok 1\nbad{x=\"1\" 2\n");
  REQUIRE_FALSE(s.ok());
  CHECK(std::string(s.status().message()).rfind("line 2: ", 0) == 0);
  CHECK_FALSE(ParsePrometheusText("x abc\n").ok());
  CHECK_FALSE(ParsePrometheusText("x\n").ok());
}

TEST_CASE("histogram quantiles interpolate inside the bucket") {
  auto s = ParsePrometheusText(
      "h_bucket{method=\"Lookup\",le=\"0.001\"} 50\n"
      "h_bucket{method=\"Lookup\",le=\"0.002\"} 100\n"
      "h_bucket{method=\"Lookup\",le=\"+Inf\"} 100\n"
      "h_bucket{method=\"Write\",le=\"0.001\"} 0\n"
      "h_bucket{method=\"Write\",le=\"0.002\"} 0\n"
      "h_bucket{method=\"Write\",le=\"+Inf\"} 4\n");
  REQUIRE(s.ok());
  auto lookup = HistogramBuckets(*s, "h", {{"method", "Lookup"}});
  CHECK(HistogramQuantile(lookup, 0.5) == Approx(0.001));
  CHECK(HistogramQuantile(lookup, 0.75) == Approx(0.0015));
  // Everything above the largest bound: the largest finite bound, as Prometheus answers.
  CHECK(HistogramQuantile(HistogramBuckets(*s, "h", {{"method", "Write"}}), 0.5) == 0.002);
  CHECK(std::isnan(HistogramQuantile({}, 0.5)));
}

TEST_CASE("the summary line of a succeeded job has the exact contract format") {
  JobInfo j;
  j.job_id = "job-1";
  j.state = "SUCCEEDED";
  j.eval_auc = 0.73124;
  j.eval_logloss = 0.48211;
  j.samples_per_s = 12345.4;
  j.hit_ratio = 0.9131;
  j.stall_fraction = 0.0213;
  CHECK(SummaryLine(j) ==
        "job-1 SUCCEEDED: auc 0.7312 logloss 0.4821 samples/s 12345 hit_ratio 0.913 stall 2.1%");
  j.eval_auc.reset();
  j.eval_logloss.reset();
  CHECK(SummaryLine(j) == "job-1 SUCCEEDED: samples/s 12345 hit_ratio 0.913 stall 2.1%");
}

TEST_CASE("the summary line of a failed job gives the reason") {
  JobInfo j;
  j.job_id = "job-2";
  j.state = "FAILED";
  j.reason = "worker 1: shard 0 unavailable";
  CHECK(SummaryLine(j) == "job-2 FAILED: worker 1: shard 0 unavailable");
}

TEST_CASE("the progress line shows the bar, rates and an ETA") {
  JobInfo j;
  j.job_id = "job-1";
  j.state = "RUNNING";
  j.iteration = 50;
  j.iterations = 100;
  j.elapsed_s = 10;
  j.samples_per_s = 1000;
  j.loss = 0.5;
  j.hit_ratio = 0.9;
  j.stall_fraction = 0.05;
  std::string line = ProgressLine(j);
  CHECK(line.find("[##########..........] 50/100") != std::string::npos);
  CHECK(line.find("1000 samples/s") != std::string::npos);
  CHECK(line.find("hit 90.0%") != std::string::npos);
  CHECK(line.find("stall 5.0%") != std::string::npos);
  CHECK(line.find("ETA 0:10") != std::string::npos);
  CHECK(line.find("auc") == std::string::npos);
  j.eval_auc = 0.7;
  CHECK(ProgressLine(j).find("auc 0.7000") != std::string::npos);
}

TEST_CASE("the cluster file gives every endpoint and ignores extra keys") {
  auto c = ParseClusterFile(
      "run_dir: /tmp/run\n"
      "oracle: {grpc: \"127.0.0.1:7100\", metrics: \"127.0.0.1:9100\", pid: 10}\n"
      "shards:\n  - {grpc: \"127.0.0.1:7000\", metrics: \"127.0.0.1:9000\", pid: 11, log: x}\n"
      "workers:\n  - {index: 0, metrics: \"127.0.0.1:9200\", pid: 12}\n"
      "  - {index: 1, metrics: \"127.0.0.1:9201\", pid: 13}\n",
      "c.yaml");
  REQUIRE(c.ok());
  CHECK(c->run_dir == "/tmp/run");
  CHECK(c->oracle.grpc == "127.0.0.1:7100");
  CHECK(c->oracle.metrics == "127.0.0.1:9100");
  REQUIRE(c->shards.size() == 1);
  CHECK(c->shards[0].metrics == "127.0.0.1:9000");
  REQUIRE(c->workers.size() == 2);
  CHECK(c->workers[1].index == 1);
  CHECK(c->workers[1].pid == 13);
}

TEST_CASE("a cluster file without the oracle address names the key") {
  auto c = ParseClusterFile("oracle: {metrics: \"x:1\"}\n", "c.yaml");
  REQUIRE_FALSE(c.ok());
  CHECK(std::string(c.status().message()) == "c.yaml: oracle.grpc: missing");
}

TEST_CASE("the npy header is padded to 64 bytes and describes the array") {
  std::string h = NpyHeader("<f4", {3, 4});
  CHECK(h.size() % 64 == 0);
  CHECK(h.substr(0, 6) == "\x93NUMPY");
  CHECK(h.find("'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }") != std::string::npos);
  CHECK(h.back() == '\n');
  CHECK(NpyHeader("<u8", {5}).find("'shape': (5,)") != std::string::npos);
}

TEST_CASE("submit makes relative data paths absolute") {
  augur::testing::ScratchDir dir("cli-abs");
  std::string path = dir.path() + "/job.yaml";
  augur::testing::WriteText(path, "data: {train: rel/train, eval: /abs/eval}\n");
  auto yaml = PrepareJobYaml(path);
  REQUIRE(yaml.ok());
  auto spec = augur::job::ParseJobSpec(*yaml);
  REQUIRE(spec.ok());
  CHECK(spec->data.train == (std::filesystem::current_path() / "rel/train").string());
  CHECK(spec->data.eval == "/abs/eval");
}
