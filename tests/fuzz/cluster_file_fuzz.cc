// libFuzzer target: the cluster file parser (`augur ... --cluster FILE`, written by up.sh).
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/cluster_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto file = augur::cli::ParseClusterFile(text, "/fuzz/cluster.yaml");
  if (file.ok() && file->oracle.grpc.size() > size) __builtin_trap();  // nothing invented
  return 0;
}
