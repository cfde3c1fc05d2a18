// DenseCompute: the device seam of the worker (STYLE.md item 7). One interface, two backends:
// "cpu" (OpenBLAS, this library) and "cuda" (worker/cuda/, cuBLASLt), with identical math, so
// the worker runtime, tests and benchmarks never know which one they drive.
//
// A DenseCompute owns
//   * the SLOT ARRAY: `capacity` slots of row_floats() = dim + StateFloats(kind, dim) floats,
//     each one embedding row in the shard's record layout (value, then optimizer state); host
//     memory on CPU, device memory on CUDA. The oracle decides which row lives in which slot;
//     the model only ever sees slot indices.
//   * the dense DLRM weights (flat layout, worker/model/dlrm_config.h), their optimizer state
//     and a flat dense-gradient buffer of the same layout.
//
// One training step, as the worker runtime drives it:
//   ForwardBackward(mb, &emb)      -> local loss sum; dense grads in dense_gradients();
//                                     per-row embedding grads in `emb`
//   collective.AllReduceSum(dense_gradients())          (in place; NCCL for device buffers,
//                                    or Read/WriteDenseGradients around a host all-reduce)
//   ApplyDenseGradients()
//   UpdateSlots(rows, combined embedding grads, opt)    (after combining across workers)
//
// Determinism: for a fixed backend and thread count, results depend only on the rows' values,
// never on which slots hold them (embedding gradients are summed in sample order, not slot
// order), so the cache is invisible to the math (ARCHITECTURE.md invariant 1).
//
// Thread-safety: none. One thread drives an instance; calls must not overlap.
// Errors: INVALID_ARGUMENT for malformed input (sizes, slot indices >= capacity, offsets that
// decrease or do not tile the slots, optimizer kind different from the slot layout's); FAILED_PRECONDITION /
// UNIMPLEMENTED from the factory (unknown backend, CUDA not built or no device); INTERNAL for a
// failed device call (the instance is then unusable).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/optimizer.h"
#include "worker/model/dlrm_config.h"

namespace augur::model {

// Index of a slot in the slot array, [0, capacity).
using SlotIndex = uint32_t;

// One worker's slice of a global batch. All spans are host memory, borrowed for the call.
struct Minibatch {
  int batch_size = 0;             // B, local samples
  int64_t global_batch_size = 0;  // samples in the global batch (loss is averaged over these)
  absl::Span<const float> dense;  // B x num_dense, row-major, already transformed
  absl::Span<const float> labels; // B, 0 or 1 (ignored by Predict)
  // Bags: sample b's bag for feature f is slots[offsets[f*(B+1)+b] .. offsets[f*(B+1)+b+1]).
  // Offsets are absolute into `slots`, non-decreasing within each feature, and the features
  // tile `slots` in order with no gap or overlap: offsets[0] == 0, feature f starts where
  // feature f-1 ends (offsets[f*(B+1)] == offsets[f*(B+1)-1]), and the last feature ends at
  // slots.size(). (The CUDA embedding-gradient kernels rely on it.)
  absl::Span<const int64_t> offsets;  // num_sparse x (B+1)
  absl::Span<const SlotIndex> slots;
};

// Per-row gradients of the global-mean loss from one ForwardBackward.
struct EmbeddingGradients {
  // Unique touched slots in order of first appearance: sample-major, then feature, then bag
  // position. Each row's gradient is summed over its occurrences in that same order.
  std::vector<SlotIndex> slots;
  std::vector<float> grads;  // slots.size() x dim
};

struct DenseComputeOptions {
  std::string backend = "cpu";           // "cpu" or "cuda"
  DlrmConfig model;                      // must pass ValidateDlrmConfig
  int64_t capacity = 0;                  // slots in the slot array (> 0)
  OptimizerConfig embedding_optimizer;   // fixes the slot record layout (its kind)
  OptimizerConfig dense_optimizer;       // SGD, element-wise Adagrad or Adam for the MLPs
  uint64_t seed = 0;                     // dense init (InitDenseWeights)
  int threads = 1;                       // CPU: OpenBLAS threads (process-wide setting)
  int max_batch_size = 0;                // pre-size buffers; larger batches grow them once
  bool tf32 = false;                     // CUDA: TF32 tensor-core GEMMs
  int device = 0;                        // CUDA device ordinal
};

// The dense optimizer's state beside the weights (worker/model/dense_optimizer.h): the update
// count (Adam's bias corrections) and the per-weight accumulators — s1 for adagrad (acc) and
// adam (m), s2 for adam (v); empty where the optimizer keeps none.
struct DenseOptimizerState {
  int64_t steps = 0;
  std::vector<float> s1, s2;
};

class DenseCompute {
 public:
  virtual ~DenseCompute() = default;

  virtual std::string_view backend() const = 0;
  virtual const DlrmConfig& config() const = 0;
  virtual int64_t capacity() const = 0;
  // dim + StateFloats(embedding_optimizer.kind, dim).
  virtual int row_floats() const = 0;

  // Copies records (slots.size() x row_floats()) into the given slots (fills).
  virtual absl::Status WriteSlots(absl::Span<const SlotIndex> slots,
                                  absl::Span<const float> records) = 0;
  // Copies the given slots' records into `records` (slots.size() x row_floats()).
  virtual absl::Status ReadSlots(absl::Span<const SlotIndex> slots, absl::Span<float> records) = 0;
  // Applies common/optimizer.h ApplyRowUpdate to each slot with its gradient row (slots.size()
  // x dim). Slots must be distinct. opt.kind must equal the slot layout's kind.
  virtual absl::Status UpdateSlots(absl::Span<const SlotIndex> slots,
                                   absl::Span<const float> grads, const OptimizerConfig& opt) = 0;

