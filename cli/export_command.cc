// `augur export JOB --out DIR`: the dense weights from the oracle (GetModel) and the written
// embedding rows from the job's shards (ScanRows) as .npy files; see model_export.h.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/job_commands.h"
#include "cli/model_export.h"
#include "common/grpc_security.h"
#include "common/job/job_spec.h"
#include "common/status.h"
#include "server/client/shard_client.h"

namespace augur::cli {
namespace {

struct ExportFlags {
  Endpoints endpoints;
  std::string job, out;
};

absl::Status RunExport(const ExportFlags& f) {
  AUGUR_ASSIGN_OR_RETURN(ClusterAccess access, ResolveEndpoints(f.endpoints));
  AUGUR_ASSIGN_OR_RETURN(auto oracle, OpenOracle(access));
  AUGUR_ASSIGN_OR_RETURN(TrainedModel model, oracle->GetModel(f.job));
  AUGUR_ASSIGN_OR_RETURN(job::JobSpec spec, job::ParseJobSpec(model.job_yaml));
  shard::ShardClientOptions so;
  so.rpc_deadline = std::chrono::seconds(30);
  so.job = model.job_id;
  AUGUR_ASSIGN_OR_RETURN(so.credentials, MakeChannelCredentials(access.security));
  AUGUR_ASSIGN_OR_RETURN(auto shards, shard::ShardClient::Connect(spec.cluster.shards, so));
  AUGUR_ASSIGN_OR_RETURN(ExportSummary s, ExportModel(model, shards.get(), f.out));
  std::printf("exported %s to %s: %d dense layers (%lld floats), %d tables, %lld embedding rows\n",
              model.job_id.c_str(), f.out.c_str(), s.layers,
              static_cast<long long>(s.dense_floats), s.tables, static_cast<long long>(s.rows));
  return absl::OkStatus();
}

}  // namespace

void RegisterExportCommand(CLI::App* root, CommandAction* action) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* cmd = root->add_subcommand(
      "export", "write a trained model as .npy files (dense layers, written embedding rows) "
                "and manifest.json");
  cmd->add_option("job", flags->job, "job id (job-1, ...)")->required();
  cmd->add_option("--out", flags->out, "output directory (created if missing)")->required();
  AddEndpointFlags(cmd, &flags->endpoints);
  cmd->callback([flags, action] { *action = [flags] { return RunExport(*flags); }; });
}

}  // namespace augur::cli
