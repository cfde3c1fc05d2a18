// `augur data gen` (in progress).
#include <CLI/CLI.hpp>

#include "cli/data_options.h"

namespace augur::cli {

void RegisterGenCommand(CLI::App* data, CommandAction* action) {
  CLI::App* cmd = data->add_subcommand("gen", "not implemented yet");
  cmd->callback([action] {
    *action = [] { return absl::UnimplementedError("augur data gen is not implemented yet"); };
  });
}

}  // namespace augur::cli
