#!/usr/bin/env python3
"""Writes augur-dashboard.json (Grafana 10+, Prometheus data source) next to this file.

The JSON is generated so the queries live in one readable place; edit here and rerun
`python3 deploy/grafana/make_dashboard.py`. tests/deploy checks the two agree.
Metric names and labels are those the binaries export (worker label on worker series, method on
shard latency; Prometheus adds instance/job).
"""
import json
import os
import sys

DS = {"type": "prometheus", "uid": "${datasource}"}
R = "$__rate_interval"
panels = []
y = 0


def panel(title, exprs, x, w, h, unit="short", kind="timeseries", desc="", minmax=None, legend=None):
    global y
    p = {
        "type": kind,
        "title": title,
        "description": desc,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DS, "expr": e, "legendFormat": lf}
            for i, (e, lf) in enumerate(exprs)
        ],
    }
    if minmax:
        p["fieldConfig"]["defaults"]["min"], p["fieldConfig"]["defaults"]["max"] = minmax
    if kind == "stat":
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "area", "textMode": "auto"}
    else:
        p["options"] = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                        "tooltip": {"mode": "multi", "sort": "none"}}
    panels.append(p)
    return p


def row(title):
    global y
    panels.append({"type": "row", "title": title, "collapsed": False,
                   "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []})
    y += 1


hits = f"sum by (worker) (rate(augur_worker_cache_hits_total[{R}]))"
misses = f"sum by (worker) (rate(augur_worker_cache_misses_total[{R}]))"
stall = f"sum by (worker) (rate(augur_worker_stall_seconds_total[{R}]))"
itert = f"sum by (worker) (rate(augur_worker_iteration_seconds_sum[{R}]))"

row("Training")
panel("Samples/s (all workers)", [(f"sum(rate(augur_worker_samples_total[{R}]))", "samples/s")],
      0, 6, 5, unit="short", kind="stat", desc="Samples trained per second, summed over workers.")
panel("Cache hit ratio (all workers)",
      [(f"sum(rate(augur_worker_cache_hits_total[{R}])) / (sum(rate(augur_worker_cache_hits_total[{R}])) + sum(rate(augur_worker_cache_misses_total[{R}])))", "hit ratio")],
      6, 6, 5, unit="percentunit", kind="stat", minmax=(0, 1),
      desc="Rows found in a worker's cache / rows read (hits + misses).")
panel("Stall fraction (all workers)",
      [(f"sum(rate(augur_worker_stall_seconds_total[{R}])) / sum(rate(augur_worker_iteration_seconds_sum[{R}]))", "stall")],
      12, 6, 5, unit="percentunit", kind="stat", minmax=(0, 1),
      desc="Share of iteration time spent waiting for rows or write-backs.")
panel("Loss (mean over workers)", [("avg(augur_worker_loss)", "loss")], 18, 6, 5, kind="stat",
      desc="Mean BCE of the last step.")
y += 5
panel("Samples/s per worker", [(f"sum by (worker) (rate(augur_worker_samples_total[{R}]))", "worker {{worker}}")],
      0, 12, 8)
panel("Training loss per worker", [("augur_worker_loss", "worker {{worker}}")], 12, 12, 8,
      desc="augur_worker_loss: mean training loss of the last step.")
y += 8
panel("Cache hit ratio per worker", [(f"{hits} / ({hits} + {misses})", "worker {{worker}}")], 0, 12, 8,
      unit="percentunit", minmax=(0, 1),
      desc="augur_worker_cache_hits_total / (hits + augur_worker_cache_misses_total).")
panel("Stall fraction per worker", [(f"{stall} / {itert}", "worker {{worker}}")], 12, 12, 8,
      unit="percentunit", minmax=(0, 1),
      desc="rate(augur_worker_stall_seconds_total) / rate(augur_worker_iteration_seconds_sum): the "
           "share of each iteration spent waiting on the cache.")
y += 8
panel("Iteration time per worker (p50, p99)", [
    (f"histogram_quantile(0.5, sum by (le, worker) (rate(augur_worker_iteration_seconds_bucket[{R}])))", "p50 worker {{worker}}"),
    (f"histogram_quantile(0.99, sum by (le, worker) (rate(augur_worker_iteration_seconds_bucket[{R}])))", "p99 worker {{worker}}"),
], 0, 12, 8, unit="s")
panel("Step time by stage (share, all workers)", [
    (f"sum by (stage) (rate(augur_worker_step_seconds_total[{R}])) / ignoring(stage) group_left "
     f"sum(rate(augur_worker_step_seconds_total[{R}]))", "{{stage}}"),
], 12, 12, 8, unit="percentunit", minmax=(0, 1),
      desc="Where the training steps' time goes: fill_wait (rows not yet arrived), batch, compute, "
           "reduce_update (all-reduce and optimizer), evict (write-backs issued, transfers), "
           "writeback_wait, push_wait.")
y += 8

row("Embedding shards")
panel("Shard request latency by method (p50, p99)", [
    (f"histogram_quantile(0.5, sum by (le, method) (rate(augur_shard_request_seconds_bucket[{R}])))", "p50 {{method}}"),
    (f"histogram_quantile(0.99, sum by (le, method) (rate(augur_shard_request_seconds_bucket[{R}])))", "p99 {{method}}"),
], 0, 12, 8, unit="s", desc="Server-side latency of each shard RPC, all shards together.")
panel("Shard requests/s by method", [
    (f"sum by (method) (rate(augur_shard_request_seconds_count[{R}]))", "{{method}}"),
], 12, 12, 8, unit="reqps")
y += 8
panel("Shard p99 latency per shard", [
    (f"histogram_quantile(0.99, sum by (le, instance, method) (rate(augur_shard_request_seconds_bucket[{R}])))", "{{instance}} {{method}}"),
], 0, 12, 8, unit="s")
panel("Shard rows read / written per second", [
    (f"sum by (instance) (rate(augur_shard_rows_read_total[{R}]))", "read {{instance}}"),
    (f"sum by (instance) (rate(augur_shard_rows_written_total[{R}]))", "written {{instance}}"),
], 12, 12, 8, unit="short")
y += 8

row("Oracle")
panel("Planned hit ratio", [("augur_oracle_planned_hit_ratio", "planned")], 0, 6, 8,
      unit="percentunit", minmax=(0, 1), desc="Hit ratio of the plans made so far.")
panel("Late fills (share of planned fills)", [("augur_oracle_planned_late_fill_ratio", "late")],
      6, 6, 8, unit="percentunit", minmax=(0, 1),
      desc="Fills issued less than prefetch_distance steps before their use; workers may wait on "
           "them. High with a good hit ratio: the cache is under (d+2) x a slice's rows.")
panel("Rows in the planner's window", [("augur_oracle_window_ids", "window ids")], 12, 6, 8,
      desc="augur_oracle_window_ids: grows with the distinct ids inside the lookahead, never with table size.")
panel("Plan lag (iterations ahead of the slowest worker)", [
    ("augur_oracle_plan_lag_iterations", "lag"),
], 18, 6, 8, desc="How far planning runs ahead; near 0 means workers wait on the oracle.")
y += 8

row("Jobs that survive")
panel("Job recoveries (resumes from a checkpoint)", [
    (f"sum by (cause) (increase(augur_job_recoveries_total[{R}]))", "{{cause}}"),
], 0, 12, 8, desc="augur_job_recoveries_total by cause: user (augur resume), failure (a process "
                   "went away), oracle_restart. `augur status JOB` says what the last one was.")
panel("Checkpoint pause vs step time", [
    (f"rate(augur_job_checkpoint_seconds_sum[{R}]) / rate(augur_job_checkpoint_seconds_count[{R}])",
     "checkpoint"),
    (f"avg(rate(augur_worker_iteration_seconds_sum[{R}]) / "
     f"rate(augur_worker_iteration_seconds_count[{R}]))", "step"),
], 12, 12, 8, unit="s",
      desc="augur_job_checkpoint_seconds (worker 0: every worker's flush, the dense state, the "
           "shards' RocksDB checkpoints) beside the mean step time.")
y += 8

dashboard = {
    "title": "augur",
    "uid": "augur-overview",
    "description": "augur DLRM training: worker cache, throughput and loss; shard latency; the oracle's planner.",
    "tags": ["augur", "dlrm"],
    "timezone": "browser",
    "schemaVersion": 39,
    "version": 1,
    "editable": True,
    "refresh": "10s",
    "time": {"from": "now-30m", "to": "now"},
    "templating": {"list": [{
        "name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
        "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": [],
    }]},
    "annotations": {"list": []},
    "links": [],
    "panels": [dict(p, id=i + 1) for i, p in enumerate(panels)],
}
text = json.dumps(dashboard, indent=2) + "\n"
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "augur-dashboard.json")
if len(sys.argv) > 1 and sys.argv[1] == "--check":
    sys.exit(0 if open(out).read() == text else 1)
open(out, "w").write(text)
