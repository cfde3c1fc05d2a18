// Packed little-endian arrays in protobuf `bytes` fields (the wire format decision: row ids and
// float payloads are packed bytes, not repeated fields). Only copies; never reinterprets the
// string's storage, so alignment is never an issue.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace augur {

template <typename T>
std::string PackArray(std::span<const T> v) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::string out(v.size() * sizeof(T), '\0');
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// INVALID_ARGUMENT naming `what` when the byte length is not a multiple of sizeof(T).
template <typename T>
absl::StatusOr<std::vector<T>> UnpackArray(const std::string& bytes, const char* what) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (bytes.size() % sizeof(T) != 0)
    return absl::InvalidArgumentError(std::string(what) + ": " + std::to_string(bytes.size()) +
                                      " bytes is not a multiple of " +
                                      std::to_string(sizeof(T)));
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

}  // namespace augur
