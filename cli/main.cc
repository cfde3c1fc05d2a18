// The `augur` command line: parses arguments with CLI11 and runs the chosen command. To add a
// top-level command group, write Register<Group>Commands in its own file and call it below.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"augur: DLRM training with oracle-planned embedding caches"};
  app.require_subcommand(1);
  augur::cli::CommandAction action;
  augur::cli::RegisterDataCommands(&app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!action) return 0;
  absl::Status s = action();
  if (!s.ok()) {
    std::fprintf(stderr, "augur: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
