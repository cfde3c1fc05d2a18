// Reads a text file line by line through one large buffer, transparently gunzipping `.gz` files.
//
// Lines are handed out as string_views into the internal buffer, valid until the next call, so
// reading costs one copy from the kernel (or zlib) and nothing per line. Line endings (LF or CRLF)
// are stripped. Ownership: the reader owns its file handle and buffer. Thread-safety: none.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace augur::data {

class LineReader {
 public:
  // NOT_FOUND / PERMISSION_DENIED (via errno) naming the file when it cannot be opened. A path
  // ending in ".gz" is decompressed with zlib.
  static absl::StatusOr<std::unique_ptr<LineReader>> Open(const std::string& path,
                                                          size_t buffer_bytes = 8 << 20);
  virtual ~LineReader() = default;

  // Sets *line to the next line (without "\n" / "\r\n"); returns false at the end of the file.
  // A read error or a line longer than the buffer makes Next return false with status() not OK.
  virtual bool Next(std::string_view* line) = 0;
  // 1-based number of the line last returned by Next.
  virtual int64_t line_number() const = 0;
  // Bytes of (uncompressed) input consumed so far.
  virtual int64_t bytes_read() const = 0;
  virtual const absl::Status& status() const = 0;
};

}  // namespace augur::data
