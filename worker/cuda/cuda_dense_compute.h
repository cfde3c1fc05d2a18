// The "cuda" DenseCompute backend: slot array, dense weights, optimizer state and activations
// in device memory; GEMMs through cuBLASLt (fused bias + ReLU epilogues where they fit, FP32 by
// default, TF32 with DenseComputeOptions::tf32); gather/pool, interaction, loss, optimizer and
// the deterministic embedding-gradient sort in custom kernels (worker/cuda/cuda_kernels.h).
//
// Threads: as dense_compute.h says, one thread at a time drives an instance, but it need
// not be the thread that created it: every call (and the destructor) first makes
// options.device the calling thread's current CUDA device, and leaves it current.
//
// All work runs on one stream owned by the instance. Buffers are sized for the largest batch
// and bag count seen (options.max_batch_size pre-sizes them) and never allocated per step.
// ForwardBackward returns after the step's results are on the host (embedding gradients) or
// complete in device memory (dense_gradients(), a device span for NcclCollective; a worker
// with a host all-reduce copies it with Read/WriteDenseGradients). With a null `emb` the row
// gradients stay on the device and ApplyEmbeddingGradients updates the slots there.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "worker/model/dense_compute.h"

namespace augur::model {

// FAILED_PRECONDITION when no CUDA device is usable; INVALID_ARGUMENT for bad options;
// INTERNAL when a CUDA/cuBLASLt call fails during setup.
absl::StatusOr<std::unique_ptr<DenseCompute>> CreateCudaDenseCompute(
    const DenseComputeOptions& options);

}  // namespace augur::model
