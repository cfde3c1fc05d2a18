// Planner throughput on one core, as JSON lines: the plan-only path of augur-oracle without the
// data reading (the reads are deduplicated into memory first, so the figure is the planner's).
//
//   planner_bench [--profile criteo-kaggle|criteo-1tb] [--samples N] [--batch B]
//                 [--workers 1,4,8] [--capacity-pct 5] [--lookahead 200] [--prefetch 8]
//                 [--dataset DIR (reuse instead of gen)] [--repeat 3] [--threads 1,2]
//                 [--epochs 1]
//
// One line per (workers, threads, repeat): samples/s, keys/s (deduplicated (worker, row) reads), hit
// ratio, fills, late fills, peak window keys, and `plan_hash`, a hash of every plan the planner
// emitted: a refactor that must not change plans shows the same hash before and after.
// Capacity is a percentage of the trace's distinct rows (over all workers). --epochs replays the
// trace that many times, as a job with `epochs: N` reads its data: rows come back every epoch and
// their use counts keep growing (a regime one pass over the data never shows).
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/data/dedup.h"
#include "common/data/synthetic.h"
#include "oracle_cacher/planner.h"

using namespace augur;
namespace fs = std::filesystem;

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
long RssMb() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

// FNV-1a over the plan's fields, in emission order.
struct PlanHash {
  uint64_t h = 1469598103934665603ull;
  void Mix(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  void Add(const plan::IterationPlan& p) {
    Mix(static_cast<uint64_t>(p.iteration));
    for (const auto& w : p.workers) {
      Mix(w.fills.size());
      for (const auto& f : w.fills) {
        Mix(f.key), Mix(static_cast<uint64_t>(f.slot)), Mix(static_cast<uint64_t>(f.need_at));
        Mix(static_cast<uint64_t>(f.min_version));
      }
      Mix(w.evictions.size());
      for (const auto& e : w.evictions) Mix(e.key), Mix(static_cast<uint64_t>(e.slot)), Mix(e.write_back);
    }
    Mix(p.shared.size());
    for (auto k : p.shared) Mix(k);
    Mix(p.transfers.size());
    for (const auto& t : p.transfers) {
      Mix(t.key), Mix(static_cast<uint64_t>(t.src_worker)), Mix(static_cast<uint64_t>(t.src_slot));
      Mix(static_cast<uint64_t>(t.dst_worker)), Mix(static_cast<uint64_t>(t.dst_slot));
    }
  }
};

struct Trace {
  std::vector<plan::IterationReads> iterations;
  int64_t distinct = 0;
  int64_t max_slice = 0;
};

Trace ReadTrace(const data::Dataset& ds, int64_t batch, int workers) {
  Trace t;
  data::BatchShape shape{batch, workers};
  data::IterationReadsStream stream(ds, shape);
  absl::flat_hash_set<plan::RowKey> all;
  plan::IterationReads r;
  while (stream.Next(&r)) {
    for (const auto& keys : r.by_worker) {
      t.max_slice = std::max<int64_t>(t.max_slice, keys.size());
      all.insert(keys.begin(), keys.end());
    }
    t.iterations.push_back(std::move(r));
    r = plan::IterationReads{};
  }
  t.distinct = static_cast<int64_t>(all.size());
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::string profile = "criteo-kaggle", dataset, workers_list = "1,4,8", threads_list = "1";
  int64_t samples = 8000000, batch = 4096;
  double capacity_pct = 5;
  int lookahead = 200, prefetch = 8, repeat = 3, epochs = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--profile") profile = v;
    else if (a == "--epochs") epochs = std::atoi(v.c_str());
    else if (a == "--samples") samples = std::atoll(v.c_str());
    else if (a == "--batch") batch = std::atoll(v.c_str());
    else if (a == "--workers") workers_list = v;
    else if (a == "--capacity-pct") capacity_pct = std::atof(v.c_str());
    else if (a == "--lookahead") lookahead = std::atoi(v.c_str());
    else if (a == "--prefetch") prefetch = std::atoi(v.c_str());
    else if (a == "--dataset") dataset = v;
    else if (a == "--repeat") repeat = std::atoi(v.c_str());
    else if (a == "--threads") threads_list = v;
    else {
      std::fprintf(stderr, "planner_bench: unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  if (epochs < 1) {
    std::fprintf(stderr, "planner_bench: --epochs must be >= 1\n");
    return 2;
  }
  fs::path tmp;
  if (dataset.empty()) {
    tmp = fs::temp_directory_path() / ("augur-planner-bench-" + std::to_string(getpid()));
    dataset = (tmp / "d").string();
    data::SyntheticOptions g;
    auto p = data::ParseSyntheticProfile(profile);
    if (!p.ok()) {
      std::fprintf(stderr, "planner_bench: %s\n", std::string(p.status().message()).c_str());
      return 2;
    }
    g.profile = *p;
    g.samples = samples;
    g.seed = 1;
    auto m = data::GenerateDataset(g, dataset);
    if (!m.ok()) {
      std::fprintf(stderr, "planner_bench: %s\n", std::string(m.status().message()).c_str());
      return 1;
    }
  }
  data::DatasetOpenOptions open;
  open.sparse_only = true;
  auto ds = data::Dataset::Open(dataset, open);
  if (!ds.ok()) {
    std::fprintf(stderr, "planner_bench: %s\n", std::string(ds.status().message()).c_str());
    return 1;
  }
  std::vector<std::string> worker_counts = absl::StrSplit(workers_list, ',');
  for (const std::string& wtext : worker_counts) {
    int workers = 0;
    if (!absl::SimpleAtoi(wtext, &workers) || workers < 1) {
      std::fprintf(stderr, "planner_bench: bad --workers entry '%s'\n", wtext.c_str());
      return 2;
    }
    double t0 = Now();
    Trace trace = ReadTrace(**ds, batch, workers);
    if (trace.iterations.empty()) {
      std::fprintf(stderr, "planner_bench: the dataset holds no full batch of %lld x %d\n",
                   static_cast<long long>(batch), workers);
      return 1;
    }
    const double read_s = Now() - t0;
    planner::PlannerOptions po;
    po.num_workers = workers;
    po.lookahead = lookahead;
    po.prefetch_distance = prefetch;
    po.capacity = std::max<int64_t>(static_cast<int64_t>(trace.distinct * capacity_pct / 100),
                                    trace.max_slice);
    std::vector<int> thread_counts;
    for (absl::string_view t : absl::StrSplit(threads_list, ',')) {
      int n = 0;
      if (!absl::SimpleAtoi(t, &n) || n < 1) {
        std::fprintf(stderr, "planner_bench: bad --threads entry\n");
        return 2;
      }
      thread_counts.push_back(n);
    }
    // Repeats interleave the thread counts, so noise on this shared machine hits them alike.
    for (int rep = 0; rep < repeat; ++rep)
    for (int threads : thread_counts) {
      po.threads = threads;
      auto planner = planner::Planner::Create(po);
      if (!planner.ok()) return 1;
      PlanHash hash;
      double busy = 0;
      int64_t plans = 0;
      absl::Status st;
      for (int64_t n = 0; n < epochs * static_cast<int64_t>(trace.iterations.size()); ++n) {
        const auto& it = trace.iterations[static_cast<size_t>(n) % trace.iterations.size()];
        plan::IterationReads copy = it;  // outside the timed region
        double a = Now();
        st = (*planner)->Push(std::move(copy));
        std::optional<plan::IterationPlan> p;
        std::vector<plan::IterationPlan> out;
        while (st.ok() && (p = (*planner)->Next())) out.push_back(std::move(*p));
        busy += Now() - a;
        for (const auto& x : out) hash.Add(x), ++plans;
        if (!st.ok()) break;
      }
      if (st.ok()) {
        double a = Now();
        st = (*planner)->Close();
        std::vector<plan::IterationPlan> out;
        std::optional<plan::IterationPlan> p;
        while (st.ok() && (p = (*planner)->Next())) out.push_back(std::move(*p));
        busy += Now() - a;
        for (const auto& x : out) hash.Add(x), ++plans;
      }
      if (!st.ok()) {
        std::fprintf(stderr, "planner_bench: %s\n", std::string(st.message()).c_str());
        return 1;
      }
      const auto& s = (*planner)->stats();
      const double samples_planned = double(s.iterations) * batch * workers;
      std::printf(
          "{\"bench\":\"planner\",\"profile\":\"%s\",\"workers\":%d,\"batch\":%lld,\"epochs\":%d,"
          "\"threads\":%d,\"lookahead\":%d,\"prefetch_distance\":%d,\"capacity\":%lld,\"capacity_pct\":%.1f,"
          "\"iterations\":%lld,\"repeat\":%d,\"seconds\":%.3f,\"samples_per_s\":%.0f,"
          "\"keys_per_s\":%.0f,\"hit_ratio\":%.4f,\"fills\":%lld,\"transfers\":%lld,"
          "\"late_fills\":%lld,\"peak_window_keys\":%lld,\"read_seconds\":%.2f,"
          "\"peak_rss_mb\":%ld,\"plans\":%lld,\"plan_hash\":\"%016llx\"}\n",
          profile.c_str(), workers, static_cast<long long>(batch), epochs, threads, lookahead, prefetch,
          static_cast<long long>(po.capacity), capacity_pct, static_cast<long long>(s.iterations),
          rep, busy, samples_planned / busy, double(s.accesses) / busy, s.hit_ratio(),
          static_cast<long long>(s.fills), static_cast<long long>(s.transfers),
          static_cast<long long>(s.late_fills), static_cast<long long>(s.peak_window_keys),
          read_s, RssMb(), static_cast<long long>(plans),
          static_cast<unsigned long long>(hash.h));
      std::fflush(stdout);
    }
  }
  if (!tmp.empty()) fs::remove_all(tmp);
  return 0;
}
