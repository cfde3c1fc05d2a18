// The shape of a DLRM model (Naumov et al., 2019), with the dot interaction of the original or
// the DCNv2 low-rank cross network of MLPerf DLRMv2, and the one flat layout of its dense weights.
//
// Every backend (CPU, CUDA), the dense-gradient all-reduce, checkpoints and export agree on a
// single flat float vector of all dense parameters, so collectives move one buffer and parity
// tests compare plain arrays. Layout (DenseLayout): bottom layers first, then the cross layers
// (dcn only), then the top layers. Each MLP layer stores its weight W as out x in row-major
// (W[o * in + i]) followed by its bias b[out]. Each cross layer l stores V_l (rank x in
// row-major), then W_l (in x rank row-major), then b_l[in] -- the shapes of TorchRec's
// LowRankCrossNet V_kernels / W_kernels / bias, so y = x @ V.T and z = y @ W.T + b. With the
// dot interaction there are no cross layers, and the layout is the one earlier versions wrote.
//
// Model:
//   bottom MLP  num_dense -> bottom[0] -> ... -> bottom.back() (== dim), ReLU after EVERY layer
//               (as the reference dlrm_s_pytorch.py does, including the last one);
//   embeddings  one pooled bag per sparse feature (multi-hot bags: the sum of the bag's rows,
//               or for a mean-pooled feature that sum times 1/n, n the bag's size, the
//               reciprocal rounded once to float; an empty bag pools to zeros), rows read from
//               the worker's slot array;
//   vectors     Z = [bottom_out, emb_1 .. emb_F]: V = F+1 vectors of dim;
//   interaction dot: the dot products <Z_i, Z_j> for i > j (i >= j with self_interaction),
//               ordered i-major as the reference's tril_indices; the top input is
//               [bottom_out, dots];
//               dcn (DCNv2, MLPerf DLRMv2 / TorchRec LowRankCrossNet): x0 = concat(Z) (width
//               V*dim), x_{l+1} = x0 * (W_l (V_l x_l) + b_l) + x_l for l = 0..cross_layers-1
//               (* elementwise), and the top input is x_L (width V*dim);
//   top MLP     top_in -> top[0] -> ... -> top.back() (== 1), ReLU after all but the last layer;
//   loss        BCE with logits, averaged over the GLOBAL batch.
//
// Datasets without dense features (num_dense == 0, e.g. Avazu): there is no bottom MLP and no
// bottom_out. `bottom` may still be set (the presets set it) and is IGNORED: it is neither
// validated nor given layers in the layout, so a preset fits both kinds of dataset. Z is then
// [emb_1 .. emb_F] (V = F); dot: the top input is the dots alone (no dense part), so at least
// one pair must exist (F >= 2, or self_interaction); dcn: x0 = concat(emb_1 .. emb_F).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace augur::model {

enum class Interaction { kDot, kDcn };

// "dot" / "dcn".
std::string_view InteractionName(Interaction i);
// INVALID_ARGUMENT for anything but "dot" and "dcn".
absl::StatusOr<Interaction> ParseInteraction(std::string_view name);

struct DlrmConfig {
  int num_dense = 13;             // dense (integer) features per sample, transformed; may be 0
  int num_sparse = 26;            // categorical features, one embedding bag each
  int dim = 16;                   // embedding dimension == bottom MLP output width
  std::vector<int> bottom;        // bottom MLP widths; bottom.back() == dim (ignored if no dense)
  std::vector<int> top;           // top MLP layer widths; top.back() == 1
  bool self_interaction = false;  // dot only: include <Z_i, Z_i> in the interaction
  Interaction interaction = Interaction::kDot;
  int cross_layers = 0;           // dcn only (then >= 1): number of cross layers
  int cross_rank = 0;             // dcn only (then >= 1): rank of each layer's V_l / W_l
  // Per sparse feature: 1 = its bag pools by the MEAN of its rows (the sum times 1/n, n the
  // bag's size; an empty bag stays zero), 0 = by the sum. Empty = every feature sums.
  std::vector<uint8_t> mean_pooling;
};

// Whether feature f pools by its mean (DlrmConfig::mean_pooling).
inline bool MeanPooled(const DlrmConfig& c, int f) {
  return f < static_cast<int>(c.mean_pooling.size()) && c.mean_pooling[f] != 0;
}

