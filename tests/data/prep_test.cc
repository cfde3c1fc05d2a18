// augur data prep: the readers and the binary dataset they produce, against the real samples in
// ../shared/data/criteo-kaggle.
#include "common/data/prep.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "common/data/dataset.h"
#include "tests/data/data_test_util.h"
#include "tests/support/test_paths.h"

using namespace augur::data;
using augur::testing::NaiveCount;
using augur::testing::ReadFile;
using augur::testing::ScratchDir;
using augur::testing::WriteFile;
namespace fs = std::filesystem;

namespace {

absl::StatusOr<PrepResult> Prep(std::vector<std::string> in, const std::string& out,
                                InputFormat format = InputFormat::kTsv,
                                BadLinePolicy policy = BadLinePolicy::kFail) {
  PrepOptions o;
  o.inputs = std::move(in);
  o.out_dir = out;
  o.format = format;
  o.on_bad_line = policy;
  return PrepareDataset(o);
}

// All column files of a dataset, concatenated in canonical order.
std::string Columns(const std::string& dir) {
  std::string all;
  for (const auto& c : ExpectedColumns(FeatureLayout::Criteo())) all += ReadFile(dir + "/" + c.file);
  return all;
}

std::string Kaggle(const std::string& shared, const std::string& file) {
  return shared + "/criteo-kaggle/" + file;
}

}  // namespace

TEST_CASE("prep turns every real Kaggle sample into a dataset with the same rows and labels") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  ScratchDir tmp("prep-all");
  int n = 0;
  for (const auto& entry : fs::directory_iterator(shared + "/criteo-kaggle")) {
    std::string path = entry.path().string();
    bool csv = entry.path().extension() == ".csv";
    if (!csv && entry.path().extension() != ".tsv") continue;
    INFO(path);
    auto expect = NaiveCount(path, csv);
    std::string out = tmp.path() + "/ds" + std::to_string(n++);
    auto r = Prep({path}, out, csv ? InputFormat::kCsv : InputFormat::kTsv);
    REQUIRE(r.ok());
    auto ds = Dataset::Open(out, {.verify_checksums = true});
    REQUIRE(ds.ok());
    CHECK((*ds)->num_rows() == expect.rows);
    long sum = 0;
    for (uint8_t l : (*ds)->labels()) sum += l;
    CHECK(sum == expect.label_sum);
  }
  CHECK(n == 7);
}

TEST_CASE("prep pads lines whose trailing empty fields were stripped") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  ScratchDir tmp("prep-pad");
  std::string src = ReadFile(Kaggle(shared, "paddlerec_part-0.tsv"));
  std::string stripped;
  int shortened = 0;
  for (auto& line : augur::testing::SplitOn(src, '\n')) {
    if (line.empty()) continue;
    size_t before = line.size();
    while (!line.empty() && line.back() == '\t') line.pop_back();
    shortened += line.size() != before;
    stripped += line + "\n";
  }
  REQUIRE(shortened > 0);
  WriteFile(tmp.path() + "/stripped.tsv", stripped);
  REQUIRE(Prep({Kaggle(shared, "paddlerec_part-0.tsv")}, tmp.path() + "/a").ok());
  REQUIRE(Prep({tmp.path() + "/stripped.tsv"}, tmp.path() + "/b").ok());
  CHECK(Columns(tmp.path() + "/a") == Columns(tmp.path() + "/b"));
}

TEST_CASE("prep reads CRLF line endings like LF") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  ScratchDir tmp("prep-crlf");
  std::string src = ReadFile(Kaggle(shared, "wideresdnn_dev.tsv")), crlf;
  for (char c : src) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  WriteFile(tmp.path() + "/crlf.tsv", crlf);
  REQUIRE(Prep({Kaggle(shared, "wideresdnn_dev.tsv")}, tmp.path() + "/a").ok());
  REQUIRE(Prep({tmp.path() + "/crlf.tsv"}, tmp.path() + "/b").ok());
  CHECK(Columns(tmp.path() + "/a") == Columns(tmp.path() + "/b"));
}

