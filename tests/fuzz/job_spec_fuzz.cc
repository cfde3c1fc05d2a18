// libFuzzer target: the job spec YAML parser (what SubmitJob and `augur submit` feed it). A spec
// it accepts must round-trip: ToYaml of it parses back to the same canonical text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/job/job_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto spec = augur::job::ParseJobSpec(text);
  if (!spec.ok()) return 0;
  const std::string canonical = augur::job::ToYaml(*spec);
  auto again = augur::job::ParseJobSpec(canonical);
  if (!again.ok() || augur::job::ToYaml(*again) != canonical) __builtin_trap();
  return 0;
}