// "kaggle": dim 16, bottom 512-256-64-16, top 512-256-1, dot.
// "mlperf": dim 128, bottom 512-256-128, top 1024-1024-512-256-1, dot (MLPerf DLRM v1).
// "dlrmv2": dim 128, bottom 512-256-128, top 1024-1024-512-256-1, dcn with 3 cross layers of
//           rank 512 (MLPerf DLRMv2).
// INVALID_ARGUMENT for any other name.
absl::StatusOr<DlrmConfig> DlrmPreset(std::string_view name);

// INVALID_ARGUMENT when a size is out of range (num_dense < 0, num_sparse or dim < 1), a used
// bottom MLP does not end at dim, top.back() != 1, the dot interaction has no pair, dcn lacks
// cross_layers / cross_rank, or cross_* / self_interaction are set for the other interaction.
absl::Status ValidateDlrmConfig(const DlrmConfig& c);

// Whether the model has a bottom MLP (and so bottom_out leads Z).
inline bool HasBottom(const DlrmConfig& c) { return c.num_dense > 0; }
// Number of interaction vectors in Z (bottom output when present, one per sparse feature).
inline int InteractionVectors(const DlrmConfig& c) { return c.num_sparse + (HasBottom(c) ? 1 : 0); }
// Index in Z of emb_1 (1 with a bottom MLP, else 0).
inline int FirstEmbeddingVector(const DlrmConfig& c) { return HasBottom(c) ? 1 : 0; }
// Number of dot products the dot interaction produces (0 for dcn).
inline int InteractionPairs(const DlrmConfig& c) {
  if (c.interaction != Interaction::kDot) return 0;
  int n = InteractionVectors(c);
  return c.self_interaction ? n * (n + 1) / 2 : n * (n - 1) / 2;
}
// Width of the concatenated Z, the cross network's width.
inline int CrossWidth(const DlrmConfig& c) { return InteractionVectors(c) * c.dim; }
// Width of the top MLP input: dot: (dim if there is a bottom MLP) + InteractionPairs;
// dcn: CrossWidth.
inline int TopInputWidth(const DlrmConfig& c) {
  if (c.interaction == Interaction::kDcn) return CrossWidth(c);
  return (HasBottom(c) ? c.dim : 0) + InteractionPairs(c);
}

// One fully connected layer inside the flat dense-weight vector.
struct LayerSlice {
  int in = 0, out = 0;
  int64_t weight_offset = 0;  // W: out x in row-major
  int64_t bias_offset = 0;    // b: out
  bool relu = true;
};

// One DCNv2 cross layer inside the flat dense-weight vector: x' = x0 * (W (V x) + b) + x.
struct CrossSlice {
  int in = 0, rank = 0;
  int64_t v_offset = 0;     // V: rank x in row-major
  int64_t w_offset = 0;     // W: in x rank row-major
  int64_t bias_offset = 0;  // b: in
};

// Where every layer lives in the flat vector: bottom layers, cross layers, top layers.
struct DenseLayout {
  std::vector<LayerSlice> bottom, top;  // bottom is empty when num_dense == 0
  std::vector<CrossSlice> cross;        // empty for the dot interaction
  int64_t total_floats = 0;
};
DenseLayout MakeDenseLayout(const DlrmConfig& c);

// Multiply-adds of one forward pass per sample (MLPs + interaction: the dot products, or per
// cross layer its two low-rank GEMMs and the x0 product); a training step is ~3x.
int64_t ForwardMacsPerSample(const DlrmConfig& c);

// Deterministic dense init from common/rng.h PhiloxStream(seed, stream). MLP layers follow the
// reference scheme, W ~ normal(0, sqrt(2 / (fan_in + fan_out))), b ~ normal(0, sqrt(1 /
// fan_out)), the weight stream using element indices [0, in*out) and the bias [in*out,
// in*out + out); bottom layers take streams 0..nb-1 and top layers nb..nb+nt-1, as before the
// cross network existed, so dot models initialise exactly as they always did. Cross layer l
// takes stream nb + nt + l, after every MLP layer: V_l and W_l are Xavier normal as TorchRec
// initialises them, normal(0, sqrt(2 / (in + rank))), V_l from element indices [0, rank*in)
// and W_l from [rank*in, 2*rank*in); b_l is zero (TorchRec's init).
std::vector<float> InitDenseWeights(const DlrmConfig& c, uint64_t seed);

}  // namespace augur::model
