#include "worker/model/job_model.h"

#include "common/status.h"

namespace augur::worker {

absl::StatusOr<model::DlrmConfig> ModelConfigOf(const job::JobSpec& spec) {
  model::DlrmConfig c;
  if (spec.model.preset != "custom") {
    AUGUR_ASSIGN_OR_RETURN(c, model::DlrmPreset(spec.model.preset));
  }
  if (spec.model.dim > 0) c.dim = spec.model.dim;
  if (!spec.model.bottom.empty()) c.bottom = spec.model.bottom;
  if (!spec.model.top.empty()) c.top = spec.model.top;
  c.self_interaction = spec.model.self_interaction;
  // The input widths come from the dataset (the oracle records them in data.*); the presets'
  // 13 and 26 are Criteo's.
  if (spec.data.num_dense >= 0) c.num_dense = spec.data.num_dense;
  if (spec.data.num_sparse > 0) c.num_sparse = spec.data.num_sparse;
  if (!spec.data.mean_pooled.empty()) {
    c.mean_pooling.assign(c.num_sparse, 0);
    for (int f : spec.data.mean_pooled) {
      if (f < 0 || f >= c.num_sparse)
        return absl::InvalidArgumentError("data.mean_pooled: feature " + std::to_string(f) +
                                          " is not one of the model's " +
                                          std::to_string(c.num_sparse));
      c.mean_pooling[f] = 1;
    }
  }
  // The spec was validated: the interaction is dot or dcn.
  auto interaction = model::ParseInteraction(job::EffectiveInteraction(spec.model));
  if (!interaction.ok()) {
    return absl::InvalidArgumentError("model: " + std::string(interaction.status().message()));
  }
  c.interaction = *interaction;
  if (spec.model.cross_layers > 0) c.cross_layers = spec.model.cross_layers;
  if (spec.model.cross_rank > 0) c.cross_rank = spec.model.cross_rank;
  if (c.interaction == model::Interaction::kDot) {
    c.cross_layers = 0;  // "preset: dlrmv2, interaction: dot" drops the preset's cross network
    c.cross_rank = 0;
  }
  auto st = model::ValidateDlrmConfig(c);
  if (!st.ok()) return absl::InvalidArgumentError("model: " + std::string(st.message()));
  return c;
}

absl::StatusOr<int64_t> DenseWeightCountOf(const job::JobSpec& spec) {
  AUGUR_ASSIGN_OR_RETURN(model::DlrmConfig c, ModelConfigOf(spec));
  return model::MakeDenseLayout(c).total_floats;
}

}  // namespace augur::worker
