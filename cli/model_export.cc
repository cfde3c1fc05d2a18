#include "cli/model_export.h"

#include <filesystem>
#include <fstream>
#include <span>

#include <nlohmann/json.hpp>

#include "cli/npy.h"
#include "common/job/job_spec.h"
#include "common/status.h"
#include "server/client/shard_client.h"
#include "worker/model/dlrm_config.h"
#include "worker/runtime/trainer.h"

namespace augur::cli {
namespace {

using nlohmann::json;

absl::Status WriteLayers(const std::vector<model::LayerSlice>& layers, const char* prefix,
                         const std::vector<float>& dense, const std::string& dir, json* out) {
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    std::string name = std::string(prefix) + "_" + std::to_string(i);
    std::span<const float> all(dense);
    AUGUR_RETURN_IF_ERROR(WriteNpy(dir + "/" + name + "_weight.npy",
                                   all.subspan(l.weight_offset, int64_t{l.out} * l.in),
                                   {l.out, l.in}));
    AUGUR_RETURN_IF_ERROR(
        WriteNpy(dir + "/" + name + "_bias.npy", all.subspan(l.bias_offset, l.out), {l.out}));
    out->push_back({{"name", name}, {"in", l.in}, {"out", l.out}, {"relu", l.relu}});
  }
  return absl::OkStatus();
}

json ArchitectureJson(const job::JobSpec& spec, const model::DlrmConfig& c) {
  return {{"preset", spec.model.preset},
          {"dim", c.dim},
          {"bottom", c.bottom},
          {"top", c.top},
          {"self_interaction", c.self_interaction},
          {"num_dense", c.num_dense},
          {"num_sparse", c.num_sparse},
          {"dense_transform", "log(1+max(x,0)) of each integer feature; missing = 0"},
          {"embedding_pooling", "sum over the bag (one id per feature for Criteo)"},
          {"interaction",
           "Z = [bottom_out, emb_1..emb_F]; dot products <Z_i, Z_j> for i > j (i >= j with "
           "self_interaction), i-major (numpy tril_indices(F+1, -1) order); top input = "
           "[bottom_out, dots]"},
          {"activations", "bottom: ReLU after every layer; top: ReLU after all but the last, "
                          "then sigmoid"},
          {"weight_layout", "weight (out, in): y = x @ W.T + b"}};
}

}  // namespace

absl::StatusOr<ExportSummary> ExportModel(const TrainedModel& model, shard::ShardClient* shards,
                                          const std::string& out_dir) {
  AUGUR_ASSIGN_OR_RETURN(job::JobSpec spec, job::ParseJobSpec(model.job_yaml));
  AUGUR_ASSIGN_OR_RETURN(model::DlrmConfig config, worker::ModelConfigOf(spec));
  model::DenseLayout layout = model::MakeDenseLayout(config);
  if (static_cast<int64_t>(model.dense.size()) != layout.total_floats)
    return absl::InvalidArgumentError(
        model.job_id + ": the model has " + std::to_string(model.dense.size()) +
        " dense floats, its architecture needs " + std::to_string(layout.total_floats));
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return absl::UnavailableError("cannot create " + out_dir + ": " + ec.message());

  ExportSummary summary;
  json layers = json::array();
  AUGUR_RETURN_IF_ERROR(WriteLayers(layout.bottom, "bottom", model.dense, out_dir, &layers));
  AUGUR_RETURN_IF_ERROR(WriteLayers(layout.top, "top", model.dense, out_dir, &layers));
  summary.layers = static_cast<int>(layers.size());
  summary.dense_floats = layout.total_floats;

  AUGUR_ASSIGN_OR_RETURN(std::vector<TableSpec> tables, shards->ListTables().get());
  json tables_json = json::array();
  for (const auto& t : tables) {
    AUGUR_ASSIGN_OR_RETURN(shard::RowBlock rows, shards->ScanRows(t.id).get());
    const std::string base = out_dir + "/emb_" + t.name;
    const int64_t n = static_cast<int64_t>(rows.rows.size());
    AUGUR_RETURN_IF_ERROR(WriteNpy(base + "_ids.npy", std::span<const uint64_t>(rows.rows), {n}));
    AUGUR_RETURN_IF_ERROR(WriteNpy(base + "_values.npy", std::span<const float>(rows.values),
                                   {n, static_cast<int64_t>(t.dim)}));
    tables_json.push_back({{"name", t.name}, {"id", t.id}, {"rows", t.rows}, {"dim", t.dim},
                           {"exported_rows", n}, {"ids", "emb_" + t.name + "_ids.npy"},
                           {"values", "emb_" + t.name + "_values.npy"},
                           {"init", {{"lo", t.init_lo}, {"hi", t.init_hi}, {"seed", t.seed}}}});
    ++summary.tables;
    summary.rows += n;
  }
  json manifest = {
      {"format", "augur-export-1"},
      {"job_id", model.job_id},
      {"job_name", spec.name},
      {"architecture", ArchitectureJson(spec, config)},
      {"layers", layers},
      {"tables", tables_json},
      {"missing_rows",
       "ids absent from emb_<name>_ids.npy were never written by training and still hold their "
       "deterministic init (seed, table, row): treat them as init values or unknown, not zero"},
      {"job_yaml", model.job_yaml}};
  std::ofstream(out_dir + "/manifest.json") << manifest.dump(2) << "\n";
  return summary;
}

}  // namespace augur::cli
