// NcclCollective: ncclAllReduce in place on a private stream.
#include "worker/cuda/nccl_collective.h"

#include <nccl.h>

#include <cstring>

#include "common/status.h"
#include "worker/cuda/cuda_check.h"

#define AUGUR_NCCL_RETURN_IF_ERROR(expr)                                                 \
  do {                                                                                   \
    ncclResult_t augur_nccl_err_ = (expr);                                               \
    if (augur_nccl_err_ != ncclSuccess) {                                                \
      return ::absl::InternalError(                                                      \
          ::absl::StrCat(#expr, " failed: ", ncclGetErrorString(augur_nccl_err_)));      \
    }                                                                                    \
  } while (0)

namespace augur::model {
namespace {

class NcclCollective final : public Collective {
 public:
  NcclCollective(int rank, int size, int device) : rank_(rank), size_(size), device_(device) {}
  ~NcclCollective() override {
    // Teardown on our device, whichever thread destroys us (the device is per host thread).
    (void)cudaSetDevice(device_);
    if (comm_ != nullptr) ncclCommDestroy(comm_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }

  absl::Status Init(const ncclUniqueId& id) {
    AUGUR_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_));
    AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    AUGUR_NCCL_RETURN_IF_ERROR(ncclCommInitRank(&comm_, size_, id, rank_));
    return absl::OkStatus();
  }

  absl::Status AllReduceSum(float* data, int64_t n) override {
    if (n < 0) return absl::InvalidArgumentError("negative element count");
    if (n == 0 || size_ == 1) return absl::OkStatus();
    AUGUR_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_));
    AUGUR_NCCL_RETURN_IF_ERROR(
        ncclAllReduce(data, data, static_cast<size_t>(n), ncclFloat32, ncclSum, comm_, stream_));
    AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
    return absl::OkStatus();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

 private:
  int rank_, size_, device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Collective>> NewNcclCollective(const NcclCollectiveOptions& o) {
  if (o.size < 1 || o.rank < 0 || o.rank >= o.size) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank ", o.rank, " is outside a group of ", o.size));
  }
  if (o.store == nullptr) return absl::InvalidArgumentError("no rendezvous store");
  ncclUniqueId id;
  const std::string key = o.prefix + "/nccl_id";
  if (o.rank == 0) {
    AUGUR_NCCL_RETURN_IF_ERROR(ncclGetUniqueId(&id));
    AUGUR_RETURN_IF_ERROR(o.store->Set(key, std::string(id.internal, sizeof(id.internal))));
  } else {
    AUGUR_ASSIGN_OR_RETURN(std::string bytes, o.store->Get(key, o.timeout));
    if (bytes.size() != sizeof(id.internal)) {
      return absl::InternalError("malformed ncclUniqueId in the rendezvous store");
    }
    std::memcpy(id.internal, bytes.data(), sizeof(id.internal));
  }
  auto c = std::make_unique<NcclCollective>(o.rank, o.size, o.device);
  AUGUR_RETURN_IF_ERROR(c->Init(id));
  return std::unique_ptr<Collective>(std::move(c));
}

}  // namespace augur::model
