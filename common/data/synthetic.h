// `augur data gen`: synthetic Criteo-like datasets, the project's embedded default for demos and
// benchmarks. Same binary format as `prep` (manifest.h), table_rows = the profile's cardinality.
//
// Sparse ids: per feature, a Zipf(alpha) rank over [1, cardinality] (zipf.h), scrambled by a
// per-feature affine bijection id = (a·(rank-1) + b) mod cardinality so hot ids are spread over
// the table rather than 0..k. The default alpha = 1.05 puts 69% (93K-row table), 77% (2.2M) and
// 80% (10M) of a feature's accesses on the top 1% of its id space: a small hot set takes most
// accesses, as measured on the real sample (criteo_stats.md §3: top 1% of ids = 57.6% of lookups).
// Dense: log-normal counts with per-feature missing rates from the real sample, then the same
// log(1 + x) transform as prep. Labels: Bernoulli(sigmoid(hidden score)), the score a fixed linear
// function of three dense values and a hashed weight of the ids of six features, so a model can
// learn them (AUC well above 0.5).
//
// Determinism: every value is a pure function of (seed, row, field) through Philox4x32-10
// (common/rng.h), so the output is byte-identical for a seed whatever the thread count, and rows
// can be generated in any order. The id scramble and the hidden label function do NOT depend on
// the seed: datasets generated with different seeds (train / eval) share hot ids and ground truth.
// Thread-safety: GenerateRows is reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/data/dataset_writer.h"

namespace augur::data {

enum class SyntheticProfile { kCriteoKaggle, kCriteo1Tb, kUniform };
inline constexpr double kDefaultZipfAlpha = 1.05;

// "criteo-kaggle" | "criteo-1tb" | "uniform"; INVALID_ARGUMENT listing them otherwise.
absl::StatusOr<SyntheticProfile> ParseSyntheticProfile(std::string_view name);
std::string_view SyntheticProfileName(SyntheticProfile p);
// Per-feature cardinalities: Kaggle (criteo_stats.md §2a) for kCriteoKaggle and kUniform, the
// 24-day raw distinct counts (§2b) for kCriteo1Tb.
const std::array<uint64_t, kNumSparse>& ProfileCardinalities(SyntheticProfile p);

struct SyntheticOptions {
  SyntheticProfile profile = SyntheticProfile::kCriteoKaggle;
  int64_t samples = 0;
  uint64_t seed = 0;
  double zipf_alpha = -1;  // < 0: the profile default (1.05; 0 = uniform ids for kUniform)
  int threads = 0;         // 0: one per core
  // Multi-hot bag sizes, one per sparse feature (empty: every feature one-hot). A feature of
  // size k > 1 is stored multi-hot with exactly k ids per sample, each an independent draw of
  // the feature's Zipf (repeats possible, as in the MLPerf DLRMv2 synthetic data); size 1 stays
  // one-hot. The first id of a bag is the id the one-hot dataset of the same seed has, and the
  // hidden label function reads only first ids.
  std::vector<int> multi_hot;
  double alpha() const;
  FeatureLayout layout() const;
};

// "--multi-hot" values: "mlperf" (the MLPerf DLRMv2 sizes 3,2,1,2,6,1,1,1,1,7,3,8,1,6,9,5,1,1,1,
// 12,100,27,10,3,1,1), "none", or 26 sizes in 1..4096 separated by commas. INVALID_ARGUMENT
// otherwise.
absl::StatusOr<std::vector<int>> ParseMultiHot(std::string_view spec);

// Rows [first_row, first_row + out->size()) of the dataset `options` describes, into `out`
// (pre-sized by the caller with ColumnBlock::Resize(n, options.layout())).
void GenerateRows(const SyntheticOptions& options, int64_t first_row, ColumnBlock* out);

// Writes the whole dataset atomically to `out_dir`. INVALID_ARGUMENT for samples < 1 or a
// negative alpha; writer errors (ALREADY_EXISTS...) pass through.
absl::StatusOr<Manifest> GenerateDataset(const SyntheticOptions& options,
                                         const std::string& out_dir);

}  // namespace augur::data
