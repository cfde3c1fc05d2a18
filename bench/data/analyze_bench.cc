// Trace-analyzer benchmark, as JSON lines, on synthetic data generated into a temp directory
// (removed afterwards; nothing is written into the repo):
//   {"bench":"analyze_policy",...}  throughput of each policy alone, one thread: ids_per_s counts
//        raw sample ids (B·W·26 per iteration) over the whole run (reading, dedup, interning, the
//        spill and its replay), by wall clock and by this process's CPU time (ids_per_cpu_s, the
//        steadier figure on a shared machine); sim_ids_per_s over the simulator's own time.
//   {"bench":"oracle_vs_batch_min",...}  the planner's hit ratio against the ceiling, over
//        capacities {2x the largest slice, 1%, 2%, 5%, 10%, 20% of the distinct rows} x lookahead.
//   {"bench":"analyze_memory",...}  peak RSS of the process (getrusage) after the policies (the
//        analyzer's own, dataset pages included) and after the table (the planner's windows).
//
//   analyze_bench [--profile criteo-kaggle|criteo-1tb] [--samples N] [--batch B] [--workers W]
//                 [--capacity 5%] [--lookaheads 50,200,1000] [--dataset DIR (reuse, no gen)]
//                 [--skip-table] [--skip-policies]
//   analyze_bench --synthetic-reads N [--universe U] [--batch B] [--workers W]
//        {"bench":"analyze_scale",...}: peak RSS on a generated trace of N reads (bounded memory)
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "cli/analyze/trace_analysis.h"
#include "common/data/dedup.h"
#include "common/data/synthetic.h"

using namespace augur;
namespace fs = std::filesystem;

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
// This process's CPU time: on a shared machine a steadier measure of one core's rate than wall.
double CpuNow() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
long PeakRssMb() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

struct Flags {
  std::string profile = "criteo-kaggle", dataset, capacity = "5%", lookaheads = "50,200,1000";
  // ~1,950 iterations: lookahead 1000 still sees only part of the trace.
  int64_t samples = 4000000, batch = 1024;
  int workers = 2;
  bool table = true, policies = true;
  int64_t synthetic_reads = 0;  // > 0: the bounded-memory run instead of everything else
  int64_t universe = 4000000;
};

Flags Parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--skip-table") f.table = false;
    else if (a == "--skip-policies") f.policies = false;
    else if (a == "--profile") f.profile = v, ++i;
    else if (a == "--samples") f.samples = std::atoll(v.c_str()), ++i;
    else if (a == "--batch") f.batch = std::atoll(v.c_str()), ++i;
    else if (a == "--workers") f.workers = std::atoi(v.c_str()), ++i;
    else if (a == "--capacity") f.capacity = v, ++i;
    else if (a == "--lookaheads") f.lookaheads = v, ++i;
    else if (a == "--dataset") f.dataset = v, ++i;
    else if (a == "--synthetic-reads") f.synthetic_reads = std::atoll(v.c_str()), ++i;
    else if (a == "--universe") f.universe = std::atoll(v.c_str()), ++i;
  }
  return f;
}

analyze::CapacitySpec RowsSpec(int64_t rows) {
  return {static_cast<double>(rows), false, std::to_string(rows)};
}

