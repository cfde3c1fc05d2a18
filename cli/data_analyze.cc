// `augur data analyze DIR --batch B --workers W --capacity C1,C2,.. --lookahead L [--json]
// [--plot FILE]`: hit rates of cache policies on a dataset's id stream, every policy holding the
// slice being trained inside the same capacity (docs/analyze.md).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/analyze/plot.h"
#include "cli/analyze/trace_analysis.h"
#include "cli/data_options.h"
#include "common/data/dedup.h"
#include "common/status.h"

namespace augur::cli {
namespace {

struct AnalyzeFlags {
  std::string dir;
  int64_t batch = 0;
  int workers = 1;
  std::string capacity;
  int lookahead = 200;
  int prefetch_distance = 8;
  int64_t max_batches = -1;
  std::string policies = "lru,lfu,static,oracle,batch-min,min";
  bool json = false;
  std::string plot;
  std::string spill_dir = std::filesystem::temp_directory_path().string();
};

absl::Status RunAnalyze(const AnalyzeFlags& f) {
  data::DatasetOpenOptions open;
  open.sparse_only = true;
  AUGUR_ASSIGN_OR_RETURN(auto ds, data::Dataset::Open(f.dir, open));
  data::BatchShape shape{f.batch, f.workers};
  if (ds->num_batches(shape) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(f.dir, " has ", ds->num_rows(),
                                                   " rows: not one full global batch of ",
                                                   shape.global()));
  }
  analyze::AnalyzeOptions o;
  std::string policies = f.policies;
  if (!analyze::OracleAvailable() && policies == AnalyzeFlags().policies) {
    policies = "lru,lfu,static,batch-min,min";  // the default list, minus what this build lacks
  }
  AUGUR_ASSIGN_OR_RETURN(o.policies, analyze::ParsePolicies(policies));
  AUGUR_ASSIGN_OR_RETURN(o.capacities, analyze::ParseCapacities(f.capacity));
  o.lookahead = f.lookahead;
  o.prefetch_distance = f.prefetch_distance;
  o.spill_dir = f.spill_dir;
  auto stream = std::make_shared<std::unique_ptr<data::IterationReadsStream>>();
  analyze::Trace trace;
  trace.num_workers = f.workers;
  trace.reset = [&, stream] {
    *stream = std::make_unique<data::IterationReadsStream>(*ds, shape, f.max_batches);
  };
  trace.next = [stream](plan::IterationReads* r) { return (*stream)->Next(r); };
  AUGUR_ASSIGN_OR_RETURN(analyze::AnalyzeReport report, analyze::RunTraceAnalysis(trace, o));
  if (*stream && !(*stream)->status().ok()) return (*stream)->status();  // a damaged dataset
  for (const auto& r : report.results) {
    if (f.json) {
      nlohmann::ordered_json j = {{"policy", analyze::PolicyName(r.policy)},
                                  {"capacity", r.capacity},
                                  {"capacity_spec", r.capacity_text},
                                  {"batch", f.batch},
                                  {"workers", f.workers},
                                  {"lookahead", f.lookahead},
                                  {"accesses", r.accesses},
                                  {"hits", r.hits},
                                  {"hit_rate", r.hit_rate},
                                  {"seconds", r.seconds}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      if (&r == &report.results.front()) {
        std::printf("%s: %lld iterations of %d x %lld samples", f.dir.c_str(),
                    static_cast<long long>(f.max_batches >= 0
                                                     ? std::min(f.max_batches, ds->num_batches(shape))
                                                     : ds->num_batches(shape)),
                    f.workers,
                    static_cast<long long>(f.batch));
        if (report.distinct_keys >= 0) {
          std::printf(", %lld distinct rows, largest slice %lld rows",
                      static_cast<long long>(report.distinct_keys),
                      static_cast<long long>(report.max_slice_keys));
        }
        std::printf("\n%-9s %12s %10s %14s %14s %9s %8s\n", "policy", "capacity", "spec",
                    "accesses", "hits", "hit_rate", "seconds");
      }
      std::printf("%-9s %12lld %10s %14lld %14lld %9.4f %8.2f\n",
                  std::string(analyze::PolicyName(r.policy)).c_str(),
                  static_cast<long long>(r.capacity), r.capacity_text.c_str(),
                  static_cast<long long>(r.accesses), static_cast<long long>(r.hits), r.hit_rate,
                  r.seconds);
    }
  }
  if (!f.plot.empty()) {
    AUGUR_RETURN_IF_ERROR(analyze::PlotHitRates(
        report, f.plot,
        absl::StrCat("hit rate, B=", f.batch, " W=", f.workers, " lookahead=", f.lookahead)));
    if (!f.json) std::printf("plot written to %s\n", f.plot.c_str());
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterAnalyzeCommand(CLI::App* data, CommandAction* action) {
  auto flags = std::make_shared<AnalyzeFlags>();
  CLI::App* cmd = data->add_subcommand(
      "analyze", "replay a dataset's id stream through cache policies and report hit rates");
  cmd->add_option("dataset", flags->dir, "dataset directory")->required();
  cmd->add_option("--batch", flags->batch, "samples per worker slice (B)")->required()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--workers", flags->workers, "workers (W), each with its own cache")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--capacity", flags->capacity,
                  "cache rows per worker, comma-separated; NN% = percent of distinct rows")
      ->required();
  cmd->add_option("--lookahead", flags->lookahead, "oracle lookahead in iterations (L)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--prefetch-distance", flags->prefetch_distance,
                  "oracle prefetch distance in iterations")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--policies", flags->policies,
                  "subset of lru,lfu,static,oracle,batch-min,min (batch-min: the ceiling for "
                  "this capacity; min: a looser bound where the slice takes no room)");
  cmd->add_option("--max-batches", flags->max_batches, "replay only the first N global batches");
  cmd->add_option("--spill-dir", flags->spill_dir,
                  "directory for the interned trace, 4 bytes per read, deleted on exit");
  cmd->add_flag("--json", flags->json, "one JSON object per (policy, capacity)");
  cmd->add_option("--plot", flags->plot, "draw hit rate vs capacity to FILE.png or FILE.svg");
  cmd->callback([flags, action] { *action = [flags] { return RunAnalyze(*flags); }; });
}

}  // namespace augur::cli
