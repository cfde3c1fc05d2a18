// The interned trace on disk, so the dataset is read, deduplicated and interned once however many
// capacities an analysis replays: the first pass appends every slice's dense ids, every replay
// reads them back in order. Records: per iteration, per worker, [uint32 n][n uint32 ids].
//
// The file is created in `dir` and unlinked at once (it vanishes with the process), and only a
// buffer of it is ever in memory: 4 bytes per (worker, row) read plus 4 per slice on disk, e.g.
// ~4 GB for a billion reads. Put `dir` on a disk, not a tmpfs, for traces that size.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace augur::analyze {

class SpilledTrace {
 public:
  // INTERNAL (with errno's text) when the file cannot be created in `dir`.
  static absl::StatusOr<std::unique_ptr<SpilledTrace>> Create(const std::string& dir);
  ~SpilledTrace();
  SpilledTrace(const SpilledTrace&) = delete;
  SpilledTrace& operator=(const SpilledTrace&) = delete;

  // Appends one slice; slices of an iteration go worker by worker. INTERNAL on a write error
  // (e.g. the disk is full).
  absl::Status Append(std::span<const uint32_t> ids);
  // Reads every slice back in order: visit(worker, iteration, ids). Returns visit's first error,
  // or INTERNAL on a read error or a truncated file.
  absl::Status Replay(int num_workers,
                      const std::function<absl::Status(int, int64_t, std::span<const uint32_t>)>&
                          visit);
  int64_t bytes() const { return bytes_; }

 private:
  explicit SpilledTrace(std::FILE* f) : file_(f) {}
  std::FILE* file_;
  int64_t bytes_ = 0;
  std::vector<uint32_t> ids_;
};

}  // namespace augur::analyze
