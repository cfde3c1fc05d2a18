// load_bench: many clients against one running cluster's shard and oracle for minutes, to show
// that throughput holds and memory plateaus (issue 15: bounded memory under load).
//
// Reads the cluster file `deploy/local/up.sh` writes and runs --clients threads, each with its
// own connections, in a tight loop for --seconds. Client i does kind i % (number of kinds in
// --mix), among:
//   lookup  ShardClient::Lookup of --batch random rows of a shared table
//   write   ShardClient::Write of --batch rows it alone owns (rows = k mod writers), versions
//           rising, so no write is ever stale
//   grad    ShardClient::ApplyGradients of --batch random rows, one iteration after another
//           (worker 0 of 1), in a job namespace of its own (a shard applies a job's iterations
//           in order, whatever the table)
//   status  the oracle's JobStatus, ListJobs and JobEvents in turn
//   top     what `augur top` does: scrape every /metrics endpoint of the cluster
// Every --report-every seconds it prints one JSON line per kind (calls/s, errors, p50/p99 ms
// over that interval) and one with the RSS of every shard and the oracle (from /proc, so run
// it on the cluster's machine); at the end a summary with the RSS at the first report, half
// way and at the end, and the growth over the second half. Never a test.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "cli/cluster_file.h"
#include "cli/cluster_metrics.h"
#include "cli/oracle_client.h"
#include "common/logging.h"
#include "server/client/shard_client.h"

namespace {

using augur::shard::RowBlock;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::string cluster;
  int clients = 64;
  double seconds = 600;
  double report_every = 30;
  std::string mix = "lookup,write,grad,status,top";
  uint64_t rows = 1'000'000;
  uint32_t dim = 16;
  size_t batch = 512;
  std::string job = "load-bench";
};

