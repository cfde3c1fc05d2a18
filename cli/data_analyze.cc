// `augur data analyze` (in progress).
#include <CLI/CLI.hpp>

#include "cli/data_options.h"

namespace augur::cli {

void RegisterAnalyzeCommand(CLI::App* data, CommandAction* action) {
  CLI::App* cmd = data->add_subcommand("analyze", "not implemented yet");
  cmd->callback([action] {
    *action = [] { return absl::UnimplementedError("augur data analyze is not implemented yet"); };
  });
}

}  // namespace augur::cli
