// Process-wide logging setup on spdlog. Each binary calls InitLogging once in main(); library
// code logs through spdlog's default logger (spdlog::info, spdlog::warn, ...).
#pragma once

#include <string>

namespace augur {

// `level` is one of trace, debug, info, warn, error, off. Unknown names fall back to info.
// Logs go to stderr with the process name, so interleaved logs of a local cluster stay readable.
void InitLogging(const std::string& process_name, const std::string& level = "info");

}  // namespace augur
