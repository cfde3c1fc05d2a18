// Counter layout of the Philox draws: (row low, row high, purpose, attempt) under key = seed,
// where purpose is the sparse feature (0..25) plus 65536 x the position in a multi-hot bag,
// 32 + dense feature, or 64 for the label. Position 0 draws what a one-hot feature draws.
#include "common/data/synthetic.h"

#include <cmath>
#include <numeric>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/data/zipf.h"
#include "common/rng.h"
#include "common/status.h"

namespace augur::data {
namespace {

constexpr std::array<uint64_t, kNumSparse> kKaggle = {
    1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194,
    27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572};
constexpr std::array<uint64_t, kNumSparse> k1Tb = {
    227605432, 39060, 17295, 7424, 20265, 3, 7122, 1543, 63, 130229467, 3067956, 405282, 10,
    2209, 11938, 155, 4, 976, 14, 292775614, 40790948, 187188510, 590152, 12973, 108, 36};
// Missing rates per dense feature, rounded from the real 8,000-row sample (README).
constexpr std::array<float, kNumDense> kDenseMissing = {0.45f, 0.0f, 0.2f, 0.2f, 0.03f, 0.2f, 0.04f,
                                                        0.0f, 0.04f, 0.45f, 0.04f, 0.78f, 0.2f};
constexpr int kLabelPurpose = 64;
constexpr int kDensePurpose = 32;
constexpr std::array<int, 6> kLabelFeatures = {0, 1, 4, 6, 8, 13};  // C1 C2 C5 C7 C9 C14

uint64_t Mix64(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

double ToUnit(uint32_t hi, uint32_t lo) {  // 53 random bits -> [0, 1)
  return static_cast<double>((static_cast<uint64_t>(hi) << 21) ^ lo) * 0x1.0p-53;
}

// id = (a·r + b) mod n with gcd(a, n) = 1: a bijection of [0, n) fixed per (profile, feature).
struct Scramble {
  uint64_t n, a, b;
  Scramble(uint64_t n_, uint64_t salt) : n(n_) {
    uint64_t h = Mix64(salt);
    a = n <= 1 ? 0 : (h % n) | 1;
    while (n > 1 && std::gcd(a, n) != 1) a = (a + 2) % n;
    b = n <= 1 ? 0 : Mix64(h) % n;
  }
  uint32_t operator()(uint64_t r) const {
    if (n <= 1) return 0;
    return static_cast<uint32_t>((static_cast<unsigned __int128>(a) * r + b) % n);
  }
};

// The hidden weight of an id: uniform in [-1, 1), fixed for (feature, id).
float IdWeight(int f, uint32_t id) {
  return static_cast<float>(Mix64((uint64_t(f) << 32) ^ id ^ 0x5851f42d4c957f2dull) >> 40) *
             0x1.0p-23f - 1.0f;
}

}  // namespace

absl::StatusOr<SyntheticProfile> ParseSyntheticProfile(std::string_view name) {
  if (name == "criteo-kaggle") return SyntheticProfile::kCriteoKaggle;
  if (name == "criteo-1tb") return SyntheticProfile::kCriteo1Tb;
  if (name == "uniform") return SyntheticProfile::kUniform;
  return absl::InvalidArgumentError(absl::StrCat("unknown profile '", std::string(name),
                                                 "' (criteo-kaggle, criteo-1tb, uniform)"));
}

std::string_view SyntheticProfileName(SyntheticProfile p) {
  switch (p) {
    case SyntheticProfile::kCriteoKaggle: return "criteo-kaggle";
    case SyntheticProfile::kCriteo1Tb: return "criteo-1tb";
    case SyntheticProfile::kUniform: return "uniform";
  }
  return "?";
}

const std::array<uint64_t, kNumSparse>& ProfileCardinalities(SyntheticProfile p) {
  return p == SyntheticProfile::kCriteo1Tb ? k1Tb : kKaggle;
}

double SyntheticOptions::alpha() const {
  if (zipf_alpha >= 0) return zipf_alpha;
  return profile == SyntheticProfile::kUniform ? 0.0 : kDefaultZipfAlpha;
}

absl::StatusOr<std::vector<int>> ParseMultiHot(std::string_view spec) {
  std::vector<int> sizes;
  if (spec.empty() || spec == "none") return sizes;
  if (spec == "mlperf") {
    return std::vector<int>{3, 2, 1, 2, 6, 1, 1, 1, 1, 7, 3, 8, 1,
                            6, 9, 5, 1, 1, 1, 12, 100, 27, 10, 3, 1, 1};
  }
  for (absl::string_view part : absl::StrSplit(absl::string_view(spec.data(), spec.size()), ',')) {
    int k = 0;
    if (!absl::SimpleAtoi(part, &k) || k < 1 || k > 4096) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--multi-hot: '", std::string(part.substr(0, 40)), "' is not a bag size in 1..4096 (give mlperf, none or ",
          kNumSparse, " sizes separated by commas)"));
    }
    sizes.push_back(k);
  }
  if (sizes.size() != kNumSparse) {
    return absl::InvalidArgumentError(absl::StrCat("--multi-hot: ", sizes.size(), " sizes given, ",
                                                   kNumSparse, " features to size"));
  }
  return sizes;
}

FeatureLayout SyntheticOptions::layout() const {
  FeatureLayout l = FeatureLayout::Criteo();
  for (size_t f = 0; f < multi_hot.size() && f < l.sparse.size(); ++f) {
    l.sparse[f].multi_hot = multi_hot[f] > 1;
  }
  return l;
}