TEST_CASE("prep reads gzip input like the plain file") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  ScratchDir tmp("prep-gz");
  std::string src = ReadFile(Kaggle(shared, "wideresdnn_test.tsv"));
  std::string gz = tmp.path() + "/test.tsv.gz";
  gzFile f = gzopen(gz.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, src.data(), static_cast<unsigned>(src.size())) == static_cast<int>(src.size()));
  gzclose(f);
  REQUIRE(Prep({Kaggle(shared, "wideresdnn_test.tsv")}, tmp.path() + "/a").ok());
  auto r = Prep({gz}, tmp.path() + "/b");
  REQUIRE(r.ok());
  CHECK(r->rows == 391);
  CHECK(Columns(tmp.path() + "/a") == Columns(tmp.path() + "/b"));
}

TEST_CASE("prep clamps negative integers to zero and logs the rest") {
  ScratchDir tmp("prep-neg");
  std::string line = "1\t-2\t0\t3";  // I1=-2, I2=0, I3=3, the rest missing
  for (int i = 4; i <= 13; ++i) line += "\t";
  line += "\t68fd1e64";  // C1
  for (int i = 2; i <= 26; ++i) line += "\t";
  WriteFile(tmp.path() + "/neg.tsv", line + "\n");
  REQUIRE(Prep({tmp.path() + "/neg.tsv"}, tmp.path() + "/d").ok());
  auto ds = Dataset::Open(tmp.path() + "/d");
  REQUIRE(ds.ok());
  CHECK((*ds)->dense_column(0)[0] == 0.0f);
  CHECK((*ds)->dense_column(1)[0] == 0.0f);
  CHECK((*ds)->dense_column(2)[0] == Approx(std::log(4.0)));
  CHECK((*ds)->sparse_column(0)[0] == 0x68fd1e64u);
  CHECK((*ds)->sparse_column(1)[0] == 0u);  // missing
}

TEST_CASE("prep accepts integral floats in the pandas CSV and maps columns by header name") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  ScratchDir tmp("prep-csv");
  // The README's lossless conversion: drop the Id column and turn ',' into '\t'.
  std::string csv = ReadFile(Kaggle(shared, "ycjuan_train.tiny.csv")), tsv;
  auto lines = augur::testing::SplitOn(csv, '\n');
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    std::string l = lines[i].substr(lines[i].find(',') + 1);
    for (char& c : l) c = c == ',' ? '\t' : c;
    tsv += l + "\n";
  }
  WriteFile(tmp.path() + "/t.tsv", tsv);
  REQUIRE(Prep({Kaggle(shared, "ycjuan_train.tiny.csv")}, tmp.path() + "/a", InputFormat::kCsv).ok());
  REQUIRE(Prep({tmp.path() + "/t.tsv"}, tmp.path() + "/b").ok());
  CHECK(Columns(tmp.path() + "/a") == Columns(tmp.path() + "/b"));
  auto d = Prep({Kaggle(shared, "deepctr_criteo_sample.csv")}, tmp.path() + "/c", InputFormat::kCsv);
  REQUIRE(d.ok());
  auto ds = Dataset::Open(tmp.path() + "/c");
  REQUIRE(ds.ok());
  CHECK((*ds)->dense_column(2)[0] == Approx(std::log(261.0)));  // I3 = "260.0"
}

TEST_CASE("a malformed line fails prep with the file, line number and reason") {
  ScratchDir tmp("prep-bad");
  std::string good = "0\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\t12\t13";
  for (int i = 0; i < 26; ++i) good += "\t0000abcd";
  std::string bad = good;
  bad.replace(bad.find("\t5\t"), 3, "\tx5\t");
  WriteFile(tmp.path() + "/bad.tsv", good + "\n" + good + "\n" + bad + "\n" + good + "\n");
  auto r = Prep({tmp.path() + "/bad.tsv"}, tmp.path() + "/out");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(r.status().message()) == tmp.path() + "/bad.tsv:3: I5: not an integer");
}

