#include "cli/npy.h"

#include <fstream>

namespace augur::cli {
namespace {

absl::Status Write(const std::string& path, const char* descr, const void* data, size_t bytes,
                   size_t elems, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  if (n != static_cast<int64_t>(elems))
    return absl::InvalidArgumentError(path + ": shape holds " + std::to_string(n) +
                                      " elements, data has " + std::to_string(elems));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string header = NpyHeader(descr, shape);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  out.close();
  if (!out) return absl::UnavailableError("cannot write " + path);
  return absl::OkStatus();
}

}  // namespace

std::string NpyHeader(const std::string& descr, const std::vector<int64_t>& shape) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) dict += std::to_string(shape[i]) + ", ";
  if (shape.size() > 1) dict.resize(dict.size() - 2);  // (n,) keeps its comma; (a, b) does not
  else if (shape.size() == 1) dict.resize(dict.size() - 1);
  dict += "), }";
  // Magic (6) + version (2) + length (2) + dict + '\n' is padded to a multiple of 64 so the data
  // starts aligned, as numpy itself writes it.
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string h = "\x93NUMPY";
  h += '\x01';
  h += '\x00';
  h += static_cast<char>(dict.size() & 0xff);
  h += static_cast<char>(dict.size() >> 8);
  return h + dict;
}

absl::Status WriteNpy(const std::string& path, std::span<const float> data,
                      const std::vector<int64_t>& shape) {
  return Write(path, "<f4", data.data(), data.size_bytes(), data.size(), shape);
}

absl::Status WriteNpy(const std::string& path, std::span<const uint64_t> data,
                      const std::vector<int64_t>& shape) {
  return Write(path, "<u8", data.data(), data.size_bytes(), data.size(), shape);
}

}  // namespace augur::cli