void GenerateRows(const SyntheticOptions& o, int64_t first_row, ColumnBlock* out) {
  const auto& card = ProfileCardinalities(o.profile);
  const std::array<uint32_t, 2> key = {static_cast<uint32_t>(o.seed),
                                       static_cast<uint32_t>(o.seed >> 32)};
  std::vector<ZipfSampler> zipf;
  std::vector<Scramble> scramble;
  for (int f = 0; f < kNumSparse; ++f) {
    zipf.emplace_back(card[f], o.alpha());
    scramble.emplace_back(card[f], (static_cast<uint64_t>(o.profile) << 8) | f);
  }
  const size_t n = out->size();
  for (int f = 0; f < kNumSparse; ++f) {
    if (!out->lengths[f].empty()) out->sparse[f].clear();
  }
  std::array<uint32_t, kNumSparse> first_id{};
  for (size_t i = 0; i < n; ++i) {
    const uint64_t row = static_cast<uint64_t>(first_row) + i;
    const uint32_t lo = static_cast<uint32_t>(row), hi = static_cast<uint32_t>(row >> 32);
    for (int f = 0; f < kNumSparse; ++f) {
      const bool bag = !out->lengths[f].empty();
      const int k = bag ? o.multi_hot[f] : 1;
      for (int pos = 0; pos < k; ++pos) {
        std::array<uint32_t, 4> bits{};
        int block = -1;
        const uint32_t purpose = static_cast<uint32_t>(f) + (static_cast<uint32_t>(pos) << 16);
        auto uniform = [&](int attempt) {
          if (attempt / 2 != block) {
            block = attempt / 2;
            bits = Philox4x32({lo, hi, purpose, static_cast<uint32_t>(block)}, key);
          }
          return attempt % 2 == 0 ? ToUnit(bits[0], bits[1]) : ToUnit(bits[2], bits[3]);
        };
        const uint32_t id = scramble[f](zipf[f].Sample(uniform) - 1);
        if (pos == 0) first_id[f] = id;
        if (bag) {
          out->sparse[f].push_back(id);
        } else {
          out->sparse[f][i] = id;
        }
      }
      if (bag) out->lengths[f][i] = static_cast<uint32_t>(k);
    }
    for (int j = 0; j < kNumDense; ++j) {
      auto b = Philox4x32({lo, hi, static_cast<uint32_t>(kDensePurpose + j), 0}, key);
      if (UnitFloat(b[0]) < kDenseMissing[j]) {
        out->dense[j][i] = 0.0f;
        continue;
      }
      // Log-normal count: median e^(1 + j/4), heavier tails for later features.
      float u1 = UnitFloat(b[1]) + 0x1.0p-25f, u2 = UnitFloat(b[2]);
      float z = std::sqrt(-2.0f * std::log(u1)) * std::cos(6.28318530718f * u2);
      double count = std::floor(std::exp(1.0 + 0.25 * j + (0.8 + 0.05 * j) * z));
      out->dense[j][i] = DenseTransform(static_cast<int64_t>(std::min(count, 1e9)));
    }
    float score = -1.6f + 0.35f * out->dense[0][i] - 0.25f * out->dense[2][i] +
                  0.2f * out->dense[6][i] - 0.6f;
    for (int f : kLabelFeatures) score += 1.2f * IdWeight(f, first_id[f]);
    auto b = Philox4x32({lo, hi, kLabelPurpose, 0}, key);
    float p = 1.0f / (1.0f + std::exp(-score));
    out->labels[i] = UnitFloat(b[0]) < p ? 1 : 0;
  }
}

absl::StatusOr<Manifest> GenerateDataset(const SyntheticOptions& o, const std::string& out_dir) {
  if (o.samples < 1) return absl::InvalidArgumentError("--samples must be at least 1");
  if (o.alpha() < 0 || !std::isfinite(o.alpha())) {
    return absl::InvalidArgumentError("--zipf must be >= 0");
  }
  if (!o.multi_hot.empty() && o.multi_hot.size() != kNumSparse) {
    return absl::InvalidArgumentError(absl::StrCat("multi_hot must size all ", kNumSparse, " features"));
  }
  DatasetWriterOptions w;
  w.layout = o.layout();
  w.transform = SparseTransform::kSynthetic;
  const auto& card = ProfileCardinalities(o.profile);
  w.table_rows.assign(card.begin(), card.end());
  w.source = {{"kind", "synthetic"},
              {"profile", std::string(SyntheticProfileName(o.profile))},
              {"seed", absl::StrCat(o.seed)},
              {"zipf_alpha", absl::StrCat(o.alpha())}};
  if (!o.multi_hot.empty()) w.source["multi_hot"] = absl::StrJoin(o.multi_hot, ",");
  AUGUR_ASSIGN_OR_RETURN(auto writer, DatasetWriter::Create(out_dir, w));
  const int threads = o.threads > 0 ? o.threads
                                    : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  constexpr int64_t kChunk = 1 << 18;
  std::vector<ColumnBlock> blocks(threads);
  for (int64_t start = 0; start < o.samples; start += kChunk * threads) {
    std::vector<std::thread> pool;
    int used = 0;
    for (int t = 0; t < threads; ++t) {
      int64_t first = start + t * kChunk;
      if (first >= o.samples) break;
      blocks[t].Resize(static_cast<size_t>(std::min(kChunk, o.samples - first)), w.layout);
      pool.emplace_back([&o, &blocks, t, first] { GenerateRows(o, first, &blocks[t]); });
      ++used;
    }
    for (auto& th : pool) th.join();
    for (int t = 0; t < used; ++t) AUGUR_RETURN_IF_ERROR(writer->AppendBlock(blocks[t]));
  }
  return writer->Finish();
}

}  // namespace augur::data
