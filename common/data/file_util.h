// Small POSIX file helpers shared by the dataset writer and reader: errno -> absl::Status with the
// file name, whole-buffer writes, fsync of files and directories, read-only and read-write mmap.
// Thread-safety: free functions; a MappedFile is immutable after construction (the RW mapping is
// written by one thread at a time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace augur::data {

absl::Status ErrnoToStatus(int err, const std::string& what);
absl::Status WriteAll(int fd, const void* data, size_t n, const std::string& path);
absl::Status FsyncPath(const std::string& path);  // a file or a directory
absl::StatusOr<std::string> ReadSmallFile(const std::string& path);
absl::Status WriteFileSynced(const std::string& path, const std::string& contents);

// A whole file mapped into memory; unmapped on destruction. An empty file maps to nullptr/0.
class MappedFile {
 public:
  // NOT_FOUND naming the file when it is absent; INVALID_ARGUMENT when it is not a regular file
  // (a FIFO or a device is refused at once, never waited on).
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path, bool writable);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() { return data_; }
  size_t size() const { return size_; }
  // Drops the pages of [offset, offset + n) from this process's resident set (the kernel keeps
  // them in the page cache); lets a sequential reader keep its memory bounded.
  void Release(size_t offset, size_t n) const;

 private:
  MappedFile(uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t* data_;
  size_t size_;
};

uint32_t Crc32(const void* data, size_t n, uint32_t crc = 0);

}  // namespace augur::data
