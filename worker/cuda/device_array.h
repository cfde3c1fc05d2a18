// DeviceArray<T>: an owned, grow-only cudaMalloc buffer. Growing discards the contents (the
// callers only grow scratch before filling it). Not thread-safe.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "worker/cuda/cuda_check.h"

namespace augur::cuda {

template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  ~DeviceArray() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  // Ensures room for n elements; true in *grew when the pointer changed.
  absl::Status Reserve(size_t n, bool* grew = nullptr) {
    if (grew != nullptr) *grew = false;
    if (n <= capacity_) return absl::OkStatus();
    if (ptr_ != nullptr) AUGUR_CUDA_RETURN_IF_ERROR(cudaFree(ptr_));
    ptr_ = nullptr;
    capacity_ = 0;
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMalloc(reinterpret_cast<void**>(&ptr_), sizeof(T) * n));
    capacity_ = n;
    if (grew != nullptr) *grew = true;
    return absl::OkStatus();
  }
  T* get() const { return ptr_; }
  size_t capacity() const { return capacity_; }

 private:
  T* ptr_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace augur::cuda
