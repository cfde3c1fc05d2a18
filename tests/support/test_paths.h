// Where tests find the real Criteo samples, the built binaries and scratch space.
//
// Shared data lives beside the checkout in ../shared/data and is never copied into the repo; a
// test that needs it calls SharedDataOrSkip(), which returns the path or, when the data is
// absent, makes the calling test pass with a WARN that says so (Catch2 v2 has no SKIP).
#pragma once
#include <optional>
#include <string>

namespace augur::testing {

// Root of ../shared/data relative to the source tree, if it exists.
std::optional<std::string> SharedDataDir();
// Directory holding augur's built executables (build/bin).
std::string BinDir();
// A file of the source tree, e.g. SourceFile("tests/support/tls/ca.pem").
std::string SourceFile(const std::string& relative);
// A fresh, empty directory under /tmp, removed by the caller's ScratchDir destructor.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace augur::testing

// Evaluates to the shared data dir, or WARNs and returns from the test case when it is absent.
#define AUGUR_SHARED_DATA_OR_SKIP(var)                                        \
  auto var##_opt = ::augur::testing::SharedDataDir();                         \
  if (!var##_opt) {                                                           \
    WARN("skipped: ../shared/data is absent on this machine");                \
    return;                                                                   \
  }                                                                           \
  const std::string var = *var##_opt
