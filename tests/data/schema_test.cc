// Schemas: parsing and its errors, the Avazu built-in on the real sample, multi-hot columns
// through prep, the dataset format and slices, and multi-hot synthetic data. Expected values
// come from hand-written inputs or a naive re-reading of the sample, never from the code under
// test.
#include "common/data/schema.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "common/data/dataset.h"
#include "common/data/dedup.h"
#include "common/data/prep.h"
#include "common/data/synthetic.h"
#include "tests/data/data_test_util.h"
#include "tests/support/test_paths.h"

using namespace augur::data;
using augur::testing::ReadFile;
using augur::testing::ScratchDir;
using augur::testing::SplitOn;
using augur::testing::WriteFile;

namespace {

std::string SchemaError(const std::string& yaml) {
  auto s = ParseSchema(yaml, "s.yaml");
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(s.status().message());
}

absl::StatusOr<PrepResult> Prep(const std::vector<std::string>& inputs, const std::string& out,
                                const std::string& schema,
                                BadLinePolicy policy = BadLinePolicy::kFail) {
  PrepOptions o;
  o.inputs = inputs;
  o.out_dir = out;
  o.schema = schema;
  o.on_bad_line = policy;
  return PrepareDataset(o);
}

constexpr char kTagsSchema[] = R"(
separator: ","
header: true
columns:
  - {name: y, type: label}
  - {name: price, type: dense, transform: clip, min: 0, max: 10}
  - {name: age, type: dense, transform: none}
  - {name: user, type: sparse, encoding: int}
  - {name: tags, type: multi_hot, separator: "|"}
  - {name: note, type: ignore}
)";

}  // namespace

TEST_CASE("schema files: every mistake names its key path") {
  CHECK_THAT(SchemaError("columns: [{name: a, type: label}, {name: b, type: sparse}]\nsep: ','"),
             Catch::Contains("s.yaml: sep: unknown key"));
  CHECK_THAT(SchemaError("columns: [{name: a, type: lable}]"),
             Catch::Contains("columns[0].type: expected ignore, label"));
  CHECK_THAT(SchemaError("columns: [{name: a, type: label}, {name: b, type: sparse, encoding: b64}]"),
             Catch::Contains("columns[1].encoding: expected string, hex, int or yymmddhh"));
  CHECK_THAT(SchemaError("columns: [{name: a, type: label}, {name: a, type: sparse}]"),
             Catch::Contains("columns[1].name: 'a' appears twice"));
  CHECK_THAT(SchemaError("columns: [{name: a, type: sparse}]"),
             Catch::Contains("exactly one label column, found 0"));
  CHECK_THAT(SchemaError("columns: [{name: a, type: label}, {name: b, type: dense}]"),
             Catch::Contains("at least one sparse"));
  CHECK_THAT(SchemaError("columns: [{name: a, type: label}, {name: b, type: multi_hot, separator: ','}]"),
             Catch::Contains("list separator must differ"));
  CHECK_THAT(SchemaError("columns: [{name: a, type: label}, {name: b, type: dense, transform: clip, "
                         "min: 3, max: 1}, {name: c, type: sparse}]"),
             Catch::Contains("clip needs min <= max"));
  CHECK_THAT(SchemaError("columns: [{name: a, type: label}, {name: 'b/../x', type: sparse}]"),
             Catch::Contains("must be 1..64 characters"));
  CHECK_THAT(SchemaError("header: maybe\ncolumns: []"), Catch::Contains("header: expected true"));
  CHECK_THAT(SchemaError("columns: [{name: a, type: label}, {name: b, type: sparse}]\nseparator: ab"),
             Catch::Contains("separator: expected one character"));
  auto missing = LoadSchema("/nonexistent/schema.yaml");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("the avazu built-in: 23 categorical features, no dense, hour split into hour and weekday") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  ScratchDir tmp("schema-avazu");
  const std::string train = shared + "/avazu/wideresdnn_train.csv";  // with a header
  const std::string test = shared + "/avazu/wideresdnn_test.csv";    // without one
  auto r = Prep({train, test}, tmp.path() + "/ds", "avazu");
  REQUIRE(r.ok());
  // Naive count: every line of both files but the train header.
  auto lines = [](const std::string& p) {
    auto rows = SplitOn(ReadFile(p), '\n');
    int64_t n = 0;
    for (auto& l : rows) n += !l.empty();
    return n;
  };
  CHECK(r->rows == lines(train) - 1 + lines(test));
  auto ds = Dataset::Open(tmp.path() + "/ds", {.verify_checksums = true});
  REQUIRE(ds.ok());
  CHECK((*ds)->num_dense() == 0);
  REQUIRE((*ds)->num_sparse() == 23);
  CHECK((*ds)->manifest().sparse[0].name == "hour_hour");
  CHECK((*ds)->manifest().sparse[1].name == "hour_weekday");
  CHECK((*ds)->manifest().sparse[22].name == "C21");
  // First data row of train: hour 14102100 = 2014-10-21 (a Tuesday), 00h; click 0.
  auto first = SplitOn(SplitOn(ReadFile(train), '\n')[1], ',');
  REQUIRE(first[2] == "14102100");
  CHECK((*ds)->sparse_column(0)[0] == 0 + 1);   // hour 0 -> raw value 1 (0 means missing)
  CHECK((*ds)->sparse_column(1)[0] == 2 + 1);   // Tuesday = 2 (Sunday = 0)
  CHECK((*ds)->labels()[0] == std::stoi(first[1]));
  CHECK((*ds)->sparse_column(2)[0] == HashCategorical(first[3]));  // C1
  // Equal strings share an id, different ones (here) do not.
  auto second = SplitOn(SplitOn(ReadFile(train), '\n')[2], ',');
  CHECK(((*ds)->sparse_column(7)[0] == (*ds)->sparse_column(7)[1]) == (first[8] == second[8]));
  Slice slice;
  REQUIRE((*ds)->FillSlice(0, 0, {16, 1}, &slice).ok());
  CHECK(slice.dense.empty());
  CHECK(slice.offsets.size() == 23u * 17);
}