  // Forward and backward over one minibatch, reading rows from the slot array (not modifying
  // it). Returns the sum of the local samples' BCE losses; fills dense_gradients() and `emb`
  // with gradients of (sum of BCE) / global_batch_size. With `emb` null the embedding
  // gradients stay in the backend (device memory on CUDA) for ApplyEmbeddingGradients.
  virtual absl::StatusOr<double> ForwardBackward(const Minibatch& mb, EmbeddingGradients* emb) = 0;
  // Applies the embedding gradients kept by the last ForwardBackward(mb, nullptr) to their
  // slots, exactly as UpdateSlots(emb.slots, emb.grads, opt) would with the gradients that call
  // would have returned, but without the host round trip: the path for rows no other worker
  // touches (one worker). FAILED_PRECONDITION when none are pending (already applied, the last
  // ForwardBackward returned them, or it failed); INVALID_ARGUMENT for a wrong opt.kind.
  virtual absl::Status ApplyEmbeddingGradients(const OptimizerConfig& opt) = 0;
  // The slots of the kept gradients, in EmbeddingGradients::slots order (a small copy; the
  // gradients stay). FAILED_PRECONDITION when none are pending.
  virtual absl::Status KeptEmbeddingSlots(std::vector<SlotIndex>* slots) = 0;

  // The flat dense-gradient buffer of the last ForwardBackward, for in-place all-reduce.
  // Device memory when dense_gradients_on_device() (CUDA): hand it to NcclCollective only.
  virtual absl::Span<float> dense_gradients() = 0;
  virtual bool dense_gradients_on_device() const = 0;
  // Host copies into and out of that buffer, whatever memory it lives in: for a worker whose
  // all-reduce runs on the host (Gloo) and for tests. INVALID_ARGUMENT for a wrong size.
  virtual absl::Status ReadDenseGradients(absl::Span<float> out) = 0;
  virtual absl::Status WriteDenseGradients(absl::Span<const float> in) = 0;
  // One dense optimizer step with the (all-reduced) contents of dense_gradients().
  virtual absl::Status ApplyDenseGradients() = 0;
  // Whether every element of dense_gradients() is finite: the trainer's divergence check when
  // the gradients are all-reduced in place on the device. The default scans host memory (a
  // device buffer is copied out first); the CUDA backend checks on the device and copies one
  // flag.
  virtual absl::StatusOr<bool> DenseGradientsFinite();

  // Flat dense weights (DenseLayout), for tests, checkpoints and export. Setting them does not
  // reset the dense optimizer state.
  virtual absl::StatusOr<std::vector<float>> GetDenseWeights() = 0;
  virtual absl::Status SetDenseWeights(absl::Span<const float> weights) = 0;
  // The dense optimizer's state (checkpoints, resume): weights and state together continue
  // training exactly where they were taken. INVALID_ARGUMENT on Set for another optimizer kind
  // or wrong sizes.
  virtual absl::StatusOr<DenseOptimizerState> GetDenseOptimizerState() = 0;
  virtual absl::Status SetDenseOptimizerState(const DenseOptimizerState& state) = 0;

  // Click probabilities sigmoid(logit) for the minibatch's samples (B floats); labels unused.
  virtual absl::Status Predict(const Minibatch& mb, absl::Span<float> probabilities) = 0;
};

// INVALID_ARGUMENT unless `state` fits a model of `weights` floats trained with `kind`: s1 has
// `weights` floats for adagrad and adam (empty for sgd), s2 for adam only, steps >= 0.
absl::Status CheckDenseOptimizerState(const DenseOptimizerState& state, OptimizerKind kind,
                                      int64_t weights);

// Creates the backend named by options.backend. INVALID_ARGUMENT for bad options;
// UNIMPLEMENTED for "cuda" in a build without CUDA; FAILED_PRECONDITION when CUDA is built but
// no usable device exists; INVALID_ARGUMENT for an unknown backend name.
absl::StatusOr<std::unique_ptr<DenseCompute>> CreateDenseCompute(
    const DenseComputeOptions& options);

// Shared argument checks used by every backend (host-side, O(indices)).
absl::Status ValidateDenseComputeOptions(const DenseComputeOptions& options);
// INVALID_ARGUMENT naming the field (and for offsets the feature and sample) when `mb` breaks
// the Minibatch contract above; labels are checked only when need_labels.
absl::Status ValidateMinibatch(const DlrmConfig& c, int64_t capacity, const Minibatch& mb,
                               bool need_labels);
// INVALID_ARGUMENT naming the first slot outside [0, capacity).
absl::Status CheckSlots(absl::Span<const SlotIndex> slots, int64_t capacity);
// INVALID_ARGUMENT when `what` holds `got` floats instead of `want`.
absl::Status CheckSize(const char* what, size_t got, int64_t want);
// INVALID_ARGUMENT when a row update's optimizer kind is not the slot layout's.
absl::Status CheckOptimizerKind(const OptimizerConfig& opt, const DenseComputeOptions& options);

}  // namespace augur::model
