// augur-shard: one embedding shard. Opens its stores — the default namespace (optionally seeded
// from a checkpoint) and one per job under <data dir>/jobs/ (server/shard_jobs.h) — serves
// ShardService and the Prometheus endpoint, and exits cleanly on SIGINT / SIGTERM.
// Startup failures (bad flags, data dir locked by another server, port in use) exit non-zero
// with one error line.
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "common/grpc_security.h"
#include "common/grpc_security_flags.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/metrics_http.h"
#include "server/shard_core.h"
#include "server/shard_jobs.h"
#include "server/shard_server.h"
#include "server/shard_store.h"

namespace {

struct Flags {
  std::string listen = "127.0.0.1:7000";
  std::string data_dir;
  std::string profile = "ssd";
  uint32_t shard_index = 0;
  uint32_t num_shards = 1;
  std::string metrics_listen = "127.0.0.1:0";
  size_t block_cache_mb = 0;  // 0: the profile's (DefaultProfileMemory)
  uint64_t max_request_rows = uint64_t{1} << 20;
  size_t max_jobs = 1024;
  size_t write_buffer_mb = 0;
  std::string from_checkpoint;
  bool sync_writes = false;
  int threads = 8;
  double emulate_link_bytes_per_s = 0;
  std::string log_level = "info";
  augur::TransportSecurity security;
};

int Fail(const absl::Status& s) {
  spdlog::error("augur-shard failed to start: {}", s.ToString());
  return 1;
}

int Serve(const Flags& f) {
  auto profile = augur::shard::ParseStoreProfile(f.profile);
  if (!profile.ok()) return Fail(profile.status());
  augur::shard::StoreOptions so;
  so.profile = *profile;
  so.path = f.data_dir.empty() && so.profile == augur::shard::StoreProfile::kMemory
                ? "/augur-shard"
                : f.data_dir;
  if (so.path.empty()) return Fail(absl::InvalidArgumentError("--data-dir is required"));
  auto memory = augur::shard::DefaultProfileMemory(so.profile);
  so.block_cache_mb = f.block_cache_mb ? f.block_cache_mb : memory.block_cache_mb;
  so.sync_writes = f.sync_writes;
  so.from_checkpoint = f.from_checkpoint;

  // Declared first so it outlives everything that reports into it.
  augur::MetricsRegistry metrics;
  augur::shard::ShardJobsOptions jo;
  jo.store = so;
  jo.core.shard_index = f.shard_index;
  jo.core.num_shards = f.num_shards;
  jo.core.max_request_rows = f.max_request_rows;
  jo.core.metrics = &metrics;
  jo.max_jobs = f.max_jobs;
  jo.write_buffer_mb = f.write_buffer_mb ? f.write_buffer_mb : memory.write_buffer_mb;
  auto jobs = augur::shard::ShardJobs::Open(jo);
  if (!jobs.ok()) return Fail(jobs.status());

  augur::MetricsHttpServer metrics_http(&metrics);
  if (f.metrics_listen != "off") {
    auto port = metrics_http.Start(f.metrics_listen, f.security);
    if (!port.ok()) return Fail(port.status());
    auto hp = augur::SplitHostPort(f.metrics_listen);
    spdlog::info("augur-shard metrics on {}:{}", hp->first, *port);
  }
  augur::shard::ShardServerOptions sopt;
  sopt.listen = f.listen;
  sopt.worker_threads = f.threads;
  sopt.emulated_link_bytes_per_s = f.emulate_link_bytes_per_s;
  auto credentials = augur::MakeServerCredentials(f.security);
  if (!credentials.ok()) return Fail(credentials.status());
  sopt.credentials = *credentials;
  auto server = augur::shard::ShardServer::Start(jobs->get(), &metrics, sopt);
  if (!server.ok()) return Fail(server.status());
  auto hp = augur::SplitHostPort(f.listen);
  spdlog::info("augur-shard shard {}/{} profile={} data-dir={} block-cache={} MB memtables={} MB",
               f.shard_index, f.num_shards, f.profile, so.path, so.block_cache_mb,
               jo.write_buffer_mb);
  spdlog::info("augur-shard listening on {}:{}", hp.ok() ? hp->first : f.listen,
               (*server)->port());

  // Signals were blocked in main before any thread started; wait for one here.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("augur-shard: signal {}, shutting down", sig);
  (*server)->Shutdown();
  metrics_http.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the shutdown signals before any thread exists, so every thread inherits the mask and
  // Serve() receives them with sigwait.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  Flags f;
  CLI::App app{"augur-shard: one partition of every embedding table, in RocksDB"};
  app.add_option("--listen", f.listen, "gRPC address host:port (port 0 picks a free one)")
      ->capture_default_str();
  app.add_option("--data-dir", f.data_dir, "RocksDB data directory (required unless memory)");
  augur::AddTransportSecurityFlags(&app, &f.security);
  app.add_option("--profile", f.profile, "storage profile: memory | ssd | pmem")
      ->capture_default_str();
  app.add_option("--shard-index", f.shard_index, "this shard's index")->capture_default_str();
  app.add_option("--num-shards", f.num_shards, "number of shards in the job")
      ->capture_default_str();
  app.add_option("--metrics-listen", f.metrics_listen, "Prometheus endpoint host:port, or off")
      ->capture_default_str();
  app.add_option("--block-cache-mb", f.block_cache_mb,
                 "RocksDB block cache shared by all jobs, MB (0: the profile's: memory 16, "
                 "ssd 256; pmem has none)")
      ->capture_default_str();
  app.add_option("--max-request-rows", f.max_request_rows,
                 "rows per request above which it is RESOURCE_EXHAUSTED")
      ->capture_default_str();
  app.add_option("--max-jobs", f.max_jobs,
                 "jobs whose tables this shard keeps at once (augur delete frees one)")
      ->capture_default_str();
  app.add_option("--write-buffer-mb", f.write_buffer_mb,
                 "RocksDB memtables of all jobs together, MB (0: the profile's: memory 64, "
                 "ssd and pmem 256)")
      ->capture_default_str();
  app.add_option("--from-checkpoint", f.from_checkpoint,
                 "copy this checkpoint into the (empty) data dir before opening");
  app.add_flag("--sync-writes", f.sync_writes,
               "fsync every write (survive power loss, not just a process crash)");
  app.add_option("--emulate-link-bytes-per-s", f.emulate_link_bytes_per_s,
                 "test only: answer every call no sooner than its bytes would take over one "
                 "shared link of this rate (0: off)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--threads", f.threads, "worker threads running requests")
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, "trace|debug|info|warn|error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  augur::InitLogging("augur-shard", f.log_level);
  return Serve(f);
}
