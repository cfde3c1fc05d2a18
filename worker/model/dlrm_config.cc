// Presets, validation, the flat dense layout and deterministic init for the DLRM model.
#include "worker/model/dlrm_config.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/rng.h"

namespace augur::model {

absl::StatusOr<DlrmConfig> DlrmPreset(std::string_view name) {
  DlrmConfig c;
  if (name == "kaggle") {
    c.dim = 16;
    c.bottom = {512, 256, 64, 16};
    c.top = {512, 256, 1};
  } else if (name == "mlperf") {
    c.dim = 128;
    c.bottom = {512, 256, 128};
    c.top = {1024, 1024, 512, 256, 1};
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown DLRM preset '", std::string(name), "' (expected kaggle or mlperf)"));
  }
  return c;
}

absl::Status ValidateDlrmConfig(const DlrmConfig& c) {
  if (c.num_dense <= 0 || c.num_sparse <= 0 || c.dim <= 0) {
    return absl::InvalidArgumentError("num_dense, num_sparse and dim must be positive");
  }
  if (c.bottom.empty() || c.bottom.back() != c.dim) {
    return absl::InvalidArgumentError(
        absl::StrCat("the bottom MLP must end at dim=", c.dim));
  }
  if (c.top.empty() || c.top.back() != 1) {
    return absl::InvalidArgumentError("the top MLP must end in one logit");
  }
  for (int w : c.bottom) {
    if (w <= 0) return absl::InvalidArgumentError("bottom MLP widths must be positive");
  }
  for (int w : c.top) {
    if (w <= 0) return absl::InvalidArgumentError("top MLP widths must be positive");
  }
  return absl::OkStatus();
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
  AppendLayers(c.num_dense, c.bottom, /*relu_last=*/true, &d.bottom, &cursor);
  AppendLayers(TopInputWidth(c), c.top, /*relu_last=*/false, &d.top, &cursor);
  d.total_floats = cursor;
  return d;
}

int64_t ForwardMacsPerSample(const DlrmConfig& c) {
  DenseLayout d = MakeDenseLayout(c);
  int64_t macs = 0;
  for (const auto& l : d.bottom) macs += static_cast<int64_t>(l.in) * l.out;
  for (const auto& l : d.top) macs += static_cast<int64_t>(l.in) * l.out;
  return macs + static_cast<int64_t>(InteractionPairs(c)) * c.dim;
}

std::vector<float> InitDenseWeights(const DlrmConfig& c, uint64_t seed) {
  DenseLayout d = MakeDenseLayout(c);
  std::vector<float> w(d.total_floats);
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
  return w;
}

}  // namespace augur::model
