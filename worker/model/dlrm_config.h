// The shape of a DLRM model (Naumov et al., 2019) and the one flat layout of its dense weights.
//
// Every backend (CPU, CUDA), the dense-gradient all-reduce, checkpoints and export agree on a
// single flat float vector of all MLP parameters, so collectives move one buffer and parity
// tests compare plain arrays. Layout (DenseLayout): bottom layers first, then top layers; each
// layer stores its weight W as out x in row-major (W[o * in + i]) followed by its bias b[out].
//
// Model:
//   bottom MLP  num_dense -> bottom[0] -> ... -> bottom.back() (== dim), ReLU after EVERY layer
//               (as the reference dlrm_s_pytorch.py does, including the last one);
//   embeddings  one sum-pooled bag per sparse feature, rows read from the worker's slot array;
//   interaction Z = [bottom_out, emb_1 .. emb_F] (F+1 vectors of dim); the dot products
//               <Z_i, Z_j> for i > j (i >= j with self_interaction), ordered i-major as the
//               reference's tril_indices; the top input is [bottom_out, dots];
//   top MLP     top_in -> top[0] -> ... -> top.back() (== 1), ReLU after all but the last layer;
//   loss        BCE with logits, averaged over the GLOBAL batch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace augur::model {

struct DlrmConfig {
  int num_dense = 13;             // dense (integer) features per sample, already transformed
  int num_sparse = 26;            // categorical features, one embedding bag each
  int dim = 16;                   // embedding dimension == bottom MLP output width
  std::vector<int> bottom;        // bottom MLP layer widths; bottom.back() == dim
  std::vector<int> top;           // top MLP layer widths; top.back() == 1
  bool self_interaction = false;  // include <Z_i, Z_i> in the interaction
};

// "kaggle": dim 16, bottom 512-256-64-16, top 512-256-1.
// "mlperf": dim 128, bottom 512-256-128, top 1024-1024-512-256-1.
// INVALID_ARGUMENT for any other name.
absl::StatusOr<DlrmConfig> DlrmPreset(std::string_view name);

// INVALID_ARGUMENT when a size is non-positive, bottom.back() != dim or top.back() != 1.
absl::Status ValidateDlrmConfig(const DlrmConfig& c);

// Number of interaction vectors (bottom output + one per sparse feature).
inline int InteractionVectors(const DlrmConfig& c) { return c.num_sparse + 1; }
// Number of dot products the interaction produces.
inline int InteractionPairs(const DlrmConfig& c) {
  int n = InteractionVectors(c);
  return c.self_interaction ? n * (n + 1) / 2 : n * (n - 1) / 2;
}
// Width of the top MLP input: dim + InteractionPairs.
inline int TopInputWidth(const DlrmConfig& c) { return c.dim + InteractionPairs(c); }

// One fully connected layer inside the flat dense-weight vector.
struct LayerSlice {
  int in = 0, out = 0;
  int64_t weight_offset = 0;  // W: out x in row-major
  int64_t bias_offset = 0;    // b: out
  bool relu = true;
};

// Where every layer lives in the flat vector; bottom layers then top layers.
struct DenseLayout {
  std::vector<LayerSlice> bottom, top;
  int64_t total_floats = 0;
};
DenseLayout MakeDenseLayout(const DlrmConfig& c);

// Multiply-adds of one forward pass per sample (MLPs + interaction); a training step is ~3x.
int64_t ForwardMacsPerSample(const DlrmConfig& c);

// Deterministic dense init from common/rng.h PhiloxStream(seed, layer index): the reference
// scheme, W ~ normal(0, sqrt(2 / (fan_in + fan_out))), b ~ normal(0, sqrt(1 / fan_out)); the
// weight stream uses element indices [0, in*out) and the bias stream [in*out, in*out + out).
std::vector<float> InitDenseWeights(const DlrmConfig& c, uint64_t seed);

}  // namespace augur::model
