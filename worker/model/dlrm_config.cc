// Presets, validation, the flat dense layout and deterministic init for the DLRM model.
#include "worker/model/dlrm_config.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/rng.h"

namespace augur::model {

std::string_view InteractionName(Interaction i) {
  return i == Interaction::kDcn ? "dcn" : "dot";
}

absl::StatusOr<Interaction> ParseInteraction(std::string_view name) {
  if (name == "dot") return Interaction::kDot;
  if (name == "dcn") return Interaction::kDcn;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown interaction '", std::string(name), "' (expected dot or dcn)"));
}

absl::StatusOr<DlrmConfig> DlrmPreset(std::string_view name) {
  DlrmConfig c;
  if (name == "kaggle") {
    c.dim = 16;
    c.bottom = {512, 256, 64, 16};
    c.top = {512, 256, 1};
  } else if (name == "mlperf" || name == "dlrmv2") {
    c.dim = 128;
    c.bottom = {512, 256, 128};
    c.top = {1024, 1024, 512, 256, 1};
    if (name == "dlrmv2") {
      c.interaction = Interaction::kDcn;
      c.cross_layers = 3;
      c.cross_rank = 512;
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown DLRM preset '", std::string(name), "' (expected kaggle, mlperf or dlrmv2)"));
  }
  return c;
}

static absl::Status ValidateInteraction(const DlrmConfig& c) {
  if (c.interaction == Interaction::kDcn) {
    if (c.cross_layers < 1 || c.cross_rank < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the dcn interaction needs cross_layers >= 1 and cross_rank >= 1, got cross_layers=",
          c.cross_layers, " cross_rank=", c.cross_rank));
    }
    if (c.self_interaction) {
      return absl::InvalidArgumentError("self_interaction is for the dot interaction, not dcn");
    }
    return absl::OkStatus();
  }
  if (c.interaction != Interaction::kDot) return absl::InvalidArgumentError("unknown interaction");
  if (c.cross_layers != 0 || c.cross_rank != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cross_layers and cross_rank are for the dcn interaction; the dot interaction needs "
        "them 0, got cross_layers=", c.cross_layers, " cross_rank=", c.cross_rank));
  }
  if (InteractionPairs(c) == 0) {
    return absl::InvalidArgumentError(
        "the dot interaction without dense features and without self_interaction needs at "
        "least 2 sparse features (the top MLP input would be empty)");
  }
  return absl::OkStatus();
}

absl::Status ValidateDlrmConfig(const DlrmConfig& c) {
  if (c.num_dense < 0 || c.num_sparse <= 0 || c.dim <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "num_dense must be >= 0, num_sparse and dim positive, got num_dense=", c.num_dense,
        " num_sparse=", c.num_sparse, " dim=", c.dim));
  }
  if (HasBottom(c)) {  // without dense features `bottom` is ignored (dlrm_config.h)
    if (c.bottom.empty() || c.bottom.back() != c.dim) {
      return absl::InvalidArgumentError(
          absl::StrCat("the bottom MLP must end at dim=", c.dim));
    }
    for (int w : c.bottom) {
      if (w <= 0) return absl::InvalidArgumentError("bottom MLP widths must be positive");
    }
  }
  if (c.top.empty() || c.top.back() != 1) {
    return absl::InvalidArgumentError("the top MLP must end in one logit");
  }
  if (!c.mean_pooling.empty() && static_cast<int>(c.mean_pooling.size()) != c.num_sparse) {
    return absl::InvalidArgumentError(absl::StrCat("mean_pooling gives ", c.mean_pooling.size(),
                                                   " features, the model has ", c.num_sparse));
  }
  for (int w : c.top) {
    if (w <= 0) return absl::InvalidArgumentError("top MLP widths must be positive");
  }
  return ValidateInteraction(c);
}

static void AppendLayers(int in, const std::vector<int>& widths, bool relu_last,
                         std::vector<LayerSlice>* layers, int64_t* cursor) {
  for (size_t l = 0; l < widths.size(); ++l) {
    LayerSlice s;
    s.in = in;
    s.out = widths[l];
    s.weight_offset = *cursor;
    s.bias_offset = *cursor + static_cast<int64_t>(s.in) * s.out;
    s.relu = relu_last || l + 1 < widths.size();
    *cursor = s.bias_offset + s.out;
    layers->push_back(s);
    in = s.out;
  }
}

DenseLayout MakeDenseLayout(const DlrmConfig& c) {
  DenseLayout d;
  int64_t cursor = 0;
  if (HasBottom(c)) AppendLayers(c.num_dense, c.bottom, /*relu_last=*/true, &d.bottom, &cursor);
  if (c.interaction == Interaction::kDcn) {
    const int in = CrossWidth(c);
    const int64_t matrix = static_cast<int64_t>(in) * c.cross_rank;
    for (int l = 0; l < c.cross_layers; ++l) {
      CrossSlice s;
      s.in = in;
      s.rank = c.cross_rank;
      s.v_offset = cursor;
      s.w_offset = cursor + matrix;
      s.bias_offset = cursor + 2 * matrix;
      cursor = s.bias_offset + in;
      d.cross.push_back(s);
    }
  }
  AppendLayers(TopInputWidth(c), c.top, /*relu_last=*/false, &d.top, &cursor);
  d.total_floats = cursor;
  return d;
}

int64_t ForwardMacsPerSample(const DlrmConfig& c) {
  DenseLayout d = MakeDenseLayout(c);
  int64_t macs = 0;
  for (const auto& l : d.bottom) macs += static_cast<int64_t>(l.in) * l.out;
  for (const auto& l : d.top) macs += static_cast<int64_t>(l.in) * l.out;
  // Cross layer: V x and W (V x) (rank * in each), then x0 * (.) + x (one multiply-add each).
  for (const auto& l : d.cross) macs += 2 * static_cast<int64_t>(l.in) * l.rank + l.in;
  return macs + static_cast<int64_t>(InteractionPairs(c)) * c.dim;
}

std::vector<float> InitDenseWeights(const DlrmConfig& c, uint64_t seed) {
  DenseLayout d = MakeDenseLayout(c);
  std::vector<float> w(d.total_floats, 0.0f);
  uint64_t stream = 0;
  auto init = [&](const LayerSlice& l) {
    PhiloxStream rng(seed, stream++);
    const int64_t n = static_cast<int64_t>(l.in) * l.out;
    const float ws = std::sqrt(2.0f / static_cast<float>(l.in + l.out));
    const float bs = std::sqrt(1.0f / static_cast<float>(l.out));
    for (int64_t i = 0; i < n; ++i) w[l.weight_offset + i] = ws * rng.Normal(i);
    for (int o = 0; o < l.out; ++o) w[l.bias_offset + o] = bs * rng.Normal(n + o);
  };
  for (const auto& l : d.bottom) init(l);
  for (const auto& l : d.top) init(l);
  for (const auto& l : d.cross) {  // after every MLP layer: see dlrm_config.h; b_l stays 0
    PhiloxStream rng(seed, stream++);
    const int64_t n = static_cast<int64_t>(l.in) * l.rank;
    const float s = std::sqrt(2.0f / static_cast<float>(l.in + l.rank));
    for (int64_t i = 0; i < n; ++i) w[l.v_offset + i] = s * rng.Normal(i);
    for (int64_t i = 0; i < n; ++i) w[l.w_offset + i] = s * rng.Normal(n + i);
  }
  return w;
}

}  // namespace augur::model
