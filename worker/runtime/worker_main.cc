// augur-worker: registers with the oracle, trains its slice of each job, and waits for the next.
//
//   augur-worker --oracle 127.0.0.1:7100 [--worker-index N] [--exit-after-job]
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/grpc_security.h"
#include "common/grpc_security_flags.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/metrics_http.h"
#include "worker/runtime/worker_runtime.h"

int main(int argc, char** argv) {
  CLI::App app{"augur-worker: trains DLRM slices on a plan-driven embedding cache"};
  augur::worker::WorkerOptions o;
  std::string metrics_listen = "127.0.0.1:0", log_level = "info";
  app.add_option("--oracle", o.oracle, "oracle address host:port")->required();
  app.add_option("--worker-index", o.worker_index, "index to register as (-1: any)");
  app.add_option("--metrics-listen", metrics_listen, "Prometheus /metrics address ('' = off)");
  app.add_option("--hostname", o.collective_host, "address peers reach this worker's collective on");
  app.add_option("--output-dir", o.output_dir, "worker 0 writes each job's dense weights under it");
  app.add_option("--register-timeout", o.register_timeout_s, "seconds to wait for a job");
  app.add_flag("--exit-after-job", o.exit_after_job, "exit after one job");
  app.add_option("--exit-when-stuck", o.exit_when_stuck_s,
                 "seconds after its job ended (failed, or the oracle went away) that a worker "
                 "still blocked in a collective exits, for its supervisor to restart it "
                 "(0 = wait for the collective's timeout)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--cuda-device", o.cuda_device,
                 "CUDA device ordinal for jobs with training.backend cuda (one per worker)")
      ->check(CLI::Range(0, 1023));
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  augur::TransportSecurity security;
  augur::AddTransportSecurityFlags(&app, &security);  // dials gRPC, serves /metrics
  CLI11_PARSE(app, argc, argv);
  augur::InitLogging("worker", log_level);
  auto credentials = augur::MakeChannelCredentials(security);
  if (!credentials.ok()) {
    std::cerr << "augur-worker: " << credentials.status().message() << "\n";
    return 2;
  }
  o.credentials = *credentials;

  augur::MetricsRegistry metrics;
  augur::MetricsHttpServer metrics_server(&metrics);
  if (!metrics_listen.empty()) {
    auto port = metrics_server.Start(metrics_listen, security);
    if (!port.ok()) {
      std::cerr << "augur-worker: " << port.status().message() << "\n";
      return 1;
    }
    spdlog::info("augur-worker metrics on {}://{}:{}/metrics", security.serves_tls() ? "https" : "http", metrics_listen.substr(0, metrics_listen.rfind(':')), *port);
  }
  o.metrics = &metrics;
  auto st = augur::worker::RunWorker(o);
  if (!st.ok()) {
    std::cerr << "augur-worker: " << st.message() << "\n";
    return st.code() == absl::StatusCode::kCancelled ? 0 : 1;
  }
  return 0;
}
