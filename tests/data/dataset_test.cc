// The dataset reader: categorical mappings recorded in the manifest, corrupt-dataset errors, and
// the batch / slice arithmetic every process shares.
#include "common/data/dataset.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include <sys/stat.h>

#include "absl/strings/match.h"

#include "common/data/prep.h"
#include "tests/data/data_test_util.h"
#include "tests/support/test_paths.h"

using namespace augur::data;
using augur::testing::ReadFile;
using augur::testing::ScratchDir;
using augur::testing::WriteFile;

namespace {

// A TSV of n rows where row r has label r%2, I1 = r and C1 = r % 5 (+1, so never "missing"),
// C2 = 0xabc (constant), other fields missing.
std::string CountingTsv(int n) {
  std::string s;
  for (int r = 0; r < n; ++r) {
    char c1[9];
    snprintf(c1, sizeof(c1), "%08x", r % 5 + 1);
    s += std::to_string(r % 2) + "\t" + std::to_string(r) + std::string(12, '\t') + "\t" + c1 +
         "\t00000abc" + std::string(24, '\t') + "\n";
  }
  return s;
}

std::string MakeDataset(const ScratchDir& tmp, const std::string& name, int n,
                        DatasetWriterOptions w = {}) {
  std::string in = tmp.path() + "/" + name + ".tsv";
  WriteFile(in, CountingTsv(n));
  PrepOptions o;
  o.inputs = {in};
  o.out_dir = tmp.path() + "/" + name;
  o.writer = w;
  auto r = PrepareDataset(o);
  REQUIRE(r.ok());
  return o.out_dir;
}

}  // namespace

TEST_CASE("the hash mapping keeps raw values and declares 2^32-row tables") {
  ScratchDir tmp("ds-hash");
  auto ds = Dataset::Open(MakeDataset(tmp, "d", 10));
  REQUIRE(ds.ok());
  CHECK((*ds)->table_rows(0) == (uint64_t{1} << 32));
  CHECK((*ds)->sparse_column(0)[7] == 3u);
  CHECK((*ds)->manifest().sparse[0].cardinality == 5);
  CHECK((*ds)->manifest().sparse[1].cardinality == 1);
  CHECK((*ds)->manifest().sparse[2].cardinality == 1);  // all missing -> id 0
}

TEST_CASE("max-rows reduces ids modulo M and declares M-row tables") {
  ScratchDir tmp("ds-mod");
  DatasetWriterOptions w;
  w.transform = SparseTransform::kMod;
  w.max_rows = 3;
  auto ds = Dataset::Open(MakeDataset(tmp, "d", 10, w));
  REQUIRE(ds.ok());
  CHECK((*ds)->table_rows(5) == 3);
  CHECK((*ds)->sparse_column(0)[4] == 5u % 3);
  CHECK((*ds)->sparse_column(1)[0] == 0xabcu % 3);
}

TEST_CASE("min-count keeps frequent ids as rows 1..n and sends rare ones to row 0") {
  ScratchDir tmp("ds-vocab");
  // 12 rows: C1 values 1..5 appear 3,3,2,2,2 times.
  DatasetWriterOptions w;
  w.transform = SparseTransform::kVocab;
  w.min_count = 3;
  auto dir = MakeDataset(tmp, "d", 12, w);
  auto ds = Dataset::Open(dir, {.verify_checksums = true});
  REQUIRE(ds.ok());
  CHECK((*ds)->table_rows(0) == 3);  // values 1 and 2 kept, plus row 0
  auto c1 = (*ds)->sparse_column(0);
  CHECK(std::vector<uint32_t>(c1.begin(), c1.begin() + 6) == std::vector<uint32_t>{1, 2, 0, 0, 0, 1});
  CHECK((*ds)->table_rows(1) == 2);  // the constant 0xabc
  CHECK((*ds)->manifest().sparse[0].has_vocab);

  SECTION("and --vocab-from maps another file through the saved vocabulary") {
    DatasetWriterOptions from;
    from.transform = SparseTransform::kVocab;
    from.vocab_from = dir;
    auto ds2 = Dataset::Open(MakeDataset(tmp, "e", 5, from));
    REQUIRE(ds2.ok());
    CHECK((*ds2)->table_rows(0) == 3);
    auto e1 = (*ds2)->sparse_column(0);
    CHECK(std::vector<uint32_t>(e1.begin(), e1.end()) == std::vector<uint32_t>{1, 2, 0, 0, 0});
  }
}

TEST_CASE("opening a dataset with a missing or truncated column fails with DATA_LOSS naming it") {
  ScratchDir tmp("ds-corrupt");
  auto dir = MakeDataset(tmp, "d", 10);
  std::string c7 = dir + "/C7.u32";
  std::string bytes = ReadFile(c7);
  WriteFile(c7, bytes.substr(4));
  auto ds = Dataset::Open(dir);
  CHECK(ds.status().code() == absl::StatusCode::kDataLoss);
  CHECK(absl::StrContains(ds.status().message(), "C7.u32"));
  std::filesystem::remove(c7);
  ds = Dataset::Open(dir);
  CHECK(ds.status().code() == absl::StatusCode::kDataLoss);
  CHECK(absl::StrContains(ds.status().message(), "C7.u32"));
}

