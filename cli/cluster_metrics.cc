#include "cli/cluster_metrics.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_format.h"
#include "common/metrics_http.h"

namespace augur::cli {
namespace {

using nlohmann::json;
using Labels = std::map<std::string, std::string>;

ScrapeResult Scrape(const std::string& endpoint, double timeout_s,
                    const LoadedSecurity& security) {
  ScrapeResult r;
  r.endpoint = endpoint;
  if (endpoint.empty()) {
    r.error = "no metrics endpoint in the cluster file";
    return r;
  }
  auto body = HttpGet(endpoint, "/metrics", timeout_s, security);
  if (!body.ok()) {
    r.error = std::string(body.status().message());
    return r;
  }
  auto samples = ParsePrometheusText(*body);
  if (!samples.ok()) {
    r.error = "bad /metrics text: " + std::string(samples.status().message());
    return r;
  }
  r.ok = true;
  r.samples = std::move(*samples);
  return r;
}

json Num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// One series family read at two scrapes of the same endpoint.
struct Pair {
  const ScrapeResult& prev;
  const ScrapeResult& cur;
  double dt;
  // cur - prev; a counter that went down restarted, so then all of cur counts.
  double Delta(const std::string& name, const Labels& m = {}) const {
    double c = SumSamples(cur.samples, name, m);
    if (!prev.ok) return c;
    double p = SumSamples(prev.samples, name, m);
    return c >= p ? c - p : c;
  }
  double Rate(const std::string& name, const Labels& m = {}) const {
    return dt > 0 && prev.ok ? Delta(name, m) / dt : NAN;
  }
  // hits / (hits + misses) over the interval, or since start when the interval saw none.
  double HitRatio(const Labels& m = {}) const {
    double h = Delta("augur_worker_cache_hits_total", m);
    double x = Delta("augur_worker_cache_misses_total", m);
    if (!(dt > 0 && prev.ok) || h + x == 0) {
      h = SumSamples(cur.samples, "augur_worker_cache_hits_total", m);
      x = SumSamples(cur.samples, "augur_worker_cache_misses_total", m);
    }
    return h + x > 0 ? h / (h + x) : NAN;
  }
  // Buckets over the interval, or since start when the interval saw no observation.
  std::map<double, double> Buckets(const std::string& name, const Labels& m = {}) const {
    auto c = HistogramBuckets(cur.samples, name, m);
    if (!(dt > 0 && prev.ok)) return c;
    auto p = HistogramBuckets(prev.samples, name, m);
    std::map<double, double> d;
    for (const auto& [b, n] : c) d[b] = n - (p.count(b) ? p[b] : 0);
    if (d.empty() || !(d.rbegin()->second > 0)) return c;
    return d;
  }
};

json Down(const ScrapeResult& r, json base) {
  base["up"] = false;
  base["error"] = r.error;
  return base;
}

json WorkerView(const ClusterProcess& w, const Pair& p, json* tables_acc) {
  json v = {{"index", w.index}, {"endpoint", p.cur.endpoint}};
  if (!p.cur.ok) return Down(p.cur, v);
  const auto& s = p.cur.samples;
  v["up"] = true;
  v["samples_per_s"] = Num(p.Rate("augur_worker_samples_total"));
  v["hit_ratio"] = Num(p.HitRatio());
  double stall = p.Rate("augur_worker_stall_seconds_total");
  v["stall_fraction"] = Num(std::isfinite(stall) ? std::clamp(stall, 0.0, 1.0) : stall);
  v["loss"] = HasSample(s, "augur_worker_loss") ? Num(SumSamples(s, "augur_worker_loss")) : json();
  auto it = p.Buckets("augur_worker_iteration_seconds");
  v["iteration_ms_p50"] = Num(1e3 * HistogramQuantile(it, 0.5));
  v["iteration_ms_p99"] = Num(1e3 * HistogramQuantile(it, 0.99));
  json tables = json::object();
  for (const auto& t : LabelValues(s, "augur_worker_cache_hits_total", "table")) {
    tables[t] = Num(p.HitRatio({{"table", t}}));
    json& acc = (*tables_acc)[t];
    if (acc.is_null()) acc = {{"hits", 0.0}, {"misses", 0.0}};
    acc["hits"] = acc["hits"].get<double>() + SumSamples(s, "augur_worker_cache_hits_total", {{"table", t}});
    acc["misses"] = acc["misses"].get<double>() + SumSamples(s, "augur_worker_cache_misses_total", {{"table", t}});
  }
  v["tables"] = tables;
  return v;
}

json ShardView(const ClusterProcess& sh, const Pair& p) {
  json v = {{"index", sh.index}, {"endpoint", p.cur.endpoint}};
  if (!p.cur.ok) return Down(p.cur, v);
  v["up"] = true;
  v["rows_read_per_s"] = Num(p.Rate("augur_shard_rows_read_total"));
  v["rows_written_per_s"] = Num(p.Rate("augur_shard_rows_written_total"));
  json methods = json::object();
  for (const auto& m : LabelValues(p.cur.samples, "augur_shard_request_seconds_count", "method")) {
    Labels l = {{"method", m}};
    auto b = p.Buckets("augur_shard_request_seconds", l);
    double n = p.Delta("augur_shard_request_seconds_count", l);
    double sum = p.Delta("augur_shard_request_seconds_sum", l);
    if (n == 0) {  // idle interval: since start, as the buckets are
      n = SumSamples(p.cur.samples, "augur_shard_request_seconds_count", l);
      sum = SumSamples(p.cur.samples, "augur_shard_request_seconds_sum", l);
    }
    methods[m] = {{"requests_per_s", Num(p.Rate("augur_shard_request_seconds_count", l))},
                  {"mean_ms", Num(n > 0 ? 1e3 * sum / n : NAN)},
                  {"p50_ms", Num(1e3 * HistogramQuantile(b, 0.5))},
                  {"p99_ms", Num(1e3 * HistogramQuantile(b, 0.99))}};
  }
  v["methods"] = methods;
  return v;
}

json OracleView(const ScrapeResult& r) {
  json v = {{"endpoint", r.endpoint}};
  if (!r.ok) return Down(r, v);
  v["up"] = true;
  auto gauge = [&](const char* name) {
    return HasSample(r.samples, name) ? Num(SumSamples(r.samples, name)) : json();
  };
  v["planned_hit_ratio"] = gauge("augur_oracle_planned_hit_ratio");
  v["plan_lag_iterations"] = gauge("augur_oracle_plan_lag_iterations");
  v["window_ids"] = gauge("augur_oracle_window_ids");
  return v;
}

}  // namespace

ClusterScrape ScrapeCluster(const ClusterFile& cluster, double timeout_s,
                            const LoadedSecurity& sec) {
  ClusterScrape s;
  s.time_s = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  s.oracle = Scrape(cluster.oracle.metrics, timeout_s, sec);
  for (const auto& sh : cluster.shards) s.shards.push_back(Scrape(sh.metrics, timeout_s, sec));
  for (const auto& w : cluster.workers) s.workers.push_back(Scrape(w.metrics, timeout_s, sec));
  return s;
}

json ClusterView(const ClusterFile& cluster, const ClusterScrape& prev, const ClusterScrape& cur) {
  double dt = cur.time_s - prev.time_s;
  json view = {{"interval_s", dt}};
  json workers = json::array(), tables_acc = json::object();
  double samples = 0, stall = 0, hits = 0, total = 0;
  int stall_n = 0;
  for (size_t i = 0; i < cluster.workers.size() && i < cur.workers.size(); ++i) {
    Pair p{prev.workers.size() > i ? prev.workers[i] : cur.workers[i], cur.workers[i], dt};
    json w = WorkerView(cluster.workers[i], p, &tables_acc);
    if (w["up"] == true) {
      if (w["samples_per_s"].is_number()) samples += w["samples_per_s"].get<double>();
      if (w["stall_fraction"].is_number()) stall += w["stall_fraction"].get<double>(), ++stall_n;
      if (w["hit_ratio"].is_number()) {
        double n = SumSamples(cur.workers[i].samples, "augur_worker_cache_hits_total") +
                   SumSamples(cur.workers[i].samples, "augur_worker_cache_misses_total");
        hits += w["hit_ratio"].get<double>() * n, total += n;
      }
    }
    workers.push_back(w);
  }
  view["workers"] = workers;
  view["totals"] = {{"samples_per_s", dt > 0 ? json(samples) : json()},
                    {"hit_ratio", Num(total > 0 ? hits / total : NAN)},
                    {"stall_fraction", Num(stall_n ? stall / stall_n : NAN)}};
  // C2 before C10: order by length, then by text.
  std::vector<std::string> names;
  for (auto& [t, acc] : tables_acc.items()) names.push_back(t);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  json tables = json::array();
  for (const auto& t : names) {
    const json& acc = tables_acc[t];
    double h = acc["hits"].get<double>(), m = acc["misses"].get<double>();
    tables.push_back({{"table", t}, {"hits", h}, {"misses", m}, {"hit_ratio", Num(h + m > 0 ? h / (h + m) : NAN)}});
  }
  view["tables"] = tables;
  json shards = json::array();
  for (size_t i = 0; i < cluster.shards.size() && i < cur.shards.size(); ++i) {
    Pair p{prev.shards.size() > i ? prev.shards[i] : cur.shards[i], cur.shards[i], dt};
    shards.push_back(ShardView(cluster.shards[i], p));
  }
  view["shards"] = shards;
  view["oracle"] = OracleView(cur.oracle);
  return view;
}

}  // namespace augur::cli