TEST_CASE("each kind of bad line is rejected with its own reason") {
  CriteoRow row;
  CriteoLayout tsv = CriteoLayout::Tsv();
  std::string ok = "1";
  for (int i = 0; i < 13; ++i) ok += "\t7";
  for (int i = 0; i < 26; ++i) ok += "\tdeadBEEF";
  CHECK(ParseCriteoLine(ok, tsv, &row).ok());
  CHECK(ParseCriteoLine("2" + ok.substr(1), tsv, &row).ToString() == "label: not 0 or 1");
  CHECK(ParseCriteoLine(ok + "\t", tsv, &row).ToString() == "too many fields");
  CHECK(ParseCriteoLine(ok.substr(0, ok.size() - 1) + "g", tsv, &row).ToString() ==
        "C26: not an 8-digit hex value");
  CHECK(ParseCriteoLine(ok.substr(0, ok.size() - 1), tsv, &row).ToString() ==
        "C26: not an 8-digit hex value");
  CHECK(ParseCriteoLine("", tsv, &row).ToString() == "empty line");
}

TEST_CASE("skip mode drops bad lines and counts them") {
  ScratchDir tmp("prep-skip");
  std::string good = "1";
  for (int i = 0; i < 13; ++i) good += "\t3";
  for (int i = 0; i < 26; ++i) good += "\t0000abcd";
  WriteFile(tmp.path() + "/in.tsv", good + "\nnot a line\n" + good + "\n7\n" + good + "\n");
  auto r = Prep({tmp.path() + "/in.tsv"}, tmp.path() + "/out", InputFormat::kTsv,
                BadLinePolicy::kSkip);
  REQUIRE(r.ok());
  CHECK(r->rows == 3);
  CHECK(r->bad_lines == 2);
  CHECK(r->first_bad_line == tmp.path() + "/in.tsv:2: label: not 0 or 1");
  CHECK(r->manifest.source.at("bad_lines_skipped") == "2");
}

TEST_CASE("a failed prep leaves neither the output nor a temporary directory behind") {
  ScratchDir tmp("prep-atomic");
  std::string good = "1";
  for (int i = 0; i < 39; ++i) good += "\t";
  std::string body;
  for (int i = 0; i < 100000; ++i) body += good + "\n";  // > one 64K-row block is written first
  WriteFile(tmp.path() + "/in.tsv", body + "x\n");
  auto r = Prep({tmp.path() + "/in.tsv"}, tmp.path() + "/out");
  REQUIRE_FALSE(r.ok());
  int entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) entries += e.path().filename() != "in.tsv";
  CHECK(entries == 0);
}

TEST_CASE("prep refuses to overwrite an existing dataset") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  ScratchDir tmp("prep-exists");
  REQUIRE(Prep({Kaggle(shared, "paddlerec_part-0.tsv")}, tmp.path() + "/d").ok());
  auto r = Prep({Kaggle(shared, "paddlerec_part-0.tsv")}, tmp.path() + "/d");
  CHECK(r.status().code() == absl::StatusCode::kAlreadyExists);
}

TEST_CASE("a cancelled prep stops within a few thousand lines and leaves no output") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  ScratchDir dir("prep-cancel");
  PrepOptions o;
  o.inputs = {shared + "/criteo-kaggle/wideresdnn_train.tsv"};  // 7,200 lines
  o.out_dir = dir.path() + "/out";
  int polls = 0;
  o.cancelled = [&polls] { return ++polls >= 1; };
  auto r = PrepareDataset(o);
  CHECK(r.status().code() == absl::StatusCode::kCancelled);
  CHECK(r.status().message().find("line 4096") != std::string::npos);
  CHECK(polls == 1);
  CHECK_FALSE(fs::exists(o.out_dir));
}
