// libFuzzer target: the dataset manifest (manifest.json). An accepted manifest must round-trip
// through ToJson.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/data/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto m = augur::data::Manifest::FromJson(text);
  if (!m.ok()) return 0;
  const std::string json = m->ToJson();
  auto again = augur::data::Manifest::FromJson(json);
  if (!again.ok() || again->ToJson() != json) __builtin_trap();
  return 0;
}
