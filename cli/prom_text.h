// A small parser of the Prometheus text exposition format (version 0.0.4), enough for `augur top`
// to read the /metrics endpoints of augur's own services (common/metrics.h renders them).
//
// Understood: `# HELP` / `# TYPE` and other comments (skipped), samples `name{l="v",...} value
// [timestamp]` with the escapes \\ \" \n in label values, values as floats, +Inf, -Inf, NaN.
// Errors: INVALID_ARGUMENT "line N: what" for the first malformed line.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace augur::cli {

struct PromSample {
  std::string name;  // histograms appear as name_bucket{le=...}, name_sum, name_count
  std::map<std::string, std::string> labels;
  double value = 0;
};

absl::StatusOr<std::vector<PromSample>> ParsePrometheusText(const std::string& text);

// Sum of every sample called `name` whose labels include all of `match`.
double SumSamples(const std::vector<PromSample>& samples, const std::string& name,
                  const std::map<std::string, std::string>& match = {});

// Whether any sample is called `name`.
bool HasSample(const std::vector<PromSample>& samples, const std::string& name);

// The distinct values label `label` takes over samples called `name` (sorted); series without
// the label are left out.
std::vector<std::string> LabelValues(const std::vector<PromSample>& samples,
                                     const std::string& name, const std::string& label);

// A histogram's cumulative buckets (upper bound -> count) summed over matching series.
std::map<double, double> HistogramBuckets(const std::vector<PromSample>& samples,
                                          const std::string& name,
                                          const std::map<std::string, std::string>& match = {});

// The q-quantile (0..1) of a cumulative histogram by linear interpolation inside the bucket, as
// Prometheus' histogram_quantile does; NaN when it holds no observations. A quantile in the
// +Inf bucket answers the largest finite bound.
double HistogramQuantile(const std::map<double, double>& buckets, double q);

}  // namespace augur::cli
