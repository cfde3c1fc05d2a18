// TSV parse + prep throughput on one core, as JSON lines. The input is the real Kaggle sample
// repeated into a temp file of about --mb MB (default 256), so the id distribution is real.
//   prep_bench [--sample PATH] [--mb N]
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/data/line_reader.h"
#include "common/data/prep.h"

using namespace augur::data;
namespace fs = std::filesystem;

static double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char** argv) {
  std::string sample = "../shared/data/criteo-kaggle/wideresdnn_train.tsv";
  int64_t mb = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--sample")) sample = argv[i + 1];
    if (!std::strcmp(argv[i], "--mb")) mb = std::atoll(argv[i + 1]);
  }
  std::ifstream in(sample, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "prep_bench: cannot read %s\n", sample.c_str());
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string chunk = ss.str();
  fs::path dir = fs::temp_directory_path() / ("augur-prep-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string tsv = (dir / "big.tsv").string();
  {
    std::ofstream out(tsv, std::ios::binary);
    for (int64_t w = 0; w < mb * (1 << 20); w += chunk.size()) out << chunk;
  }
  const double bytes = static_cast<double>(fs::file_size(tsv));

  // Parse only: read + split + convert, no output.
  double t0 = Now();
  auto reader = LineReader::Open(tsv);
  std::string_view line;
  CriteoRow row;
  CriteoLayout layout = CriteoLayout::Tsv();
  int64_t rows = 0;
  while ((*reader)->Next(&line)) rows += ParseCriteoLine(line, layout, &row).ok();
  double parse_s = Now() - t0;
  std::printf("{\"bench\":\"tsv_parse\",\"bytes\":%.0f,\"rows\":%lld,\"seconds\":%.3f,\"mb_per_s\":%.1f}\n",
              bytes, static_cast<long long>(rows), parse_s, bytes / parse_s / 1e6);

  // Full prep: parse, transform, write columns with CRCs, cardinalities, fsync, rename.
  for (const char* mode : {"hash", "min_count"}) {
    PrepOptions o;
    o.inputs = {tsv};
    o.out_dir = (dir / (std::string("ds-") + mode)).string();
    if (!std::strcmp(mode, "min_count")) {
      o.writer.transform = SparseTransform::kVocab;
      o.writer.min_count = 3;
    }
    t0 = Now();
    auto r = PrepareDataset(o);
    double s = Now() - t0;
    if (!r.ok()) {
      std::fprintf(stderr, "prep_bench: %s\n", std::string(r.status().message()).c_str());
      return 1;
    }
    std::printf("{\"bench\":\"tsv_prep\",\"mode\":\"%s\",\"bytes\":%.0f,\"rows\":%lld,\"seconds\":%.3f,"
                "\"mb_per_s\":%.1f}\n",
                mode, bytes, static_cast<long long>(r->rows), s, bytes / s / 1e6);
  }
  fs::remove_all(dir);
  return 0;
}
