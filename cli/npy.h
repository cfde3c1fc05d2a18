// Writes NumPy .npy files (format version 1.0, C order, little-endian) so exported models load
// with plain numpy.load, no augur code on the reading side.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace augur::cli {

// `shape` is the array's shape (e.g. {rows, dim}); its product must equal the data's length.
// UNAVAILABLE when the file cannot be written; INVALID_ARGUMENT on a shape mismatch.
absl::Status WriteNpy(const std::string& path, std::span<const float> data,
                      const std::vector<int64_t>& shape);
absl::Status WriteNpy(const std::string& path, std::span<const uint64_t> data,
                      const std::vector<int64_t>& shape);

// The header bytes of a .npy file (magic, version, length, dict), padded to 64 bytes.
std::string NpyHeader(const std::string& descr, const std::vector<int64_t>& shape);

}  // namespace augur::cli
