// Shared plumbing of the commands that talk to a running cluster (submit, status, cancel, list,
// logs, top, export): the --oracle / --cluster flags every one of them takes, and the job
// spec preparation `submit` does before anything is sent.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/cluster_file.h"
#include "cli/commands.h"
#include "cli/oracle_client.h"

namespace augur::cli {

// Adds --oracle HOST:PORT and --cluster FILE (mutually exclusive), --tls-ca and --token-file,
// writing into `*e`.
void AddEndpointFlags(CLI::App* cmd, Endpoints* e);

// A client of the oracle the flags (or the resolved access) name, over the transport security
// they give.
absl::StatusOr<std::unique_ptr<OracleClient>> OpenOracle(const Endpoints& e);
absl::StatusOr<std::unique_ptr<OracleClient>> OpenOracle(const ClusterAccess& access);

// Reads JOB.yaml, validates it with common/job ParseJobSpec and returns the canonical YAML to
// send, with data.train, data.eval and checkpoint.dir made absolute against the current
// directory (the oracle and workers may run elsewhere). Errors are one line:
// "JOB.yaml: <key path>: <what>" (INVALID_ARGUMENT) or NOT_FOUND when the file is unreadable.
absl::StatusOr<std::string> PrepareJobYaml(const std::string& path);

// `augur submit|status|cancel|resume|delete|list|logs`.
void RegisterJobCommands(CLI::App* root, CommandAction* action);

}  // namespace augur::cli
