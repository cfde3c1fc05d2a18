// Argument checks shared by every DenseCompute backend. They run on the host before any work
// so a malformed minibatch is an INVALID_ARGUMENT, never an out-of-bounds read on a device.
#include "worker/model/dense_compute.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace augur::model {

absl::StatusOr<bool> DenseCompute::DenseGradientsFinite() {
  absl::Span<const float> g = dense_gradients();
  std::vector<float> copy;
  if (dense_gradients_on_device()) {
    copy.resize(g.size());
    AUGUR_RETURN_IF_ERROR(ReadDenseGradients(absl::MakeSpan(copy)));
    g = copy;
  }
  return std::all_of(g.begin(), g.end(), [](float x) { return std::isfinite(x); });
}

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

namespace {

// The bags must tile `slots` exactly, feature after feature: the CUDA embedding-gradient
// kernels size and index their per-occurrence scratch by these offsets, so an overlap would
// write past it and a gap would leave scratch entries unwritten that later pass for slot
// numbers. (The CPU backend would cope with both; the contract is the stricter one.)
absl::Status CheckContiguousOffsets(int num_sparse, int64_t b, absl::Span<const int64_t> offsets,
                                    int64_t n) {
  int64_t prev_end = 0;  // where the previous feature's bags ended
  for (int f = 0; f < num_sparse; ++f) {
    const int64_t* off = offsets.data() + f * (b + 1);
    if (off[0] != prev_end) {
      return absl::InvalidArgumentError(
          f == 0 ? absl::StrCat("offsets of feature 0 must start at 0, sample 0 starts at ",
                                off[0])
                 : absl::StrCat("offsets of feature ", f, " start at ", off[0],
                                " (sample 0) but feature ", f - 1, " ends at ", prev_end,
                                ": features must follow each other with no gap or overlap"));
    }
    for (int64_t i = 1; i <= b; ++i) {
      if (off[i] < off[i - 1]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "offsets of feature ", f, " decrease at sample ", i - 1, ": its bag ends at ", off[i],
            " before it starts at ", off[i - 1]));
      }
    }
    prev_end = off[b];
  }
  if (prev_end != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("offsets of feature ", num_sparse - 1, " end at ", prev_end, " (sample ",
                     b - 1, "), but the minibatch has ", n, " slots"));
  }
  return absl::OkStatus();
}

}  // namespace

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
  AUGUR_RETURN_IF_ERROR(CheckContiguousOffsets(c.num_sparse, b, mb.offsets,
                                               static_cast<int64_t>(mb.slots.size())));
  const int64_t n = static_cast<int64_t>(mb.slots.size());
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

absl::Status CheckDenseOptimizerState(const DenseOptimizerState& state, OptimizerKind kind,
                                      int64_t weights) {
  if (state.steps < 0) return absl::InvalidArgumentError("dense optimizer steps must be >= 0");
  const size_t n = static_cast<size_t>(weights);
  const size_t want1 = kind == OptimizerKind::kSgd ? 0 : n;
  const size_t want2 = kind == OptimizerKind::kAdam ? n : 0;
  if (state.s1.size() != want1 || state.s2.size() != want2)
    return absl::InvalidArgumentError(
        "dense optimizer state: " + std::to_string(state.s1.size()) + " + " +
        std::to_string(state.s2.size()) + " floats, the model's " + std::string(OptimizerName(kind)) +
        " keeps " + std::to_string(want1) + " + " + std::to_string(want2));
  return absl::OkStatus();
}

}  // namespace augur::model
