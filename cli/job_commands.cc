// `augur submit JOB.yaml [--follow]`, `status [JOB]`, `cancel JOB`, `delete JOB`, `list`,
// `logs JOB`: flag parsing and printing over OracleClient; the text comes from job_format.h.
#include "cli/job_commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "cli/job_format.h"
#include "cli/oracle_client.h"
#include "common/grpc_security_flags.h"
#include "common/job/job_spec.h"
#include "common/status.h"

namespace augur::cli {
namespace {

std::string Absolute(const std::string& p) {
  if (p.empty()) return p;
  return std::filesystem::absolute(p).lexically_normal().string();
}

struct SubmitFlags {
  Endpoints endpoints;
  std::string job;
  bool follow = false;
  double interval = 0;  // 0: 0.5 s on a terminal, 5 s otherwise
};

// Polls the job until it ends. On a terminal the progress line is redrawn in place; otherwise a
// plain line is printed every interval when something changed (logs stay readable). A few
// consecutive failed polls are tolerated: the oracle may be briefly busy.
absl::StatusOr<JobInfo> Follow(OracleClient& oracle, const std::string& id, double interval) {
  const bool tty = isatty(fileno(stdout));
  if (interval <= 0) interval = tty ? 0.5 : 5.0;
  std::string last;
  int failures = 0;
  for (;;) {
    auto j = oracle.Status(id);
    if (!j.ok()) {
      if (++failures >= 3) return j.status();
    } else {
      failures = 0;
      std::string line = ProgressLine(*j);
      if (tty) {
        std::printf("\r%s\x1b[K", line.c_str());
        if (IsFinalState(j->state)) std::printf("\n");
      } else if (line != last && !IsFinalState(j->state)) {
        std::printf("%s\n", line.c_str());
      }
      std::fflush(stdout);
      last = line;
      if (IsFinalState(j->state)) return *j;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(interval));
  }
}

absl::Status RunSubmit(const SubmitFlags& f) {
  AUGUR_ASSIGN_OR_RETURN(std::string yaml, PrepareJobYaml(f.job));
  AUGUR_ASSIGN_OR_RETURN(auto client, OpenOracle(f.endpoints));
  OracleClient& oracle = *client;
  AUGUR_ASSIGN_OR_RETURN(std::string id, oracle.Submit(yaml));
  std::printf("%s\n", id.c_str());
  std::fflush(stdout);
  if (!f.follow) return absl::OkStatus();
  AUGUR_ASSIGN_OR_RETURN(JobInfo end, Follow(oracle, id, f.interval));
  std::printf("%s\n", SummaryLine(end).c_str());
  std::fflush(stdout);
  // The summary line already says why; exit 1 without a second message.
  return end.state == "SUCCEEDED" ? absl::OkStatus() : ReportedFailure();
}

struct JobFlags {
  Endpoints endpoints;
  std::string job;
};

absl::Status RunStatus(const JobFlags& f) {
  AUGUR_ASSIGN_OR_RETURN(auto client, OpenOracle(f.endpoints));
  OracleClient& oracle = *client;
  AUGUR_ASSIGN_OR_RETURN(JobInfo j, oracle.Status(f.job));
  std::printf("%s", StatusText(j).c_str());
  return absl::OkStatus();
}

absl::Status RunCancel(const JobFlags& f) {
  AUGUR_ASSIGN_OR_RETURN(auto client, OpenOracle(f.endpoints));
  OracleClient& oracle = *client;
  AUGUR_RETURN_IF_ERROR(oracle.Cancel(f.job, "cancelled by user (augur cancel)"));
  std::printf("%s: cancel requested\n", f.job.c_str());
  return absl::OkStatus();
}

absl::Status RunDelete(const JobFlags& f) {
  AUGUR_ASSIGN_OR_RETURN(auto client, OpenOracle(f.endpoints));
  AUGUR_RETURN_IF_ERROR(client->Delete(f.job));
  std::printf("%s: deleted (its tables are dropped on every shard)\n", f.job.c_str());
  return absl::OkStatus();
}

struct ResumeFlags {
  Endpoints endpoints;
  std::string job;
  int64_t from = 0;
};

absl::Status RunResume(const ResumeFlags& f) {
  AUGUR_ASSIGN_OR_RETURN(auto client, OpenOracle(f.endpoints));
  AUGUR_ASSIGN_OR_RETURN(int64_t from, client->Resume(f.job, f.from));
  std::printf("%s: queued to resume from its checkpoint at iteration %lld\n", f.job.c_str(),
              static_cast<long long>(from));
  return absl::OkStatus();
}

absl::Status RunList(const JobFlags& f) {
  AUGUR_ASSIGN_OR_RETURN(auto client, OpenOracle(f.endpoints));
  OracleClient& oracle = *client;
  AUGUR_ASSIGN_OR_RETURN(std::vector<JobInfo> jobs, oracle.List());
  std::printf("%s", JobTable(jobs).c_str());
  return absl::OkStatus();
}

absl::Status RunLogs(const JobFlags& f) {
  AUGUR_ASSIGN_OR_RETURN(auto client, OpenOracle(f.endpoints));
  OracleClient& oracle = *client;
  AUGUR_ASSIGN_OR_RETURN(std::vector<std::string> events, oracle.Events(f.job));
  for (const auto& e : events) std::printf("%s\n", e.c_str());
  return absl::OkStatus();
}

// Registers a command taking only the endpoint flags and an optional/required JOB.
void AddJobCommand(CLI::App* root, CommandAction* action, const char* name, const char* help,
                   bool job_required, absl::Status (*run)(const JobFlags&)) {
  auto flags = std::make_shared<JobFlags>();
  CLI::App* cmd = root->add_subcommand(name, help);
  if (job_required) {
    cmd->add_option("job", flags->job, "job id (job-1, ...)")->required();
  } else if (std::string(name) != "list") {
    cmd->add_option("job", flags->job, "job id (default: the running or most recent job)");
  }
  AddEndpointFlags(cmd, &flags->endpoints);
  cmd->callback([flags, action, run] { *action = [flags, run] { return run(*flags); }; });
}

}  // namespace

void AddEndpointFlags(CLI::App* cmd, Endpoints* e) {
  auto* o = cmd->add_option("--oracle", e->oracle, "oracle gRPC address HOST:PORT")
                ->capture_default_str();
  auto* c = cmd->add_option("--cluster", e->cluster_file,
                            "cluster.yaml written by deploy/local/up.sh (gives every address)");
  o->excludes(c);
  AddClientSecurityFlags(cmd, &e->security);
}

absl::StatusOr<std::unique_ptr<OracleClient>> OpenOracle(const ClusterAccess& access) {
  OracleClient::Options o;
  AUGUR_ASSIGN_OR_RETURN(o.credentials, MakeChannelCredentials(access.security));
  return std::make_unique<OracleClient>(access.oracle, o);
}

absl::StatusOr<std::unique_ptr<OracleClient>> OpenOracle(const Endpoints& e) {
  AUGUR_ASSIGN_OR_RETURN(ClusterAccess access, ResolveEndpoints(e));
  return OpenOracle(access);
}

absl::StatusOr<std::string> PrepareJobYaml(const std::string& path) {
  auto spec = job::LoadJobSpec(path);  // its errors already start with the path
  if (!spec.ok()) return spec.status();
  spec->data.train = Absolute(spec->data.train);
  spec->data.eval = Absolute(spec->data.eval);
  spec->checkpoint.dir = Absolute(spec->checkpoint.dir);
  return job::ToYaml(*spec);
}

void RegisterJobCommands(CLI::App* root, CommandAction* action) {
  auto flags = std::make_shared<SubmitFlags>();
  CLI::App* submit = root->add_subcommand(
      "submit", "validate a job spec, submit it to the oracle and print its id");
  submit->add_option("job", flags->job, "job spec YAML (deploy/jobs/criteo-kaggle.yaml)")
      ->required();
  submit->add_flag("--follow,-f", flags->follow,
                   "show live progress until the job ends, then a summary line; exit 0 only "
                   "when it SUCCEEDED");
  submit->add_option("--interval", flags->interval,
                     "seconds between progress updates (default 0.5 on a terminal, 5 otherwise)");
  AddEndpointFlags(submit, &flags->endpoints);
  submit->callback([flags, action] { *action = [flags] { return RunSubmit(*flags); }; });

  AddJobCommand(root, action, "status", "show a job's state and progress", false, RunStatus);
  AddJobCommand(root, action, "cancel", "cancel a queued or running job", true, RunCancel);
  AddJobCommand(root, action, "delete",
                "delete an ended job: its tables on every shard (freeing their disk) and its "
                "record on the oracle; cancel a running job first",
                true, RunDelete);
  auto resume = std::make_shared<ResumeFlags>();
  CLI::App* rcmd = root->add_subcommand(
      "resume",
      "run an ended job again from a checkpoint (default: its last), under the same id: the "
      "shards roll back to it and the model ends as an uninterrupted run's");
  rcmd->add_option("job", resume->job, "job id (job-1, ...)")->required();
  rcmd->add_option("--from", resume->from,
                   "the iteration of the checkpoint to resume from (augur status lists the last)")
      ->check(CLI::NonNegativeNumber);
  AddEndpointFlags(rcmd, &resume->endpoints);
  rcmd->callback([resume, action] { *action = [resume] { return RunResume(*resume); }; });
  AddJobCommand(root, action, "list", "list the oracle's jobs", false, RunList);
  AddJobCommand(root, action, "logs", "print a job's recent events from the oracle", true,
                RunLogs);
}

}  // namespace augur::cli
