// Trace-analyzer throughput for the oracle policy (the planner itself) and the analyzer's peak
// memory, as JSON lines. Peak RSS (getrusage) is per process, so run once per profile:
//   analyze_bench [--profile criteo-kaggle|criteo-1tb] [--samples N] [--batch B] [--workers W]
//                 [--capacity ROWS] [--lookahead L] [--dataset DIR (reuse instead of gen)]
// "ids_per_s" counts raw sample ids (B·W·26 per iteration); "keys_per_s" the deduplicated
// (worker, row) reads the planner consumes.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "cli/analyze/trace_analysis.h"
#include "common/data/dedup.h"
#include "common/data/synthetic.h"

using namespace augur;
namespace fs = std::filesystem;

static double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
static long PeakRssMb() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

int main(int argc, char** argv) {
  std::string profile = "criteo-kaggle", dataset;
  int64_t samples = 10000000, batch = 2048, capacity = 200000;
  int workers = 4, lookahead = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--profile") profile = v;
    if (a == "--samples") samples = std::atoll(v.c_str());
    if (a == "--batch") batch = std::atoll(v.c_str());
    if (a == "--workers") workers = std::atoi(v.c_str());
    if (a == "--capacity") capacity = std::atoll(v.c_str());
    if (a == "--lookahead") lookahead = std::atoi(v.c_str());
    if (a == "--dataset") dataset = v;
  }
  fs::path tmp;
  if (dataset.empty()) {
    tmp = fs::temp_directory_path() / ("augur-analyze-bench-" + std::to_string(getpid()));
    dataset = (tmp / "d").string();
    data::SyntheticOptions g;
    g.profile = *data::ParseSyntheticProfile(profile);
    g.samples = samples;
    g.seed = 1;
    double t0 = Now();
    auto m = data::GenerateDataset(g, dataset);
    if (!m.ok()) {
      std::fprintf(stderr, "analyze_bench: %s\n", std::string(m.status().message()).c_str());
      return 1;
    }
    std::printf("{\"bench\":\"gen\",\"profile\":\"%s\",\"samples\":%lld,\"seconds\":%.2f}\n",
                profile.c_str(), static_cast<long long>(samples), Now() - t0);
  }
  long rss_before = PeakRssMb();
  auto ds = data::Dataset::Open(dataset, {.sparse_only = true});
  if (!ds.ok()) return 1;
  uint64_t table_rows = 0;
  for (int f = 0; f < data::kNumSparse; ++f) table_rows += (*ds)->table_rows(f);
  data::BatchShape shape{batch, workers};
  auto stream = std::make_shared<std::unique_ptr<data::IterationReadsStream>>();
  analyze::Trace trace;
  trace.num_workers = workers;
  trace.reset = [&] { *stream = std::make_unique<data::IterationReadsStream>(**ds, shape); };
  trace.next = [stream](plan::IterationReads* r) { return (*stream)->Next(r); };
  analyze::AnalyzeOptions o;
  o.policies = {analyze::OracleAvailable() ? analyze::Policy::kOracle : analyze::Policy::kLru};
  o.capacities = {{static_cast<double>(capacity), false, std::to_string(capacity)}};
  o.lookahead = lookahead;
  double t0 = Now();
  auto r = analyze::RunTraceAnalysis(trace, o);
  double s = Now() - t0;
  if (!r.ok()) {
    std::fprintf(stderr, "analyze_bench: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  const auto& res = r->results[0];
  const double ids = static_cast<double>((*ds)->num_batches(shape)) * shape.global() * data::kNumSparse;
  std::printf("{\"bench\":\"analyze\",\"policy\":\"%s\",\"profile\":\"%s\",\"samples\":%lld,"
              "\"table_rows_total\":%llu,\"batch\":%lld,\"workers\":%d,\"capacity\":%lld,"
              "\"lookahead\":%d,\"hit_rate\":%.4f,\"seconds\":%.2f,\"ids_per_s\":%.0f,"
              "\"keys_per_s\":%.0f,\"peak_rss_mb_before\":%ld,\"peak_rss_mb\":%ld}\n",
              std::string(analyze::PolicyName(res.policy)).c_str(), profile.c_str(),
              static_cast<long long>((*ds)->num_rows()), static_cast<unsigned long long>(table_rows),
              static_cast<long long>(batch), workers, static_cast<long long>(capacity), lookahead,
              res.hit_rate, s, ids / s, res.accesses / s, rss_before, PeakRssMb());
  if (!tmp.empty()) fs::remove_all(tmp);
  return 0;
}
