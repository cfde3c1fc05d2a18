#include "tests/support/test_paths.h"

#include <cstdlib>
#include <filesystem>
#include <random>

namespace augur::testing {
namespace fs = std::filesystem;

static fs::path SourceDir() {
  const char* s = std::getenv("AUGUR_SOURCE_DIR");
  return s ? fs::path(s) : fs::path(AUGUR_DEFAULT_SOURCE_DIR);
}

std::optional<std::string> SharedDataDir() {
  fs::path p = SourceDir().parent_path() / "shared" / "data";
  if (fs::exists(p / "criteo-kaggle" / "wideresdnn_train.tsv")) return p.string();
  return std::nullopt;
}

std::string SourceFile(const std::string& relative) { return (SourceDir() / relative).string(); }

std::string BinDir() {
  const char* b = std::getenv("AUGUR_BIN_DIR");
  return b ? std::string(b) : std::string(AUGUR_DEFAULT_BIN_DIR);
}

ScratchDir::ScratchDir(const std::string& tag) {
  std::random_device rd;
  path_ = (fs::temp_directory_path() /
           ("augur-" + tag + "-" + std::to_string(rd()) + "-" + std::to_string(rd())))
              .string();
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace augur::testing