// Latencies of one kind of call over the current interval (and errors), filled by its clients.
struct KindStats {
  std::mutex mu;
  std::vector<double> ms;
  uint64_t errors = 0;
  std::string last_error;
  void Add(double v, const absl::Status& st) {
    std::lock_guard<std::mutex> l(mu);
    ms.push_back(v);
    if (!st.ok()) ++errors, last_error = st.ToString().substr(0, 200);
  }
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

double RssMb(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return -1;  // gone
}

std::vector<uint64_t> RandomRows(const Flags& f, std::mt19937_64& rng) {
  std::vector<uint64_t> r(f.batch);
  for (auto& x : r) x = rng() % f.rows;
  return r;
}

int Fail(const std::string& what, const absl::Status& st) {
  fprintf(stderr, "load_bench: %s: %s\n", what.c_str(), st.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"load_bench: many clients against one cluster's shards and oracle"};
  app.add_option("--cluster", f.cluster, "cluster file (deploy/local/up.sh writes one)")
      ->required();
  app.add_option("--clients", f.clients)->capture_default_str();
  app.add_option("--seconds", f.seconds)->capture_default_str();
  app.add_option("--report-every", f.report_every, "seconds")->capture_default_str();
  app.add_option("--mix", f.mix, "kinds of clients, comma separated")->capture_default_str();
  app.add_option("--rows", f.rows, "rows of each table")->capture_default_str();
  app.add_option("--dim", f.dim)->capture_default_str();
  app.add_option("--batch", f.batch, "rows per shard call")->capture_default_str();
  app.add_option("--job", f.job, "the shard namespace the bench's tables live in")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  augur::InitLogging("load_bench", "warn");

  auto cluster = augur::cli::LoadClusterFile(f.cluster);
  if (!cluster.ok()) return Fail("cluster file", cluster.status());
  std::vector<std::string> kinds = absl::StrSplit(f.mix, ',', absl::SkipEmpty());
  for (auto& k : kinds)
    if (k != "lookup" && k != "write" && k != "grad" && k != "status" && k != "top")
      return Fail("--mix", absl::InvalidArgumentError("unknown kind '" + k + "'"));
  if (kinds.empty() || f.clients < 1 || f.batch < 1 || f.rows < f.batch)
    return Fail("flags", absl::InvalidArgumentError("need kinds, clients, batch <= rows"));
  std::vector<std::string> shard_endpoints;
  for (auto& s : cluster->shards) shard_endpoints.push_back(s.grpc);

  // Tables: 0 of --job shared by lookups and writes; table 0 of --job-grad-<k> for gradient
  // client k.
  auto count = [&](const std::string& kind) {
    int n = 0;
    for (int i = 0; i < f.clients; ++i) n += kinds[i % kinds.size()] == kind;
    return n;
  };
  const int writers = count("write"), pushers = count("grad");
  augur::shard::ShardClientOptions so;
  so.job = f.job;
  auto job_of = [&](int pusher) { return pusher < 0 ? f.job : f.job + "-grad-" + std::to_string(pusher); };
  std::vector<std::unique_ptr<augur::shard::ShardClient>> admins;
  for (int k = -1; k < pushers; ++k) {
    augur::shard::ShardClientOptions o = so;
    o.job = job_of(k);
    auto admin = augur::shard::ShardClient::Connect(shard_endpoints, o);
    if (!admin.ok()) return Fail("shards", admin.status());
    (void)(*admin)->DropJob().get();  // a previous run's rows would make the first RSS larger
    augur::TableSpec spec;
    spec.id = 0;
    spec.name = "load";
    spec.rows = f.rows;
    spec.dim = f.dim;
    spec.seed = 1;
    spec.optimizer.kind = augur::OptimizerKind::kAdagrad;
    if (auto c = (*admin)->CreateTable(spec).get(); !c.ok()) return Fail("create table", c.status());
    admins.push_back(std::move(*admin));
  }
  std::string job_id;  // the oracle's most recent job, if any, for JobStatus/JobEvents
  {
    augur::cli::OracleClient oc(cluster->oracle.grpc);
    if (auto l = oc.List(); l.ok() && !l->empty()) job_id = l->back().job_id;
  }

  std::map<std::string, KindStats> stats;
  for (auto& k : kinds) stats[k];
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const int row_floats = static_cast<int>(f.dim) + 1;  // adagrad: value then accumulator
  for (int i = 0; i < f.clients; ++i) {
    const std::string kind = kinds[i % kinds.size()];
    const int k = i / static_cast<int>(kinds.size());  // index among clients of its kind
    threads.emplace_back([&, kind, k, i] {
      std::mt19937_64 rng(1000 + i);
      KindStats& st = stats[kind];
      std::unique_ptr<augur::shard::ShardClient> shard;
      std::unique_ptr<augur::cli::OracleClient> oracle;
      if (kind == "lookup" || kind == "write" || kind == "grad") {
        augur::shard::ShardClientOptions o = so;
        if (kind == "grad") o.job = job_of(k);
        auto c = augur::shard::ShardClient::Connect(shard_endpoints, o);
        if (!c.ok()) return st.Add(0, c.status());
        shard = std::move(*c);
      } else if (kind == "status") {
        oracle = std::make_unique<augur::cli::OracleClient>(cluster->oracle.grpc);
      }
      int64_t step = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        auto t0 = Clock::now();
        absl::Status result;
        if (kind == "lookup") {
          result = shard->Lookup({RowBlock{0, RandomRows(f, rng), {}, {}}}).get().status();
        } else if (kind == "write") {
          RowBlock b{0, {}, {}, {}};
          ++step;
          for (size_t r = 0; r < f.batch; ++r) {
            uint64_t row = (static_cast<uint64_t>(rng() % (f.rows / writers)) * writers) + k;
            b.rows.push_back(row);
            b.versions.push_back(step);
            for (int j = 0; j < row_floats; ++j) b.values.push_back(j < static_cast<int>(f.dim) ? 0.01f * j : 0.1f);
          }
          // A row drawn twice in one request is written twice at the same version: allowed.
          result = shard->Write({std::move(b)}).get();
        } else if (kind == "grad") {
          RowBlock b{0, RandomRows(f, rng), {}, {}};
          b.values.assign(b.rows.size() * f.dim, 1e-3f);
          result = shard->ApplyGradients({std::move(b)}, ++step, 0, 1).get().status();
        } else if (kind == "status") {
          switch (step++ % 3) {
            case 0: result = oracle->Status(job_id).status(); break;
            case 1: result = oracle->List().status(); break;
            default: result = job_id.empty() ? absl::OkStatus() : oracle->Events(job_id).status();
          }
        } else {
          auto s = augur::cli::ScrapeCluster(*cluster, 2.0);
          if (!s.oracle.ok) result = absl::UnavailableError("oracle metrics: " + s.oracle.error);
          for (auto& sh : s.shards)
            if (!sh.ok) result = absl::UnavailableError("shard metrics: " + sh.error);
        }
        st.Add(std::chrono::duration<double, std::milli>(Clock::now() - t0).count(), result);
      }
    });
  }

