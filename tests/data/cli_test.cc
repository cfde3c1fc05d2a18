// The augur binary: one-line errors with a non-zero exit, --help everywhere, prep end to end.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "tests/data/data_test_util.h"
#include "tests/support/test_paths.h"

namespace {

struct Run {
  int code;
  std::string out;  // stdout + stderr
};

Run Augur(const std::string& args) {
  std::string cmd = augur::testing::BinDir() + "/augur " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  Run r{-1, ""};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace

TEST_CASE("every data command answers --help") {
  for (const char* c : {"--help", "data --help", "data prep --help", "data gen --help",
                        "data analyze --help"}) {
    INFO(c);
    Run r = Augur(c);
    CHECK(r.code == 0);
    CHECK(r.out.find("Usage:") != std::string::npos);
  }
}

TEST_CASE("a failing prep prints one line naming file and line and exits non-zero") {
  augur::testing::ScratchDir tmp("cli-bad");
  augur::testing::WriteFile(tmp.path() + "/bad.tsv", "3\t1\n");
  Run r = Augur("data prep " + tmp.path() + "/bad.tsv --out " + tmp.path() + "/out");
  CHECK(r.code == 1);
  CHECK(r.out == "augur: " + tmp.path() + "/bad.tsv:1: label: not 0 or 1\n");
}

TEST_CASE("gen then analyze runs end to end and prints JSON lines") {
  augur::testing::ScratchDir tmp("cli-e2e");
  Run g = Augur("data gen --samples 20000 --seed 3 --out " + tmp.path() + "/d");
  REQUIRE(g.code == 0);
  Run a = Augur("data analyze " + tmp.path() +
                "/d --batch 128 --workers 2 --capacity 20%,40% --policies lru,min --json");
  INFO(a.out);
  REQUIRE(a.code == 0);
  int lines = 0;
  for (char c : a.out) lines += c == '\n';
  CHECK(lines == 4);
  CHECK(a.out.find("\"policy\":\"min\"") != std::string::npos);
}

TEST_CASE("prep --schema: the Avazu built-in, a schema file's error with its key path, --format excluded") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  augur::testing::ScratchDir tmp("cli-schema");
  Run ok = Augur("data prep " + shared + "/avazu/deepctr_avazu_sample.csv --schema avazu --out " +
                 tmp.path() + "/avazu");
  INFO(ok.out);
  REQUIRE(ok.code == 0);
  CHECK(ok.out.find("wrote " + tmp.path() + "/avazu: 100 rows") != std::string::npos);
  augur::testing::WriteFile(tmp.path() + "/s.yaml",
                            "columns: [{name: y, type: label}, {name: c, type: sparse, encoding: b64}]\n");
  Run bad = Augur("data prep " + shared + "/avazu/deepctr_avazu_sample.csv --schema " + tmp.path() +
                  "/s.yaml --out " + tmp.path() + "/x");
  CHECK(bad.code == 1);
  CHECK(bad.out == "augur: " + tmp.path() +
                       "/s.yaml: columns[1].encoding: expected string, hex, int or yymmddhh, got 'b64'\n");
  Run both = Augur("data prep in.csv --schema avazu --format csv --out " + tmp.path() + "/y");
  CHECK(both.code != 0);
}

TEST_CASE("gen --multi-hot mlperf writes bags, and analyze replays them per id") {
  augur::testing::ScratchDir tmp("cli-multi");
  Run g = Augur("data gen --samples 4000 --seed 2 --multi-hot mlperf --out " + tmp.path() + "/d");
  INFO(g.out);
  REQUIRE(g.code == 0);
  const std::string manifest = augur::testing::ReadFile(tmp.path() + "/d/manifest.json");
  CHECK(manifest.find("\"max_bag\": 100") != std::string::npos);
  Run a = Augur("data analyze " + tmp.path() + "/d --batch 64 --workers 2 --capacity 50% " +
                "--policies lru,batch-min --json");
  INFO(a.out);
  CHECK(a.code == 0);
  Run bad = Augur("data gen --samples 10 --multi-hot 1,2 --out " + tmp.path() + "/e");
  CHECK(bad.code == 1);
  CHECK(bad.out.find("--multi-hot: 2 sizes given, 26 features to size") != std::string::npos);
}
