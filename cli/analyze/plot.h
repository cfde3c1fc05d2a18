// Hit rate against capacity, one line per policy, drawn by gnuplot through a pipe (popen). The
// output format follows the file extension: .png (pngcairo) or .svg.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "cli/analyze/trace_analysis.h"

namespace augur::analyze {

// FAILED_PRECONDITION "gnuplot not found ..." when gnuplot is not on PATH; INVALID_ARGUMENT for
// another extension; INTERNAL when gnuplot exits non-zero.
absl::Status PlotHitRates(const AnalyzeReport& report, const std::string& path,
                          const std::string& title);

}  // namespace augur::analyze
