// `augur data prep|gen|analyze`: option parsing only; the work happens in augur_data_core and
// augur_trace_analysis (cli/analyze/).
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/data_options.h"

namespace augur::cli {

void RegisterDataCommands(CLI::App* root, CommandAction* action) {
  CLI::App* data = root->add_subcommand("data", "prepare, generate and analyze datasets");
  data->require_subcommand(1);
  RegisterPrepCommand(data, action);
  RegisterGenCommand(data, action);
  RegisterAnalyzeCommand(data, action);
}

}  // namespace augur::cli
