// e2e_bench: waits for a job on a running oracle to end and prints its final JobStatus as one
// JSON line (the end-to-end benchmark's measurement; bench/e2e/run.sh starts the cluster).
//
//   e2e_bench --oracle 10.231.1.2:7100 [--job-id job-1] [--timeout 600] [--interval-ms 50]
//             [--set policy=oracle --set link_rate=\"20mbit\" ...]
//
// It polls OracleService.JobStatus every --interval-ms and reports the first status it sees in
// a final state. The oracle's elapsed_s (and so samples_per_s) keeps counting after the job
// ended, so the poll interval bounds the error: 50 ms on a run of seconds.
// With --samples-per-iteration it also splits the run at the first poll past --warmup-fraction
// of the iterations: warmup_samples_per_s before it, steady_samples_per_s after (from the
// oracle's elapsed_s and the slowest worker's iteration at both polls).
// Exit: 0 SUCCEEDED, 3 FAILED / CANCELLED, 4 timed out, 2 bad flags.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "proto/oracle.grpc.pb.h"

namespace v1 = augur::oracle::v1;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  CLI::App app{"e2e_bench: wait for an augur job to end, print its status as one JSON line"};
  std::string oracle, job_id;
  double timeout_s = 600;
  int interval_ms = 50;
  bool progress = false;
  int64_t samples_per_iteration = 0;
  double warmup_fraction = 0.1;
  std::vector<std::string> sets;
  app.add_option("--oracle", oracle, "oracle gRPC address host:port")->required();
  app.add_option("--job-id", job_id, "job to wait for (default: the current or last job)");
  app.add_option("--timeout", timeout_s, "seconds to wait for the job to end");
  app.add_option("--interval-ms", interval_ms, "poll interval");
  app.add_option("--set", sets, "key=value added to the JSON (value parsed as JSON when it is)");
  app.add_flag("--progress", progress, "print a progress line to stderr every second");
  app.add_option("--samples-per-iteration", samples_per_iteration,
                 "batch x workers: enables the warm-up / steady-state split");
  app.add_option("--warmup-fraction", warmup_fraction, "share of iterations counted as warm-up");
  CLI11_PARSE(app, argc, argv);

  nlohmann::json out = nlohmann::json::object();
  for (const auto& kv : sets) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      std::cerr << "e2e_bench: --set wants key=value, got '" << kv << "'\n";
      return 2;
    }
    std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    auto parsed = nlohmann::json::parse(v, nullptr, /*allow_exceptions=*/false);
    out[k] = parsed.is_discarded() ? nlohmann::json(v) : parsed;
  }

  auto channel = grpc::CreateChannel(oracle, grpc::InsecureChannelCredentials());
  auto stub = v1::OracleService::NewStub(channel);
  const auto t0 = Clock::now();
  auto last_print = t0;
  std::string last_error;
  v1::JobStatusResponse s;
  bool final = false;
  int64_t split_iteration = -1;  // the slowest worker's iteration at the warm-up split
  double split_elapsed = 0;
  while (!final) {
    double waited = std::chrono::duration<double>(Clock::now() - t0).count();
    if (waited > timeout_s) break;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::JobStatusRequest req;
    req.set_job_id(job_id);
    v1::JobStatusResponse r;
    grpc::Status st = stub->JobStatus(&ctx, req, &r);
    if (st.ok()) {
      s = r;
      final = r.state() == "SUCCEEDED" || r.state() == "FAILED" || r.state() == "CANCELLED";
      if (split_iteration < 0 && !final && r.iterations() > 0 &&
          static_cast<double>(r.iteration()) >= warmup_fraction * static_cast<double>(r.iterations())) {
        split_iteration = r.iteration();
        split_elapsed = r.elapsed_s();
      }
      if (progress && Clock::now() - last_print > std::chrono::seconds(1)) {
        last_print = Clock::now();
        std::cerr << "e2e_bench: " << r.job_id() << " " << r.state() << " " << r.iteration() << "/"
                  << r.iterations() << " " << static_cast<int64_t>(r.samples_per_s())
                  << " samples/s, stall " << r.stall_fraction() << "\n";
      }
    } else {
      last_error = st.error_message();
    }
    if (!final) std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  if (!final) {
    out["state"] = s.state().empty() ? "UNKNOWN" : s.state();
    out["error"] = "timed out after " + std::to_string(timeout_s) + " s" +
                   (last_error.empty() ? "" : " (last error: " + last_error + ")");
    out["iteration"] = s.iteration();
    out["iterations"] = s.iterations();
    std::cout << out.dump() << std::endl;
    return 4;
  }
  out["state"] = s.state();
  if (!s.reason().empty()) out["reason"] = s.reason();
  out["job_id"] = s.job_id();
  out["samples_per_s"] = s.samples_per_s();
  out["stall_fraction"] = s.stall_fraction();
  out["hit_ratio"] = s.hit_ratio();
  out["planned_hit_ratio"] = s.planned_hit_ratio();
  out["rows_fetched"] = s.rows_fetched();
  out["bytes_fetched"] = s.bytes_fetched();
  out["iterations"] = s.iteration();
  out["elapsed_s"] = s.elapsed_s();
  out["loss"] = s.loss();
  if (s.has_eval()) {
    out["eval_auc"] = s.eval_auc();
    out["eval_logloss"] = s.eval_logloss();
  }
  out["workers"] = s.workers();
  if (samples_per_iteration > 0 && split_iteration > 0 && s.elapsed_s() > split_elapsed) {
    out["warmup_iterations"] = split_iteration;
    out["warmup_samples_per_s"] =
        static_cast<double>(split_iteration * samples_per_iteration) / split_elapsed;
    out["steady_samples_per_s"] =
        static_cast<double>((s.iteration() - split_iteration) * samples_per_iteration) /
        (s.elapsed_s() - split_elapsed);
  }
  std::cout << out.dump() << std::endl;
  return s.state() == "SUCCEEDED" ? 0 : 3;
}
