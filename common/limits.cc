#include "common/limits.h"

namespace augur {

std::string Echo(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMaxEchoBytes; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  out += "'";
  if (s.size() > kMaxEchoBytes) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

absl::Status CheckLength(std::string_view field, std::string_view value, size_t max_bytes) {
  if (value.size() <= max_bytes) return absl::OkStatus();
  return absl::InvalidArgumentError(std::string(field) + " is " + std::to_string(value.size()) +
                                    " bytes, the limit is " + std::to_string(max_bytes));
}

}  // namespace augur
