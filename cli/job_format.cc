#include "cli/job_format.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace augur::cli {
namespace {

std::string Bar(int64_t done, int64_t total, int width) {
  int filled = total > 0 ? static_cast<int>(std::clamp<double>(
                               static_cast<double>(done) / static_cast<double>(total), 0, 1) *
                           width)
                         : 0;
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

}  // namespace

std::string FormatDuration(double seconds) {
  if (!(seconds >= 0) || std::isinf(seconds)) return "?";
  int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

std::string ProgressLine(const JobInfo& j) {
  std::string line = j.job_id + " " + j.state;
  if (j.iterations > 0) {
    line += absl::StrFormat(" %s %d/%d %3.0f%%", Bar(j.iteration, j.iterations, 20), j.iteration,
                            j.iterations, 100.0 * j.iteration / j.iterations);
  } else if (j.state == "RUNNING") {
    line += absl::StrFormat(" workers %d/%d", j.workers_registered, j.workers);
  }
  if (j.state == "PENDING") return line;
  line += absl::StrFormat("  %.0f samples/s  loss %.4f", j.samples_per_s, j.loss);
  if (j.eval_auc) line += absl::StrFormat("  auc %.4f", *j.eval_auc);
  line += absl::StrFormat("  hit %.1f%%  stall %.1f%%", 100 * j.hit_ratio, 100 * j.stall_fraction);
  // The rate so far predicts the rest; a job that has not finished an iteration has no rate yet.
  if (j.state == "RUNNING" && j.iteration > 0 && j.elapsed_s > 0 && j.iterations > j.iteration) {
    double per_iter = j.elapsed_s / static_cast<double>(j.iteration);
    line += "  ETA " + FormatDuration(per_iter * static_cast<double>(j.iterations - j.iteration));
  }
  return line;
}

std::string SummaryLine(const JobInfo& j) {
  if (j.state != "SUCCEEDED")
    return j.job_id + " " + j.state + ": " + (j.reason.empty() ? "no reason given" : j.reason);
  std::string line = j.job_id + " SUCCEEDED:";
  if (j.eval_auc) line += absl::StrFormat(" auc %.4f", *j.eval_auc);
  if (j.eval_logloss) line += absl::StrFormat(" logloss %.4f", *j.eval_logloss);
  line += absl::StrFormat(" samples/s %.0f hit_ratio %.3f stall %.1f%%", j.samples_per_s,
                          j.hit_ratio, 100 * j.stall_fraction);
  return line;
}

std::string StatusText(const JobInfo& j) {
  std::string t;
  auto kv = [&t](const char* k, const std::string& v) { t += absl::StrFormat("%-18s %s\n", k, v); };
  kv("job:", j.job_id);
  kv("name:", j.name);
  kv("state:", j.state);
  if (!j.reason.empty()) kv("reason:", j.reason);
  kv("iteration:", absl::StrFormat("%d/%d", j.iteration, j.iterations));
  kv("workers:", absl::StrFormat("%d/%d registered", j.workers_registered, j.workers));
  kv("elapsed:", FormatDuration(j.elapsed_s));
  kv("loss:", absl::StrFormat("%.4f", j.loss));
  kv("samples/s:", absl::StrFormat("%.0f", j.samples_per_s));
  kv("hit ratio:", absl::StrFormat("%.3f", j.hit_ratio));
  kv("planned hit ratio:", absl::StrFormat("%.3f", j.planned_hit_ratio));
  kv("stall:", absl::StrFormat("%.1f%%", 100 * j.stall_fraction));
  kv("rows fetched:", absl::StrFormat("%d (%.1f MiB)", j.rows_fetched, j.bytes_fetched / 1048576.0));
  if (j.eval_auc) kv("eval auc:", absl::StrFormat("%.4f", *j.eval_auc));
  if (j.eval_logloss) kv("eval logloss:", absl::StrFormat("%.4f", *j.eval_logloss));
  if (!j.checkpoints.empty())
    kv("checkpoints:", absl::StrFormat("%d, the last after iteration %d", j.checkpoints.size(),
                                       j.checkpoints.back()));
  if (j.recoveries > 0) {
    kv("recoveries:", absl::StrFormat("%d (resumed from a checkpoint)", j.recoveries));
    kv("last recovery:", j.last_recovery);
  }
  return t;
}

std::string JobTable(const std::vector<JobInfo>& jobs) {
  std::string t = absl::StrFormat("%-10s %-20s %-10s %15s %8s %8s %9s\n", "JOB", "NAME", "STATE",
                                  "ITERATION", "LOSS", "AUC", "ELAPSED");
  for (const auto& j : jobs) {
    t += absl::StrFormat("%-10s %-20s %-10s %15s %8.4f %8s %9s\n", j.job_id, j.name, j.state,
                         absl::StrFormat("%d/%d", j.iteration, j.iterations), j.loss,
                         j.eval_auc ? absl::StrFormat("%.4f", *j.eval_auc) : "-",
                         FormatDuration(j.elapsed_s));
  }
  return t;
}

}  // namespace augur::cli
