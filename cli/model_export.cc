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

// The cross layers as cross_<i>_v.npy (rank, in), cross_<i>_w.npy (in, rank), and
// cross_<i>_bias.npy (in,).
absl::Status WriteCrossLayers(const std::vector<model::CrossSlice>& layers,
                              const std::vector<float>& dense, const std::string& dir,
                              json* out) {
  std::span<const float> all(dense);
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    const std::string name = "cross_" + std::to_string(i);
    const int64_t n = int64_t{l.in} * l.rank;
    AUGUR_RETURN_IF_ERROR(
        WriteNpy(dir + "/" + name + "_v.npy", all.subspan(l.v_offset, n), {l.rank, l.in}));
    AUGUR_RETURN_IF_ERROR(
        WriteNpy(dir + "/" + name + "_w.npy", all.subspan(l.w_offset, n), {l.in, l.rank}));
    AUGUR_RETURN_IF_ERROR(
        WriteNpy(dir + "/" + name + "_bias.npy", all.subspan(l.bias_offset, l.in), {l.in}));
    out->push_back({{"name", name}, {"in", l.in}, {"rank", l.rank}});
  }
  return absl::OkStatus();
}

// A dot model with dense features is described exactly as before the dcn interaction and
// num_dense == 0 existed (no interaction_kind key: readers default to dot).
json ArchitectureJson(const job::JobSpec& spec, const model::DlrmConfig& c) {
  const bool classic = c.interaction == model::Interaction::kDot && model::HasBottom(c);
  json a = {{"preset", spec.model.preset},
            {"dim", c.dim},
            {"bottom", model::HasBottom(c) ? c.bottom : std::vector<int>{}},
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
  if (!c.mean_pooling.empty()) {
    std::vector<int> mean;
    for (int f = 0; f < c.num_sparse; ++f)
      if (model::MeanPooled(c, f)) mean.push_back(f);
    a["mean_pooled"] = mean;
    a["embedding_pooling"] =
        "sum over the bag; features listed in mean_pooled: that sum times float32(1 / bag size) "
        "(an empty bag is zero)";
  }
  if (classic) return a;
  a["interaction_kind"] = std::string(model::InteractionName(c.interaction));
  const std::string z = model::HasBottom(c)
                            ? "Z = [bottom_out, emb_1..emb_F]"
                            : "Z = [emb_1..emb_F] (no dense features, no bottom MLP)";
  if (c.interaction == model::Interaction::kDcn) {
    a["cross_layers"] = c.cross_layers;
    a["cross_rank"] = c.cross_rank;
    a["interaction"] =
        z + "; DCNv2 (TorchRec LowRankCrossNet): x0 = concat(Z) per sample, for each cross layer "
            "x = x0 * ((x @ V.T) @ W.T + b) + x with cross_<i>_v (rank, in), cross_<i>_w (in, "
            "rank), cross_<i>_bias (in,); top input = the last x";
  } else {
    a["interaction"] = z + "; dot products <Z_i, Z_j> for i > j (i >= j with self_interaction), "
                           "i-major (numpy tril_indices(F, -1) order); top input = the dots alone";
  }
  return a;
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
  json cross = json::array();
  AUGUR_RETURN_IF_ERROR(WriteCrossLayers(layout.cross, model.dense, out_dir, &cross));
  summary.layers = static_cast<int>(layers.size() + cross.size());
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
  if (!cross.empty()) manifest["cross"] = cross;
  std::ofstream(out_dir + "/manifest.json") << manifest.dump(2) << "\n";
  return summary;
}

}  // namespace augur::cli
