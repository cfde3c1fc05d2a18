// augur data gen: determinism, bounds, skew and learnable labels.
#include "common/data/synthetic.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <map>
#include <unordered_map>

#include "common/data/dataset.h"
#include "common/data/zipf.h"
#include "tests/data/data_test_util.h"
#include "tests/support/test_paths.h"

using namespace augur::data;
using augur::testing::ReadFile;
using augur::testing::ScratchDir;

namespace {

std::string AllColumns(const std::string& dir) {
  std::string all;
  for (const auto& c : ExpectedColumns(FeatureLayout::Criteo())) all += ReadFile(dir + "/" + c.file);
  return all;
}

std::string Gen(const ScratchDir& tmp, const std::string& name, uint64_t seed, int64_t n,
                int threads, SyntheticProfile p = SyntheticProfile::kCriteoKaggle) {
  SyntheticOptions o;
  o.profile = p;
  o.samples = n;
  o.seed = seed;
  o.threads = threads;
  std::string dir = tmp.path() + "/" + name;
  REQUIRE(GenerateDataset(o, dir).ok());
  return dir;
}

}  // namespace

TEST_CASE("gen writes the same bytes for the same seed whatever the thread count") {
  ScratchDir tmp("gen-det");
  auto a = Gen(tmp, "a", 7, 300000, 1);
  auto b = Gen(tmp, "b", 7, 300000, 3);
  auto c = Gen(tmp, "c", 8, 300000, 2);
  CHECK(AllColumns(a) == AllColumns(b));
  CHECK(ReadFile(a + "/manifest.json") == ReadFile(b + "/manifest.json"));
  CHECK(ReadFile(a + "/C3.u32") != ReadFile(c + "/C3.u32"));
  CHECK(ReadFile(a + "/I5.f32") != ReadFile(c + "/I5.f32"));
  CHECK(ReadFile(a + "/label.u8") != ReadFile(c + "/label.u8"));
}

TEST_CASE("generated ids stay below each profile's cardinality, which is the table size") {
  ScratchDir tmp("gen-bounds");
  for (auto p : {SyntheticProfile::kCriteoKaggle, SyntheticProfile::kCriteo1Tb,
                 SyntheticProfile::kUniform}) {
    auto ds = Dataset::Open(Gen(tmp, std::string(SyntheticProfileName(p)), 1, 20000, 2, p),
                            {.verify_checksums = true});
    REQUIRE(ds.ok());
    for (int f = 0; f < kNumSparse; ++f) {
      uint64_t card = ProfileCardinalities(p)[f];
      CHECK((*ds)->table_rows(f) == card);
      auto col = (*ds)->sparse_column(f);
      CHECK(*std::max_element(col.begin(), col.end()) < card);
    }
  }
  CHECK(ProfileCardinalities(SyntheticProfile::kCriteo1Tb)[19] == 292775614);
}

TEST_CASE("generated ids are skewed: a small hot set takes most accesses, not ids 0..k") {
  ScratchDir tmp("gen-skew");
  auto ds = Dataset::Open(Gen(tmp, "d", 3, 200000, 2));
  REQUIRE(ds.ok());
  auto col = (*ds)->sparse_column(2);  // C3, 10.1M rows
  std::unordered_map<uint32_t, int> count;
  for (uint32_t id : col) ++count[id];
  std::vector<int> c;
  for (auto& [id, n] : count) c.push_back(n);
  std::sort(c.rbegin(), c.rend());
  long top = 0;
  for (size_t i = 0; i < 101312 && i < c.size(); ++i) top += c[i];  // top 1% of the table
  CHECK(double(top) / col.size() > 0.6);
  uint32_t hottest = std::max_element(count.begin(), count.end(), [](auto& x, auto& y) {
                       return x.second < y.second;
                     })->first;
  CHECK(hottest > 1000);  // ranks are scrambled
  auto uni = Dataset::Open(Gen(tmp, "u", 3, 200000, 2, SyntheticProfile::kUniform));
  REQUIRE(uni.ok());
  std::unordered_map<uint32_t, int> ucount;
  for (uint32_t id : (*uni)->sparse_column(2)) ++ucount[id];
  CHECK(ucount.size() > 190000);  // ~no repeats over 10M rows
}

TEST_CASE("the Zipf sampler matches the exact distribution on a small support") {
  ZipfSampler z(5, 1.2);
  std::map<uint64_t, int> hist;
  const int n = 200000;
  uint64_t state = 1;
  auto uni = [&](int) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) * 0x1.0p-53;
  };
  for (int i = 0; i < n; ++i) ++hist[z.Sample(uni)];
  double norm = 0;
  for (int k = 1; k <= 5; ++k) norm += std::pow(k, -1.2);
  for (int k = 1; k <= 5; ++k) {
    CHECK(hist[k] / double(n) == Approx(std::pow(k, -1.2) / norm).margin(0.005));
  }
  ZipfSampler big(uint64_t{1} << 32, 1.05);
  for (int i = 0; i < 1000; ++i) {
    uint64_t k = big.Sample(uni);
    CHECK(k >= 1);
    CHECK(k <= (uint64_t{1} << 32));
  }
}

TEST_CASE("generated labels are learnable from the ids (AUC well above 0.5 on a new seed)") {
  ScratchDir tmp("gen-auc");
  auto train = Dataset::Open(Gen(tmp, "train", 1, 200000, 2));
  auto test = Dataset::Open(Gen(tmp, "test", 2, 50000, 2));
  REQUIRE(train.ok());
  REQUIRE(test.ok());
  // Predictor: sum over a few small features of the per-id positive rate seen in training.
  const std::vector<int> feats = {0, 1, 4, 8, 13};
  std::vector<std::unordered_map<uint32_t, std::pair<double, double>>> stats(kNumSparse);
  auto lab = (*train)->labels();
  double base = 0;
  for (size_t i = 0; i < lab.size(); ++i) base += lab[i];
  base /= lab.size();
  CHECK(base > 0.1);
  CHECK(base < 0.5);
  for (int f : feats) {
    auto col = (*train)->sparse_column(f);
    for (size_t i = 0; i < col.size(); ++i) {
      stats[f][col[i]].first += lab[i];
      stats[f][col[i]].second += 1;
    }
  }
  std::vector<std::pair<double, int>> scored;
  auto tl = (*test)->labels();
  for (size_t i = 0; i < tl.size(); ++i) {
    double s = 0;
    for (int f : feats) {
      auto it = stats[f].find((*test)->sparse_column(f)[i]);
      s += it == stats[f].end() ? base : (it->second.first + base) / (it->second.second + 1);
    }
    scored.push_back({s, tl[i]});
  }
  std::sort(scored.begin(), scored.end());
  double rank_sum = 0, pos = 0;
  for (size_t r = 0; r < scored.size(); ++r) {
    if (scored[r].second) rank_sum += r + 1, ++pos;
  }
  double neg = scored.size() - pos;
  double auc = (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
  CHECK(auc > 0.65);
}
