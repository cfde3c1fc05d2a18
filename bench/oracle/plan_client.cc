// W plan-consuming workers that train nothing: each registers with the running job on a real
// augur-oracle, streams its plans over gRPC and reports progress as if it had trained them, so
// the whole service path (data reading, planning, plan encoding, gRPC streaming, flow control)
// runs at its own pace. Prints one JSON line: samples/s from this program's start (run it right
// after submitting the job: the oracle plans ahead from the moment the job starts) to the last
// plan of every worker. Run by bench/oracle/service_run.sh.
//
//   plan_client --oracle HOST:PORT --workers W [--report-every N]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/job/job_spec.h"
#include "worker/runtime/oracle_connection.h"

using namespace augur;

int main(int argc, char** argv) {
  std::string oracle;
  int workers = 1, report_every = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--oracle") oracle = v;
    else if (a == "--workers") workers = std::atoi(v.c_str());
    else if (a == "--report-every") report_every = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "plan_client: unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  if (oracle.empty() || workers < 1 || report_every < 1) {
    std::fprintf(stderr, "usage: plan_client --oracle HOST:PORT --workers W [--report-every N]\n");
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  std::vector<Clock::time_point> first(workers), last(workers);
  std::vector<std::string> errors(workers);
  std::vector<int64_t> samples(workers, 0), plan_entries(workers, 0);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      worker::OracleConnection conn(oracle);
      auto job = conn.Register(w, absl::Seconds(60));
      if (!job.ok()) {
        errors[w] = std::string(job.status().message());
        return;
      }
      auto spec = job::ParseJobSpec(job->job_yaml);
      if (!spec.ok()) {
        errors[w] = std::string(spec.status().message());
        return;
      }
      const int64_t B = spec->training.batch_size;
      conn.StartPlanStream(job->job_id, w);
      int64_t reported = 0;
      for (int64_t i = 0; i < job->iterations; ++i) {
        auto plan = conn.NextPlan(i, absl::Seconds(120));
        if (!plan.ok()) {
          errors[w] = "plan " + std::to_string(i) + ": " + std::string(plan.status().message());
          return;
        }
        if (i == 0) first[w] = Clock::now();
        plan_entries[w] += static_cast<int64_t>(plan->fills.size() + plan->evictions.size());
        const bool end = i + 1 == job->iterations;
        if ((i + 1) % report_every == 0 || end) {
          worker::ProgressUpdate u;
          u.completed = i + 1;
          u.samples = B * (i + 1 - reported);
          u.loss_sum = 0.5 * static_cast<double>(i + 1 - reported);
          u.done = end;
          reported = i + 1;
          auto r = conn.Report(job->job_id, w, u);
          if (!r.ok()) {
            errors[w] = "report: " + std::string(r.status().message());
            return;
          }
        }
      }
      last[w] = Clock::now();
      samples[w] = B * job->iterations;
    });
  }
  for (auto& t : threads) t.join();
  for (int w = 0; w < workers; ++w)
    if (!errors[w].empty()) {
      std::fprintf(stderr, "plan_client: worker %d: %s\n", w, errors[w].c_str());
      return 1;
    }
  Clock::time_point t0 = first[0], t1 = last[0];  // first plan .. last plan
  int64_t total = 0, entries = 0;
  for (int w = 0; w < workers; ++w) {
    t0 = std::min(t0, first[w]);
    t1 = std::max(t1, last[w]);
    total += samples[w];
    entries += plan_entries[w];
  }
  const double secs = std::chrono::duration<double>(t1 - start).count();
  const double streaming = std::chrono::duration<double>(t1 - t0).count();
  std::printf("{\"bench\":\"plan_client\",\"workers\":%d,\"samples\":%lld,\"seconds\":%.3f,"
              "\"samples_per_s\":%.0f,\"first_plan_seconds\":%.3f,\"plan_entries\":%lld}\n",
              workers, static_cast<long long>(total), secs, double(total) / secs, secs - streaming,
              static_cast<long long>(entries));
  return 0;
}