TEST_CASE("a manifest whose row or id count would overflow a file size is refused") {
  // rows = 2^62: rows x 4 wraps to 0, so empty column files would pass for the columns of a
  // sparse-only open and every slice would read far past its mapping.
  ScratchDir tmp("ds-overflow");
  auto dir = MakeDataset(tmp, "d", 10);
  std::string manifest = ReadFile(dir + "/manifest.json");
  const std::string rows = "\"rows\": 10";
  REQUIRE(manifest.find(rows) != std::string::npos);
  std::string huge = manifest;
  huge.replace(huge.find(rows), rows.size(), "\"rows\": 4611686018427387904");
  WriteFile(dir + "/manifest.json", huge);
  for (const auto& c : ExpectedColumns(FeatureLayout::Criteo())) WriteFile(dir + "/" + c.file, "");
  auto ds = Dataset::Open(dir, {.sparse_only = true});
  CHECK(ds.status().code() == absl::StatusCode::kDataLoss);
  CHECK(absl::StrContains(ds.status().message(), "rows must be in 0.."));
}

TEST_CASE("a dataset whose manifest or column is a FIFO is refused at once, never waited on") {
  ScratchDir tmp("ds-fifo");
  for (std::string name : {"C7.u32", "manifest.json"}) {
    auto fresh = MakeDataset(tmp, "f-" + name, 10);
    std::string path = fresh + "/" + name;
    REQUIRE(std::filesystem::exists(path));
    std::filesystem::remove(path);
    REQUIRE(mkfifo(path.c_str(), 0600) == 0);  // no writer: a blocking open would hang here
    auto ds = Dataset::Open(fresh);
    CHECK_FALSE(ds.ok());
    CHECK(absl::StrContains(ds.status().message(), name));
  }
}

TEST_CASE("checksum verification catches a flipped byte") {
  ScratchDir tmp("ds-crc");
  auto dir = MakeDataset(tmp, "d", 10);
  std::string bytes = ReadFile(dir + "/I1.f32");
  bytes[5] ^= 1;
  WriteFile(dir + "/I1.f32", bytes);
  CHECK(Dataset::Open(dir).ok());  // unverified open only checks sizes
  auto ds = Dataset::Open(dir, {.verify_checksums = true});
  CHECK(ds.status().code() == absl::StatusCode::kDataLoss);
  CHECK(absl::StrContains(ds.status().message(), "I1.f32"));
}

TEST_CASE("a directory without a manifest is not a dataset") {
  ScratchDir tmp("ds-nomanifest");
  auto ds = Dataset::Open(tmp.path());
  CHECK(ds.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(ds.status().message(), "manifest.json"));
  WriteFile(tmp.path() + "/manifest.json", "{not json");
  CHECK(Dataset::Open(tmp.path()).status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("slice w of global batch i covers samples i*B*W + w*B and the partial batch is dropped") {
  BatchShape shape{.batch_size = 4, .num_workers = 3};
  CHECK(SliceRange(0, 0, shape).begin == 0);
  CHECK(SliceRange(2, 1, shape).begin == 2 * 12 + 4);
  CHECK(SliceRange(2, 1, shape).end == 2 * 12 + 8);
  ScratchDir tmp("ds-slice");
  auto ds = Dataset::Open(MakeDataset(tmp, "d", 40));
  REQUIRE(ds.ok());
  CHECK((*ds)->num_batches(shape) == 3);  // 40 / 12, the last 4 samples are dropped
  Slice slice(4);
  REQUIRE((*ds)->FillSlice(2, 1, shape, &slice).ok());
  for (int s = 0; s < 4; ++s) {
    int sample = 28 + s;
    CHECK(slice.labels[s] == static_cast<float>(sample % 2));
    CHECK(slice.dense[s * kNumDense + 0] == Approx(std::log1p(double(sample))));
    CHECK(slice.ids(0)[s] == static_cast<uint32_t>(sample % 5 + 1));
    CHECK(slice.ids(1)[s] == 0xabcu);
  }
  CHECK((*ds)->FillSlice(3, 0, shape, &slice).code() == absl::StatusCode::kOutOfRange);
  auto view = (*ds)->SparseSlice(1, 2, shape);
  REQUIRE(view.ok());
  CHECK((*view)[0].data() == (*ds)->sparse_column(0).data() + 20);
}

TEST_CASE("a sparse-only open needs no dense or label files") {
  ScratchDir tmp("ds-sparse");
  auto dir = MakeDataset(tmp, "d", 10);
  std::filesystem::remove(dir + "/I3.f32");
  std::filesystem::remove(dir + "/label.u8");
  auto ds = Dataset::Open(dir, {.sparse_only = true});
  REQUIRE(ds.ok());
  CHECK((*ds)->sparse_column(0)[3] == 4u);
  Slice slice(5);
  CHECK((*ds)->FillSlice(0, 0, {5, 1}, &slice).code() ==
        absl::StatusCode::kFailedPrecondition);
}