  auto rss_all = [&] {
    json r = {{"oracle", RssMb(cluster->oracle.pid)}};
    json shards = json::array();
    for (auto& s : cluster->shards) shards.push_back(RssMb(s.pid));
    r["shards"] = shards;
    return r;
  };
  std::vector<std::pair<double, json>> rss_series;
  rss_series.emplace_back(0.0, rss_all());
  printf("%s\n", json{{"bench", "load_rss"}, {"t_s", 0}, {"rss_mb", rss_series.back().second}}
                     .dump()
                     .c_str());
  fflush(stdout);
  const auto start = Clock::now();
  uint64_t total_calls = 0, total_errors = 0;
  for (double t = f.report_every; t <= f.seconds + 1e-9; t += f.report_every) {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(t)));
    for (auto& [kind, st] : stats) {
      std::vector<double> ms;
      uint64_t errors;
      std::string last_error;
      {
        std::lock_guard<std::mutex> l(st.mu);
        ms.swap(st.ms);
        errors = st.errors, st.errors = 0;
        last_error.swap(st.last_error);
      }
      total_calls += ms.size(), total_errors += errors;
      json line = {{"bench", "load"}, {"t_s", t}, {"kind", kind}, {"calls", ms.size()},
                   {"calls_per_s", static_cast<double>(ms.size()) / f.report_every},
                   {"errors", errors}, {"p50_ms", Percentile(ms, 0.5)},
                   {"p99_ms", Percentile(ms, 0.99)}};
      if (!last_error.empty()) line["last_error"] = last_error;
      printf("%s\n", line.dump().c_str());
    }
    rss_series.emplace_back(t, rss_all());
    printf("%s\n", json{{"bench", "load_rss"}, {"t_s", t}, {"rss_mb", rss_series.back().second}}
                       .dump()
                       .c_str());
    fflush(stdout);
  }
  stop = true;
  for (auto& th : threads) th.join();
  for (auto& a : admins) (void)a->DropJob().get();

  // Plateau: growth over the second half, against the RSS half way.
  const json& first = rss_series[std::min<size_t>(1, rss_series.size() - 1)].second;
  const json& half = rss_series[rss_series.size() / 2].second;
  const json& end = rss_series.back().second;
  auto growth = [](double a, double b) { return a > 0 ? (b - a) / a : 0.0; };
  json summary = {{"bench", "load_summary"}, {"clients", f.clients}, {"seconds", f.seconds},
                  {"mix", f.mix}, {"calls", total_calls}, {"errors", total_errors},
                  {"oracle_rss_mb", {first["oracle"], half["oracle"], end["oracle"]}},
                  {"oracle_growth_second_half",
                   growth(half["oracle"].get<double>(), end["oracle"].get<double>())}};
  json shard_growth = json::array(), shard_rss = json::array();
  for (size_t s = 0; s < end["shards"].size(); ++s) {
    shard_rss.push_back({first["shards"][s], half["shards"][s], end["shards"][s]});
    shard_growth.push_back(
        growth(half["shards"][s].get<double>(), end["shards"][s].get<double>()));
  }
  summary["shard_rss_mb"] = shard_rss;
  summary["shard_growth_second_half"] = shard_growth;
  printf("%s\n", summary.dump().c_str());
  return 0;
}
