// libFuzzer target: opening and reading a dataset directory whose manifest and column bytes are
// hostile. A valid 64-row dataset (C1 and C2 multi-hot) is generated once; each input then
// replaces its manifest.json (first part of the input) and overwrites part of C1's ids or of its
// multi-hot offsets (the rest), and
// the dataset is opened and every slice read, as the oracle and the workers do. Whatever Open
// accepts must be safe to read: ids below table_rows, no read past a mapping.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <fuzzer/FuzzedDataProvider.h>
#include <string>

#include "common/data/dataset.h"
#include "common/data/manifest.h"
#include "common/data/synthetic.h"

namespace {

namespace fs = std::filesystem;
using namespace augur::data;

struct Fixture {
  std::string dir, valid_manifest;
  std::string column_copy, offsets_copy;  // pristine C1.u32 and C1.o64
  Fixture() {
    dir = (fs::temp_directory_path() / ("augur-dataset-fuzz-" + std::to_string(getpid()))).string();
    fs::remove_all(dir);
    SyntheticOptions g;
    g.samples = 64;
    g.seed = 3;
    g.threads = 1;
    g.multi_hot.assign(26, 1);
    g.multi_hot[0] = 3;
    g.multi_hot[1] = 2;
    if (!GenerateDataset(g, dir + "/d").ok()) __builtin_trap();
    dir += "/d";
    valid_manifest = Read(dir + "/" + kManifestFile);
    column_copy = Read(dir + "/C1.u32");
    offsets_copy = Read(dir + "/C1.o64");
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void Write(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  FuzzedDataProvider in(data, size);
  const bool keep_manifest = in.ConsumeBool();
  const bool patch_offsets = in.ConsumeBool();
  std::string manifest = in.ConsumeRandomLengthString(4096);
  Fixture::Write(f.dir + "/" + kManifestFile, keep_manifest ? f.valid_manifest : manifest);
  std::string column = patch_offsets ? f.offsets_copy : f.column_copy;
  const std::string patch = in.ConsumeRemainingBytesAsString();
  if (in.remaining_bytes() == 0 && !patch.empty()) {
    const size_t at = patch.size() % (column.size() + 1);
    column.replace(std::min(at, column.size()), patch.size(), patch);
  }
  Fixture::Write(f.dir + (patch_offsets ? "/C1.o64" : "/C1.u32"), column);
  Fixture::Write(f.dir + (patch_offsets ? "/C1.u32" : "/C1.o64"),
                 patch_offsets ? f.column_copy : f.offsets_copy);
  DatasetOpenOptions o;
  o.sparse_only = true;
  // Ids are trusted as the manifest's CRCs vouch for them; offsets are checked where read.
  o.verify_checksums = keep_manifest && !patch_offsets;
  auto ds = Dataset::Open(f.dir, o);
  if (!ds.ok()) return 0;
  for (int64_t batch : {int64_t{1}, int64_t{7}, int64_t{64}}) {
    BatchShape shape{batch, 1};
    for (int64_t b = 0; b < (*ds)->num_batches(shape); ++b) {
      auto slice = (*ds)->SparseSlice(b, 0, shape);
      if (!slice.ok()) continue;
      for (int feat = 0; feat < (*ds)->num_sparse(); ++feat)
        for (uint32_t id : (*slice)[feat])
          if (id >= (*ds)->table_rows(feat)) __builtin_trap();
    }
  }
  return 0;
}
