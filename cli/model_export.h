// `augur export`: a trained model as plain .npy files plus manifest.json, loadable with numpy
// alone (tests/cli/dlrm_numpy.py is a reference reader that reimplements the forward pass).
//
// Files in the output directory:
//   bottom_<i>_weight.npy  float32 (out, in)   bottom MLP layer i (ReLU after every layer)
//   bottom_<i>_bias.npy    float32 (out,)
//   top_<i>_weight.npy / top_<i>_bias.npy      top MLP (ReLU after all but the last layer)
//   cross_<i>_v.npy        float32 (rank, in)  dcn only: cross layer i, x = x0 * ((x @ V.T)
//   cross_<i>_w.npy        float32 (in, rank)            @ W.T + b) + x (worker/model/
//   cross_<i>_bias.npy     float32 (in,)                 dlrm_config.h)
//   emb_<name>_ids.npy     uint64 (rows,)      ids of the table's rows that were ever written
//   emb_<name>_values.npy  float32 (rows, dim) their values, in the same order
//   manifest.json          architecture, dense transform, interaction order, tables, job id
// A dot model with dense features has the manifest it always had; a dcn model or one without
// dense features adds architecture.interaction_kind ("dot" when absent), cross_layers and
// cross_rank (dcn) and a top-level "cross" list; without dense features "bottom" is empty.
// Embedding rows never written by training are not exported: they still hold their
// deterministic init (common/table_spec.h InitialRowRecord of seed, table, row), so a reader
// must treat an id missing from emb_<name>_ids.npy as "init value" (or unknown), never zero.
// The rows are the shards' current contents: export right after the job, before another job
// trains the same tables.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "cli/oracle_client.h"

namespace augur::shard {
class ShardClient;
}

namespace augur::cli {

struct ExportSummary {
  int layers = 0;
  int64_t dense_floats = 0;
  int tables = 0;
  int64_t rows = 0;  // embedding rows exported over all tables
};

// Writes `model` (from OracleClient::GetModel) and every table the shards hold to `out_dir`
// (created if missing; existing files of the same names are replaced). INVALID_ARGUMENT when the
// dense weights do not match the job's model layout; shard errors pass through.
absl::StatusOr<ExportSummary> ExportModel(const TrainedModel& model, shard::ShardClient* shards,
                                          const std::string& out_dir);

}  // namespace augur::cli
