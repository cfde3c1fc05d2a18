// Argument checks shared by every DenseCompute backend. They run on the host before any work
// so a malformed minibatch is an INVALID_ARGUMENT, never an out-of-bounds read on a device.
#include "worker/model/dense_compute.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace augur::model {

absl::Status ValidateDenseComputeOptions(const DenseComputeOptions& o) {
  AUGUR_RETURN_IF_ERROR(ValidateDlrmConfig(o.model));
  AUGUR_RETURN_IF_ERROR(ValidateOptimizerConfig(o.embedding_optimizer));
  AUGUR_RETURN_IF_ERROR(ValidateOptimizerConfig(o.dense_optimizer));
  if (o.capacity <= 0 || o.capacity > (int64_t{1} << 32)) {
    return absl::InvalidArgumentError(
        absl::StrCat("slot capacity must be in [1, 2^32], got ", o.capacity));
  }
  if (o.threads <= 0) return absl::InvalidArgumentError("threads must be positive");
  if (o.max_batch_size < 0) return absl::InvalidArgumentError("max_batch_size must be >= 0");
  return absl::OkStatus();
}

absl::Status ValidateMinibatch(const DlrmConfig& c, int64_t capacity, const Minibatch& mb,
                               bool need_labels) {
  const int64_t b = mb.batch_size;
  if (b <= 0) return absl::InvalidArgumentError("batch_size must be positive");
  if (need_labels && mb.global_batch_size < b) {
    return absl::InvalidArgumentError(absl::StrCat("global_batch_size ", mb.global_batch_size,
                                                   " is smaller than the local batch ", b));
  }
  if (static_cast<int64_t>(mb.dense.size()) != b * c.num_dense) {
    return absl::InvalidArgumentError(
        absl::StrCat("dense has ", mb.dense.size(), " floats, expected ", b * c.num_dense));
  }
  if (need_labels && static_cast<int64_t>(mb.labels.size()) != b) {
    return absl::InvalidArgumentError(absl::StrCat("labels has ", mb.labels.size(),
                                                   " floats, expected ", b));
  }
  if (static_cast<int64_t>(mb.offsets.size()) != c.num_sparse * (b + 1)) {
    return absl::InvalidArgumentError(absl::StrCat("offsets has ", mb.offsets.size(),
                                                   " entries, expected ", c.num_sparse * (b + 1)));
  }
  const int64_t n = static_cast<int64_t>(mb.slots.size());
  for (int f = 0; f < c.num_sparse; ++f) {
    const int64_t* off = mb.offsets.data() + f * (b + 1);
    for (int64_t i = 0; i <= b; ++i) {
      if (off[i] < 0 || off[i] > n || (i > 0 && off[i] < off[i - 1])) {
        return absl::InvalidArgumentError(
            absl::StrCat("offsets of feature ", f, " are not non-decreasing within [0, ", n, "]"));
      }
    }
  }
  for (int64_t k = 0; k < n; ++k) {
    if (mb.slots[k] >= capacity) {
      return absl::InvalidArgumentError(
          absl::StrCat("slot ", mb.slots[k], " is outside the slot array of ", capacity));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSlots(absl::Span<const SlotIndex> slots, int64_t capacity) {
  for (SlotIndex s : slots) {
    if (s >= capacity) {
      return absl::InvalidArgumentError(
          absl::StrCat("slot ", s, " is outside the slot array of ", capacity));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSize(const char* what, size_t got, int64_t want) {
  if (static_cast<int64_t>(got) != want) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has ", got, " floats, expected ", want));
  }
  return absl::OkStatus();
}

absl::Status CheckOptimizerKind(const OptimizerConfig& opt, const DenseComputeOptions& options) {
  if (opt.kind != options.embedding_optimizer.kind) {
    return absl::InvalidArgumentError("optimizer kind differs from the slot record layout");
  }
  return absl::OkStatus();
}

}  // namespace augur::model
