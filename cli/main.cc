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
  augur::cli::RegisterJobCommands(&app, &action);
  augur::cli::RegisterTopCommand(&app, &action);
  augur::cli::RegisterExportCommand(&app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line like every other error; CLI11's own format spans two.
    std::fprintf(stderr, "augur: %s (see --help)\n", e.what());
    return e.get_exit_code();
  }
  if (!action) return 0;
  absl::Status s = action();
  if (augur::cli::IsReportedFailure(s)) return 1;
  if (!s.ok()) {
    std::fprintf(stderr, "augur: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
