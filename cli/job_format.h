// How the job commands print jobs: pure functions of JobInfo, so the exact text (the summary line
// deploy/quickstart.sh greps, the progress line) is unit-tested without an oracle.
#pragma once

#include <string>
#include <vector>

#include "cli/oracle_client.h"

namespace augur::cli {

// One line of live progress, e.g.
//   job-1 RUNNING [#########...........] 120/300  40%  12345 samples/s  loss 0.4821
//   auc 0.7312  hit 91.3%  stall 2.1%  ETA 0:12
// (all on one line; auc only once evaluated, ETA once an iteration finished).
std::string ProgressLine(const JobInfo& j);

// The final line of `submit --follow`, e.g.
//   job-1 SUCCEEDED: auc 0.7312 logloss 0.4821 samples/s 12345 hit_ratio 0.913 stall 2.1%
// (auc and logloss omitted without an eval set); FAILED / CANCELLED: "job-1 FAILED: <reason>".
std::string SummaryLine(const JobInfo& j);

// `augur status`: one "key: value" per line.
std::string StatusText(const JobInfo& j);

// `augur list`: a header and one row per job.
std::string JobTable(const std::vector<JobInfo>& jobs);

// "1:02:03" / "2:03" for a duration in seconds.
std::string FormatDuration(double seconds);

}  // namespace augur::cli