TEST_CASE("a header may list columns the schema ignores, but not lack one it needs") {
  ScratchDir tmp("schema-header");
  WriteFile(tmp.path() + "/s.yaml", kTagsSchema);
  WriteFile(tmp.path() + "/a.csv", "y,price,extra,user,tags,note,age\n1,3,zz,7,a|b,x,2\n");
  auto r = Prep({tmp.path() + "/a.csv"}, tmp.path() + "/ds", tmp.path() + "/s.yaml");
  REQUIRE(r.ok());
  CHECK(r->rows == 1);
  WriteFile(tmp.path() + "/b.csv", "y,price,user,tags,note\n1,3,7,a|b,x\n");
  auto bad = Prep({tmp.path() + "/b.csv"}, tmp.path() + "/ds2", tmp.path() + "/s.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("b.csv:1: header lacks column age"));
  CHECK_FALSE(std::filesystem::exists(tmp.path() + "/ds2"));
}

TEST_CASE("multi-hot columns: bags with offsets, empty bags, errors with file, line and column") {
  ScratchDir tmp("schema-multi");
  WriteFile(tmp.path() + "/s.yaml", kTagsSchema);
  WriteFile(tmp.path() + "/in.csv",
            "y,price,age,user,tags,note\n"
            "1,20,-1.5,7,red|green|red,a\n"   // a repeated tag stays twice in the bag
            "0,,2,8,,b\n"                     // empty price -> 0, empty bag
            "1,4,0.25,7,blue||green,c\n");    // an empty element is skipped
  auto r = Prep({tmp.path() + "/in.csv"}, tmp.path() + "/ds", tmp.path() + "/s.yaml");
  REQUIRE(r.ok());
  auto ds = Dataset::Open(tmp.path() + "/ds", {.verify_checksums = true});
  REQUIRE(ds.ok());
  const Manifest& m = (*ds)->manifest();
  REQUIRE(m.dense == std::vector<std::string>{"price", "age"});
  REQUIRE(m.num_sparse() == 2);
  CHECK_FALSE(m.sparse[0].multi_hot);
  CHECK(m.sparse[1].multi_hot);
  CHECK(m.sparse[1].ids == 5);
  CHECK(m.sparse[1].max_bag == 3);
  CHECK(m.sparse[1].cardinality == 3);  // red, green, blue
  CHECK(m.max_ids_per_sample() == 4);
  auto off = (*ds)->offsets_column(1);
  CHECK(std::vector<uint64_t>(off.begin(), off.end()) == std::vector<uint64_t>{0, 3, 3, 5});
  const uint32_t red = HashCategorical("red"), green = HashCategorical("green"),
                 blue = HashCategorical("blue");
  auto tags = (*ds)->sparse_column(1);
  CHECK(std::vector<uint32_t>(tags.begin(), tags.end()) ==
        std::vector<uint32_t>{red, green, red, blue, green});
  CHECK((*ds)->dense_column(0)[0] == 10.0f);  // clipped
  CHECK((*ds)->dense_column(0)[1] == 0.0f);
  CHECK((*ds)->dense_column(1)[0] == -1.5f);  // transform none
  CHECK((*ds)->dense_column(1)[2] == 0.25f);

  // B = 1, W = 3: worker w's slice of batch 0 is sample w.
  Slice slice;
  REQUIRE((*ds)->FillSlice(0, 2, {1, 3}, &slice).ok());
  CHECK(slice.labels == std::vector<float>{1});
  CHECK(slice.dense == std::vector<float>{4, 0.25f});
  // Feature 0 (user) holds one id, feature 1 (tags) two; offsets tile `sparse`.
  CHECK(slice.offsets == std::vector<int64_t>{0, 1, 1, 3});
  CHECK(slice.sparse[1] == blue);
  CHECK(slice.sparse[2] == green);
  REQUIRE((*ds)->FillSlice(0, 1, {1, 3}, &slice).ok());
  CHECK(slice.offsets == std::vector<int64_t>{0, 1, 1, 1});  // the empty bag
  auto view = (*ds)->SparseSlice(0, 0, {1, 3});
  REQUIRE(view.ok());
  CHECK((*view)[1].size() == 3);
  BatchDeduplicator dedup;
  DedupedSlice d;
  dedup.Dedup(*view, &d);
  CHECK(d.unique_ids(1).size() == 2);  // red, green
  CHECK(d.inverse.size() == 4);

  WriteFile(tmp.path() + "/bad.csv", "y,price,age,user,tags,note\n1,2,3,4,a,b\n1,2,x3,4,a,b\n");
  auto bad = Prep({tmp.path() + "/bad.csv"}, tmp.path() + "/ds-bad", tmp.path() + "/s.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("bad.csv:3: age: not a finite number"));
  WriteFile(tmp.path() + "/bad2.csv", "y,price,age,user,tags,note\n2,2,3,4,a,b\n1,2,3,4.5,a,b\n1,2\n");
  auto skipped = Prep({tmp.path() + "/bad2.csv"}, tmp.path() + "/ds-skip", tmp.path() + "/s.yaml",
                      BadLinePolicy::kSkip);
  REQUIRE(skipped.ok());
  CHECK(skipped->rows == 0);
  CHECK(skipped->bad_lines == 3);
  CHECK_THAT(skipped->first_bad_line, Catch::Contains("bad2.csv:2: y: label must be 0 or 1"));
}

TEST_CASE("a damaged offsets file is refused where it is read, naming the file") {
  ScratchDir tmp("schema-damaged");
  WriteFile(tmp.path() + "/s.yaml", kTagsSchema);
  WriteFile(tmp.path() + "/in.csv", "y,price,age,user,tags,note\n1,1,1,1,a|b,x\n0,1,1,1,c,x\n");
  REQUIRE(Prep({tmp.path() + "/in.csv"}, tmp.path() + "/ds", tmp.path() + "/s.yaml").ok());
  // o = {0, 2, 3}: make the middle offset run past the ids.
  std::string off = ReadFile(tmp.path() + "/ds/tags.o64");
  REQUIRE(off.size() == 24);
  off[8] = 9;
  WriteFile(tmp.path() + "/ds/tags.o64", off);
  auto ds = Dataset::Open(tmp.path() + "/ds");
  REQUIRE(ds.ok());  // the ends are right; the middle is checked by the slice that reads it
  auto v = (*ds)->SparseSlice(0, 0, {2, 1});
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(v.status().message()), Catch::Contains("tags.o64"));
  Slice slice;
  CHECK((*ds)->FillSlice(0, 0, {2, 1}, &slice).code() == absl::StatusCode::kDataLoss);
  off[16] = 7;  // and the last one: refused at Open
  WriteFile(tmp.path() + "/ds/tags.o64", off);
  CHECK(Dataset::Open(tmp.path() + "/ds").status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("synthetic multi-hot data: fixed bag sizes, first ids as in the one-hot dataset") {
  ScratchDir tmp("schema-gen");
  SyntheticOptions o;
  o.samples = 3000;
  o.seed = 9;
  o.threads = 2;
  REQUIRE(GenerateDataset(o, tmp.path() + "/one").ok());
  auto sizes = ParseMultiHot("mlperf");
  REQUIRE(sizes.ok());
  REQUIRE(sizes->size() == 26u);
  CHECK((*sizes)[20] == 100);
  o.multi_hot = *sizes;
  REQUIRE(GenerateDataset(o, tmp.path() + "/multi").ok());
  auto one = Dataset::Open(tmp.path() + "/one");
  auto multi = Dataset::Open(tmp.path() + "/multi", {.verify_checksums = true});
  REQUIRE(one.ok());
  REQUIRE(multi.ok());
  const Manifest& m = (*multi)->manifest();
  int64_t per_sample = 0;
  for (int f = 0; f < 26; ++f) {
    const int k = (*sizes)[f];
    per_sample += k;
    CHECK(m.sparse[f].multi_hot == (k > 1));
    CHECK(m.sparse[f].max_bag == static_cast<uint64_t>(k));
    CHECK(m.sparse[f].ids == static_cast<uint64_t>(k) * 3000);
    auto a = (*one)->sparse_column(f);
    auto b = (*multi)->sparse_column(f);
    bool first_equal = true, all_below = true;
    std::set<uint32_t> in_bag0(b.begin(), b.begin() + k);
    for (int64_t s = 0; s < 3000; ++s) {
      first_equal = first_equal && b[s * k] == a[s];
      for (int j = 0; j < k; ++j) all_below = all_below && b[s * k + j] < m.sparse[f].table_rows;
    }
    CHECK(first_equal);
    CHECK(all_below);
    if (k >= 20) CHECK(in_bag0.size() > 1);  // independent draws, not one id repeated
  }
  CHECK(m.max_ids_per_sample() == per_sample);
  // Labels do not depend on the bags beyond their first ids.
  CHECK(std::equal((*one)->labels().begin(), (*one)->labels().end(), (*multi)->labels().begin()));
  CHECK_FALSE(ParseMultiHot("1,2,3").ok());
  CHECK_FALSE(ParseMultiHot("mlperf,1").ok());
}
