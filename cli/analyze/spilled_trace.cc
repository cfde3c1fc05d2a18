#include "cli/analyze/spilled_trace.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace augur::analyze {

namespace {
constexpr size_t kBufferBytes = size_t{4} << 20;

absl::Status IoError(const char* what) {
  return absl::InternalError(absl::StrCat("analyzer spill file: ", what, ": ", std::strerror(errno)));
}
}  // namespace

absl::StatusOr<std::unique_ptr<SpilledTrace>> SpilledTrace::Create(const std::string& dir) {
  std::string path = dir + "/augur-analyze-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) return IoError(("cannot create one in " + dir).c_str());
  unlink(path.c_str());
  std::FILE* f = fdopen(fd, "w+b");
  if (f == nullptr) {
    close(fd);
    return IoError("fdopen");
  }
  std::setvbuf(f, nullptr, _IOFBF, kBufferBytes);
  return std::unique_ptr<SpilledTrace>(new SpilledTrace(f));
}

SpilledTrace::~SpilledTrace() { std::fclose(file_); }

absl::Status SpilledTrace::Append(std::span<const uint32_t> ids) {
  const uint32_t n = static_cast<uint32_t>(ids.size());
  if (std::fwrite(&n, sizeof n, 1, file_) != 1 ||
      std::fwrite(ids.data(), sizeof(uint32_t), n, file_) != n) {
    return IoError("write");
  }
  bytes_ += static_cast<int64_t>(sizeof n + n * sizeof(uint32_t));
  return absl::OkStatus();
}

absl::Status SpilledTrace::Replay(
    int num_workers,
    const std::function<absl::Status(int, int64_t, std::span<const uint32_t>)>& visit) {
  if (std::fflush(file_) != 0) return IoError("flush");
  std::rewind(file_);
  int64_t read = 0;
  for (int64_t slice = 0; read < bytes_; ++slice) {
    uint32_t n = 0;
    ids_.resize(0);
    if (std::fread(&n, sizeof n, 1, file_) == 1) ids_.resize(n);
    if (ids_.size() != n || std::fread(ids_.data(), sizeof(uint32_t), n, file_) != n) {
      return absl::InternalError("analyzer spill file: short read");
    }
    read += static_cast<int64_t>(sizeof n + n * sizeof(uint32_t));
    absl::Status s = visit(static_cast<int>(slice % num_workers), slice / num_workers, ids_);
    if (!s.ok()) return s;
  }
  // Appends may follow a replay: continue at the end.
  if (std::fseek(file_, 0, SEEK_END) != 0) return IoError("seek");
  return absl::OkStatus();
}

}  // namespace augur::analyze
