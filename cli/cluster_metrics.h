// What `augur top` shows: every service's /metrics endpoint from the cluster file, scraped twice
// and turned into one JSON object (the --json output; the table is rendered from it, so both
// views always agree).
//
// Rates (samples/s, stall fraction, shard requests/s, rows/s) are over the interval between the
// two scrapes. Hit ratios and latencies are over that interval too when it saw traffic, and
// since the process started otherwise, so an idle cluster still shows its last numbers. A
// service that cannot be scraped appears with "up": false and its error; it never fails the
// whole view.
//
// Output shape:
//   {"interval_s": 1.0,
//    "totals":  {"samples_per_s", "hit_ratio", "stall_fraction"},
//    "workers": [{"index", "endpoint", "up", "error"?, "samples_per_s", "hit_ratio",
//                 "stall_fraction", "loss", "iteration_ms_p50", "iteration_ms_p99",
//                 "tables": {"<table>": hit_ratio}}],
//    "tables":  [{"table", "hit_ratio", "hits", "misses"}],   (all workers, since they started)
//    "shards":  [{"index", "endpoint", "up", "error"?, "rows_read_per_s", "rows_written_per_s",
//                 "methods": {"<method>": {"requests_per_s", "mean_ms", "p50_ms", "p99_ms"}}}],
//    "oracle":  {"endpoint", "up", "error"?, "planned_hit_ratio", "plan_lag_iterations",
//                "window_ids"}}
// totals.hit_ratio weights each worker's ratio by its lookups since start.
// Numbers that are unknown (no traffic ever, endpoint down) are null.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cluster_file.h"
#include "cli/prom_text.h"

namespace augur::cli {

struct ScrapeResult {
  std::string endpoint;
  bool ok = false;
  std::string error;
  std::vector<PromSample> samples;
};

struct ClusterScrape {
  double time_s = 0;  // steady clock, seconds
  ScrapeResult oracle;
  std::vector<ScrapeResult> shards, workers;
};

// Fetches every endpoint of `cluster` (each with `timeout_s`, over `security`'s client side).
ClusterScrape ScrapeCluster(const ClusterFile& cluster, double timeout_s,
                            const LoadedSecurity& security = {});

// The view between two scrapes of the same cluster (`prev` may equal `cur`: no rates then).
nlohmann::json ClusterView(const ClusterFile& cluster, const ClusterScrape& prev,
                           const ClusterScrape& cur);

// The human table of a ClusterView.
std::string RenderClusterView(const nlohmann::json& view);

}  // namespace augur::cli
