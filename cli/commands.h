// How the `augur` binary is put together: main.cc owns the root CLI11 app and calls one Register*
// function per top-level command group, each living in its own file (data_commands.cc today;
// submit/status/top later). A leaf command's callback stores what to run in `*action`; main runs
// it after parsing and turns a non-OK status into one line on stderr and exit code 1.
#pragma once

#include <functional>

#include "absl/status/status.h"

namespace CLI {
class App;
}

namespace augur::cli {

using CommandAction = std::function<absl::Status()>;

// `augur data prep|gen|analyze`.
void RegisterDataCommands(CLI::App* root, CommandAction* action);

}  // namespace augur::cli
