// augur-oracle: the job manager and lookahead planner service.
//
//   augur-oracle --shards 127.0.0.1:7000,127.0.0.1:7001 [--job JOB.yaml] [--exit-when-idle]
//   augur-oracle --plan-only --job JOB.yaml     plan the whole job offline, print JSON stats
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/limits.h"
#include "common/data/dataset.h"
#include "common/data/dedup.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/metrics_http.h"
#include "common/grpc_security.h"
#include "common/grpc_security_flags.h"
#include "oracle_cacher/job_host.h"
#include "oracle_cacher/job_runner.h"
#include "oracle_cacher/oracle_service.h"
#include "oracle_cacher/planner.h"
#include "oracle_cacher/rocksdb_job_state_store.h"
#include "oracle_cacher/shard_tables.h"
#include "server/client/shard_client.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// Plans a job offline over its dataset: the same planner the service runs, timed.
int PlanOnly(const augur::job::JobSpec& spec, int planner_threads) {
  using namespace augur;
  data::DatasetOpenOptions o;
  o.sparse_only = true;
  auto ds = data::Dataset::Open(spec.data.train, o);
  if (!ds.ok()) {
    std::cerr << "augur-oracle: " << ds.status().message() << "\n";
    return 1;
  }
  data::BatchShape shape{spec.training.batch_size, spec.cluster.workers};
  int64_t batches = (*ds)->num_batches(shape);
  if (spec.training.iterations > 0) batches = std::min(batches, spec.training.iterations);
  planner::PlannerOptions po =
      oracle::PlannerOptionsOf(spec, oracle::kWritebackAckHorizon, planner_threads,
                               (*ds)->manifest().max_ids_per_sample());
  data::IterationReadsStream stream(**ds, shape, batches);
  auto t0 = std::chrono::steady_clock::now();
  auto stats = planner::RunPlanner(po, [&](plan::IterationReads* r) { return stream.Next(r); });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (stats.ok() && !stream.status().ok()) stats = stream.status();
  if (!stats.ok()) {
    std::cerr << "augur-oracle: " << stats.status().message() << "\n";
    return 1;
  }
  nlohmann::json j = {{"policy", spec.cache.policy},
                      {"workers", spec.cluster.workers},
                      {"batch", spec.training.batch_size},
                      {"capacity", spec.cache.capacity},
                      {"lookahead", spec.cache.lookahead},
                      {"planner_threads", po.threads},
                      {"iterations", stats->iterations},
                      {"samples_per_s", double(stats->iterations * shape.global()) / secs},
                      {"ids_per_s", double(stats->accesses) / secs},
                      {"hit_ratio", stats->hit_ratio()},
                      {"fills", stats->fills},
                      {"transfers", stats->transfers},
                      {"late_fills", stats->late_fills},
                      {"shared_rows_per_iteration",
                       stats->iterations ? double(stats->shared_rows) / stats->iterations : 0.0},
                      {"peak_window_keys", stats->peak_window_keys},
                      {"seconds", secs}};
  std::cout << j.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"augur-oracle: plans every worker's embedding cache ahead of training"};
  std::string listen = "127.0.0.1:7100", metrics_listen = "127.0.0.1:0", job_file, log_level = "info";
  std::string work_dir, state_dir;
  std::vector<std::string> shards;
  bool plan_only = false, exit_when_idle = false;
  int worker_timeout_s = 120, planner_threads = 1;
  app.add_option("--listen", listen, "gRPC address (host:port; port 0 picks one)");
  app.add_option("--metrics-listen", metrics_listen, "Prometheus /metrics address ('' = off)");
  app.add_option("--shards", shards, "shard endpoints, index = shard index")->delimiter(',');
  app.add_option("--job", job_file, "a job spec (YAML) to run at start");
  app.add_flag("--plan-only", plan_only, "plan --job offline and print JSON statistics");
  augur::TransportSecurity security;
  augur::AddTransportSecurityFlags(&app, &security);
  app.add_flag("--exit-when-idle", exit_when_idle, "exit once every submitted job has ended");
  app.add_option("--worker-timeout", worker_timeout_s, "seconds of worker silence that fail a job");
  app.add_option("--state-dir", state_dir,
                 "keep job specs, states, progress, checkpoint lists, models and the job-id "
                 "counter here (an embedded RocksDB), so a restarted oracle knows every job; "
                 "default: in memory only");
  app.add_option("--work-dir", work_dir, "where Criteo TSV inputs of jobs are converted (default: a temp dir)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  app.add_option("--planner-threads", planner_threads,
                 "threads each job's planner uses, each planning a share of the key space in a "
                 "share of every cache (used when the cache holds >= 2 slices of rows)")
      ->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  augur::InitLogging("oracle", log_level);

  std::optional<augur::job::JobSpec> spec;
  if (!job_file.empty()) {
    auto s = augur::job::LoadJobSpec(job_file);
    if (!s.ok()) {
      std::cerr << "augur-oracle: " << s.status().message() << "\n";
      return 2;
    }
    spec = *s;
  }
  if (plan_only) {
    if (!spec) {
      std::cerr << "augur-oracle: --plan-only needs --job\n";
      return 2;
    }
    return PlanOnly(*spec, planner_threads);
  }

  augur::MetricsRegistry metrics;
  augur::MetricsHttpServer metrics_server(&metrics);
  if (!metrics_listen.empty()) {
    auto port = metrics_server.Start(metrics_listen, security);
    if (!port.ok()) {
      std::cerr << "augur-oracle: " << port.status().message() << "\n";
      return 1;
    }
    spdlog::info("augur-oracle metrics on {}://{}:{}/metrics", security.serves_tls() ? "https" : "http", metrics_listen.substr(0, metrics_listen.rfind(':')), *port);
  }

  auto server_credentials = augur::MakeServerCredentials(security);
  auto shard_credentials = augur::MakeChannelCredentials(security);
  for (const auto* st : {&server_credentials.status(), &shard_credentials.status()}) {
    if (!st->ok()) {
      std::cerr << "augur-oracle: " << st->message() << "\n";
      return 2;
    }
  }
  augur::shard::ShardClientOptions shard_options;
  shard_options.credentials = *shard_credentials;
  augur::oracle::JobRunnerOptions ro;
  ro.metrics = &metrics;
  ro.worker_timeout = absl::Seconds(worker_timeout_s);
  ro.planner_threads = planner_threads;
  std::unique_ptr<augur::oracle::JobHost> host_ptr;
  if (state_dir.empty()) {
    host_ptr = std::make_unique<augur::oracle::JobHost>(augur::oracle::NewShardTables(shard_options),
                                                        ro, shards, work_dir);
  } else {
    auto state = augur::oracle::OpenRocksJobStateStore(state_dir);
    absl::StatusOr<std::unique_ptr<augur::oracle::JobHost>> recovered =
        state.ok() ? augur::oracle::JobHost::Recover(augur::oracle::NewShardTables(shard_options),
                                                      ro, shards, work_dir, std::move(*state))
                   : absl::StatusOr<std::unique_ptr<augur::oracle::JobHost>>(state.status());
    if (!recovered.ok()) {
      std::cerr << "augur-oracle: --state-dir " << state_dir << ": "
                << recovered.status().message() << "\n";
      return 1;
    }
    host_ptr = std::move(*recovered);
    spdlog::info("augur-oracle state dir {} ({} job(s) recovered)", state_dir,
                 host_ptr->List().size());
  }
  augur::oracle::JobHost& host = *host_ptr;
  augur::oracle::OracleServiceImpl service(&host);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // never share a port silently
  builder.AddListeningPort(listen, *server_credentials, &port);
  builder.RegisterService(&service);
  // Job specs, progress and one job's dense model (docs/limits.md); plans go out in batches of
  // a few MiB.
  builder.SetMaxReceiveMessageSize(augur::kOracleMaxMessageBytes);
  builder.SetMaxSendMessageSize(augur::kOracleMaxMessageBytes);
  auto server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::cerr << "augur-oracle: cannot listen on " << listen << " (address in use?)\n";
    return 1;
  }
  auto colon = listen.rfind(':');
  spdlog::info("augur-oracle listening on {}:{}", listen.substr(0, colon), port);

  // With a state dir, --job is submitted on the first start only: a restarted oracle (a pod
  // restarted by Kubernetes) finds it in its state instead of running it a second time.
  if (spec && !state_dir.empty() && !host.List().empty()) {
    spdlog::info("--job {}: not submitted again, the state dir already holds jobs", job_file);
    spec.reset();
  }
  if (spec) {
    auto id = host.Submit(*spec);
    if (!id.ok()) {
      std::cerr << "augur-oracle: " << id.status().message() << "\n";
      return 2;
    }
    spdlog::info("submitted {} from {}", *id, job_file);
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!g_stop) {
    if (exit_when_idle && host.WaitIdle(absl::Milliseconds(200))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  int rc = 0;
  for (auto& s : host.List())
    if (s.state == augur::oracle::JobState::kFailed) rc = 3;
  // Give workers a moment to read their final acks before the server goes away.
  service.BeginShutdown();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return rc;
}
