// `augur top [--once] [--json] [--interval S] --cluster FILE`: the cluster at a glance from the
// services' /metrics endpoints (cluster_metrics.h computes the view; this file draws it).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "absl/strings/str_format.h"
#include "cli/cluster_metrics.h"
#include "cli/commands.h"
#include "cli/job_commands.h"
#include "common/status.h"

namespace augur::cli {
namespace {

using nlohmann::json;

// A number with `decimals` digits, or "-" for null (unknown).
std::string Fmt(const json& v, int decimals, double scale = 1) {
  if (!v.is_number()) return "-";
  return absl::StrFormat("%.*f", decimals, v.get<double>() * scale);
}

std::string Pct(const json& v) { return v.is_number() ? Fmt(v, 1, 100) + "%" : "-"; }

struct TopFlags {
  Endpoints endpoints;
  bool once = false, json_out = false;
  double interval = 2;
};

absl::Status RunTop(const TopFlags& f) {
  if (f.endpoints.cluster_file.empty())
    return absl::InvalidArgumentError(
        "top reads the services' /metrics endpoints from a cluster file: pass --cluster FILE");
  AUGUR_ASSIGN_OR_RETURN(ClusterFile cluster, LoadClusterFile(f.endpoints.cluster_file));
  // Loaded once: every scrape reuses the CA and token.
  AUGUR_ASSIGN_OR_RETURN(
      LoadedSecurity security,
      LoadTransportSecurity(ClientSecurity(f.endpoints, &cluster), /*serving=*/false));
  const double timeout = std::clamp(f.interval, 0.5, 2.0);
  const bool tty = isatty(fileno(stdout));
  ClusterScrape prev = ScrapeCluster(cluster, timeout, security);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::duration<double>(f.interval));
    ClusterScrape cur = ScrapeCluster(cluster, timeout, security);
    json view = ClusterView(cluster, prev, cur);
    if (f.json_out) {
      std::printf("%s\n", view.dump().c_str());
    } else {
      if (tty && !f.once) std::printf("\x1b[H\x1b[2J");  // redraw in place
      std::printf("%s", RenderClusterView(view).c_str());
      if (!tty && !f.once) std::printf("\n");
    }
    std::fflush(stdout);
    if (f.once) return absl::OkStatus();
    prev = std::move(cur);
  }
}

}  // namespace

std::string RenderClusterView(const json& v) {
  std::string t;
  const json& tot = v["totals"];
  t += absl::StrFormat("augur top  interval %.1fs  samples/s %s  hit ratio %s  stall %s\n\n",
                       v["interval_s"].get<double>(), Fmt(tot["samples_per_s"], 0),
                       Fmt(tot["hit_ratio"], 3), Pct(tot["stall_fraction"]));
  const json& o = v["oracle"];
  if (o["up"] == true)
    t += absl::StrFormat("oracle %s  planned hit ratio %s  plan lag %s it  window ids %s\n\n",
                         o["endpoint"].get<std::string>(), Fmt(o["planned_hit_ratio"], 3),
                         Fmt(o["plan_lag_iterations"], 0), Fmt(o["window_ids"], 0));
  else
    t += absl::StrFormat("oracle %s  DOWN: %s\n\n", o["endpoint"].get<std::string>(),
                         o["error"].get<std::string>());
  t += absl::StrFormat("%-7s %-22s %10s %9s %7s %8s %10s %10s\n", "WORKER", "METRICS", "samples/s",
                       "hit", "stall", "loss", "iter p50", "iter p99");
  for (const auto& w : v["workers"]) {
    std::string ep = w["endpoint"].get<std::string>();
    if (w["up"] != true) {
      t += absl::StrFormat("%-7d %-22s DOWN: %s\n", w["index"].get<int>(), ep,
                           w["error"].get<std::string>());
      continue;
    }
    t += absl::StrFormat("%-7d %-22s %10s %9s %7s %8s %8sms %8sms\n", w["index"].get<int>(), ep,
                         Fmt(w["samples_per_s"], 0), Fmt(w["hit_ratio"], 3),
                         Pct(w["stall_fraction"]), Fmt(w["loss"], 4),
                         Fmt(w["iteration_ms_p50"], 1), Fmt(w["iteration_ms_p99"], 1));
  }
  if (!v["tables"].empty()) {
    t += "\nTABLE  hit ratio (all workers):";
    int n = 0;
    for (const auto& tb : v["tables"])
      t += absl::StrFormat("%s%s %s", n++ % 8 == 0 ? "\n  " : "  ", tb["table"].get<std::string>(),
                           Fmt(tb["hit_ratio"], 3));
    t += "\n";
  }
  t += absl::StrFormat("\n%-6s %-22s %-14s %9s %9s %9s %9s %10s %10s\n", "SHARD", "METRICS",
                       "method", "req/s", "mean ms", "p50 ms", "p99 ms", "rows rd/s", "rows wr/s");
  for (const auto& s : v["shards"]) {
    std::string ep = s["endpoint"].get<std::string>();
    if (s["up"] != true) {
      t += absl::StrFormat("%-6d %-22s DOWN: %s\n", s["index"].get<int>(), ep,
                           s["error"].get<std::string>());
      continue;
    }
    bool first = true;
    for (const auto& [m, r] : s["methods"].items()) {
      if (!r["mean_ms"].is_number()) continue;  // never called: JSON only, keeps the table short
      t += absl::StrFormat("%-6s %-22s %-14s %9s %9s %9s %9s %10s %10s\n",
                           first ? std::to_string(s["index"].get<int>()) : "", first ? ep : "", m,
                           Fmt(r["requests_per_s"], 1), Fmt(r["mean_ms"], 3),
                           Fmt(r["p50_ms"], 3), Fmt(r["p99_ms"], 3),
                           first ? Fmt(s["rows_read_per_s"], 0) : "",
                           first ? Fmt(s["rows_written_per_s"], 0) : "");
      first = false;
    }
    if (first) t += absl::StrFormat("%-6d %-22s (no requests yet)\n", s["index"].get<int>(), ep);
  }
  return t;
}

void RegisterTopCommand(CLI::App* root, CommandAction* action) {
  auto flags = std::make_shared<TopFlags>();
  CLI::App* cmd = root->add_subcommand(
      "top", "cache hit ratios, stalls, throughput, shard latency and planner state, live");
  cmd->add_flag("--once", flags->once, "print one view and exit");
  cmd->add_flag("--json", flags->json_out, "print the view as one JSON object per refresh");
  cmd->add_option("--interval", flags->interval,
                  "seconds between refreshes; rates are over this interval (default 2)")
      ->check(CLI::PositiveNumber);
  AddEndpointFlags(cmd, &flags->endpoints);
  cmd->callback([flags, action] { *action = [flags] { return RunTop(*flags); }; });
}

}  // namespace augur::cli