// Memory against trace length: a generated trace of `reads` unique (worker, row) reads over a fixed
// universe of rows (skewed to low rows), slices of ~B·26/3 keys, replayed through lru and
// batch-min at 5% of the universe. Distinct rows stop growing early, so if memory followed the
// reads, peak RSS would grow with `reads`; run it at two lengths, one process each.
int SyntheticScale(const Flags& f) {
  const int64_t slice = f.batch * 26 / 3;
  const int64_t iterations = f.synthetic_reads / (slice * f.workers);
  auto rng = std::make_shared<uint64_t>(1);
  auto t = std::make_shared<int64_t>(0);
  analyze::Trace trace;
  trace.num_workers = f.workers;
  trace.reset = [rng, t] { *rng = 1, *t = 0; };
  trace.next = [&, rng, t](plan::IterationReads* r) {
    if ((*t)++ >= iterations) return false;
    r->by_worker.resize(f.workers);
    for (auto& keys : r->by_worker) {
      keys.resize(slice);
      for (auto& k : keys) {
        uint64_t& x = *rng;  // xorshift64
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const double u = static_cast<double>(x >> 11) * 0x1.0p-53;
        const uint64_t row = static_cast<uint64_t>(f.universe * u * u * u);
        k = plan::MakeKey(static_cast<uint32_t>(row % data::kNumSparse), row);
      }
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    }
    return true;
  };
  analyze::AnalyzeOptions o;
  o.policies = {analyze::Policy::kLru, analyze::Policy::kBatchMin};
  o.capacities = {RowsSpec(f.universe / 20)};
  double t0 = Now(), c0 = CpuNow();
  auto r = analyze::RunTraceAnalysis(trace, o);
  if (!r.ok()) {
    std::fprintf(stderr, "analyze_bench: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  std::printf("{\"bench\":\"analyze_scale\",\"reads\":%lld,\"iterations\":%lld,\"workers\":%d,"
              "\"distinct_rows\":%lld,\"capacity\":%lld,\"lru\":%.4f,\"batch_min\":%.4f,"
              "\"seconds\":%.1f,\"cpu_seconds\":%.1f,\"peak_rss_mb\":%ld}\n",
              static_cast<long long>(r->reads), static_cast<long long>(r->iterations), f.workers,
              static_cast<long long>(r->distinct_keys), static_cast<long long>(f.universe / 20),
              r->results[0].hit_rate, r->results[1].hit_rate, Now() - t0, CpuNow() - c0,
              PeakRssMb());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f = Parse(argc, argv);
  if (f.synthetic_reads > 0) return SyntheticScale(f);
  fs::path tmp;
  if (f.dataset.empty()) {
    tmp = fs::temp_directory_path() / ("augur-analyze-bench-" + std::to_string(getpid()));
    f.dataset = (tmp / "d").string();
    data::SyntheticOptions g;
    g.profile = *data::ParseSyntheticProfile(f.profile);
    g.samples = f.samples;
    g.seed = 1;
    double t0 = Now();
    auto m = data::GenerateDataset(g, f.dataset);
    if (!m.ok()) {
      std::fprintf(stderr, "analyze_bench: %s\n", std::string(m.status().message()).c_str());
      return 1;
    }
    std::printf("{\"bench\":\"gen\",\"profile\":\"%s\",\"samples\":%lld,\"seconds\":%.2f}\n",
                f.profile.c_str(), static_cast<long long>(f.samples), Now() - t0);
  }
  auto ds = data::Dataset::Open(f.dataset, {.sparse_only = true});
  if (!ds.ok()) return 1;
  data::BatchShape shape{f.batch, f.workers};
  auto stream = std::make_shared<std::unique_ptr<data::IterationReadsStream>>();
  analyze::Trace trace;
  trace.num_workers = f.workers;
  trace.reset = [&] { *stream = std::make_unique<data::IterationReadsStream>(**ds, shape); };
  trace.next = [stream](plan::IterationReads* r) { return (*stream)->Next(r); };
  const double ids =
      static_cast<double>((*ds)->num_batches(shape)) * shape.global() * data::kNumSparse;
  auto fail = [&](const absl::Status& s) {
    std::fprintf(stderr, "analyze_bench: %s\n", std::string(s.message()).c_str());
    if (!tmp.empty()) fs::remove_all(tmp);
    return 1;
  };
  const char* common = "\"profile\":\"%s\",\"samples\":%lld,\"batch\":%lld,\"workers\":%d";
  auto print_common = [&] {
    std::printf(common, f.profile.c_str(), static_cast<long long>((*ds)->num_rows()),
                static_cast<long long>(f.batch), f.workers);
  };

  if (f.policies) {
    for (analyze::Policy p : {analyze::Policy::kLru, analyze::Policy::kLfu,
                              analyze::Policy::kStaticTopK, analyze::Policy::kBeladyMin,
                              analyze::Policy::kBatchMin}) {
      analyze::AnalyzeOptions o;
      o.policies = {p};
      auto caps = analyze::ParseCapacities(f.capacity);
      if (!caps.ok()) return fail(caps.status());
      o.capacities = {caps->front()};
      double t0 = Now(), c0 = CpuNow();
      auto r = analyze::RunTraceAnalysis(trace, o);
      double s = Now() - t0, cpu = CpuNow() - c0;
      if (!r.ok()) return fail(r.status());
      const auto& res = r->results[0];
      std::printf("{\"bench\":\"analyze_policy\",\"policy\":\"%s\",",
                  std::string(analyze::PolicyName(p)).c_str());
      print_common();
      std::printf(",\"capacity\":%lld,\"hit_rate\":%.4f,\"ids\":%.0f,\"keys\":%lld,\"seconds\":%.3f,"
                  "\"ids_per_s\":%.0f,\"cpu_seconds\":%.3f,\"ids_per_cpu_s\":%.0f,"
                  "\"sim_seconds\":%.3f,\"sim_ids_per_s\":%.0f,\"trace_seconds\":%.3f}\n",
                  static_cast<long long>(res.capacity), res.hit_rate, ids,
                  static_cast<long long>(res.accesses), s, ids / s, cpu, ids / cpu, res.seconds,
                  ids / res.seconds, r->trace_seconds);
      std::fflush(stdout);
    }
  }

  if (f.policies) {  // before the planner runs, whose window dominates the process's peak
    std::printf("{\"bench\":\"analyze_memory\",\"phase\":\"policies\",");
    print_common();
    std::printf(",\"peak_rss_mb\":%ld}\n", PeakRssMb());
  }
  if (f.table) {
    // One pass for batch-min at every capacity; the slice size comes from its report.
    analyze::AnalyzeOptions o;
    o.policies = {analyze::Policy::kBatchMin};
    o.capacities = {RowsSpec(1 << 30)};  // learns the largest slice and the distinct rows
    auto probe = analyze::RunTraceAnalysis(trace, o);
    if (!probe.ok()) return fail(probe.status());
    std::vector<analyze::CapacitySpec> caps = {RowsSpec(2 * probe->max_slice_keys)};
    caps.back().text = "2x_slice";
    for (const char* pct : {"1%", "2%", "5%", "10%", "20%"}) {
      caps.push_back(analyze::ParseCapacities(pct)->front());
    }
    for (const auto& cap : caps) {
      const int64_t rows =
          cap.percent ? static_cast<int64_t>(cap.value / 100.0 * probe->distinct_keys + 0.999999)
                      : static_cast<int64_t>(cap.value);
      o.policies = {analyze::Policy::kBatchMin};
      o.capacities = {cap};
      auto bm = analyze::RunTraceAnalysis(trace, o);
      for (absl::string_view l : absl::StrSplit(f.lookaheads, ',', absl::SkipEmpty())) {
        const int lookahead = std::atoi(std::string(l).c_str());
        std::printf("{\"bench\":\"oracle_vs_batch_min\",");
        print_common();
        std::printf(",\"capacity_spec\":\"%s\",\"capacity\":%lld,\"largest_slice\":%lld,"
                    "\"lookahead\":%d,",
                    cap.text.c_str(), static_cast<long long>(rows),
                    static_cast<long long>(probe->max_slice_keys), lookahead);
        if (!bm.ok()) {
          std::printf("\"error\":\"%s\"}\n", std::string(bm.status().message()).c_str());
          continue;
        }
        o.policies = {analyze::Policy::kOracle};
        o.lookahead = lookahead;
        double t0 = Now();
        auto orc = analyze::RunTraceAnalysis(trace, o);
        if (!orc.ok()) {
          std::printf("\"error\":\"%s\"}\n", std::string(orc.status().message()).c_str());
          continue;
        }
        const double ceiling = bm->results[0].hit_rate, oracle = orc->results[0].hit_rate;
        std::printf("\"oracle\":%.4f,\"batch_min\":%.4f,\"oracle_over_batch_min\":%.4f,"
                    "\"oracle_seconds\":%.2f}\n",
                    oracle, ceiling, ceiling > 0 ? oracle / ceiling : 0.0, Now() - t0);
        std::fflush(stdout);
      }
    }
  }
  std::printf("{\"bench\":\"analyze_memory\",\"phase\":\"all\",");
  print_common();
  std::printf(",\"peak_rss_mb\":%ld}\n", PeakRssMb());
  if (!tmp.empty()) fs::remove_all(tmp);
  return 0;
}
