// How the `augur` binary is put together: main.cc owns the root CLI11 app and calls one Register*
// function per top-level command group, each living in its own file (data_commands.cc,
// job_commands.cc, top_command.cc, export_command.cc). A leaf command's callback stores what to
// run in `*action`; main runs it after parsing and turns a non-OK status into one line on stderr
// ("augur: <message>") and exit code 1 — unless the command already printed why it failed
// (ReportedFailure), then it exits 1 silently.
#pragma once

#include <functional>

#include "absl/status/status.h"

namespace CLI {
class App;
}

namespace augur::cli {

using CommandAction = std::function<absl::Status()>;

// A failure the command has already explained on stdout/stderr (e.g. the summary line of a job
// that FAILED): exit 1 without another message. Recognised by its empty message.
inline absl::Status ReportedFailure() { return absl::Status(absl::StatusCode::kAborted, ""); }
inline bool IsReportedFailure(const absl::Status& s) { return !s.ok() && s.message().empty(); }

// `augur data prep|gen|analyze`.
void RegisterDataCommands(CLI::App* root, CommandAction* action);
// `augur submit|status|cancel|delete|list|logs` (job_commands.h).
void RegisterJobCommands(CLI::App* root, CommandAction* action);
// `augur top`.
void RegisterTopCommand(CLI::App* root, CommandAction* action);
// `augur export`.
void RegisterExportCommand(CLI::App* root, CommandAction* action);

}  // namespace augur::cli
