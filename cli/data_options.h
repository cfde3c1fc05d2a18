// The leaves of `augur data`, one file each (data_prep.cc, data_gen.cc, data_analyze.cc).
#pragma once

#include "cli/commands.h"

namespace augur::cli {

void RegisterPrepCommand(CLI::App* data, CommandAction* action);
void RegisterGenCommand(CLI::App* data, CommandAction* action);
void RegisterAnalyzeCommand(CLI::App* data, CommandAction* action);

}  // namespace augur::cli
