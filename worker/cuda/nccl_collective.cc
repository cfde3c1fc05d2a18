// NcclCollective: ncclAllReduce in place on a private stream, over a non-blocking communicator
// whose every wait is polled against a deadline (see nccl_collective.h for why).
#include "worker/cuda/nccl_collective.h"

#include <nccl.h>

#include <cstring>
#include <thread>

#include "absl/time/clock.h"
#include "common/status.h"
#include "worker/cuda/cuda_check.h"
#include "worker/cuda/device_array.h"

namespace augur::model {
namespace {

// Waits between polls: spin briefly (an all-reduce of a few MB takes tens of microseconds on
// NVLink), then sleep so a slow peer does not cost this host a core.
void Pause(int polls) {
  if (polls < 1000) {
    std::this_thread::yield();
  } else {
    absl::SleepFor(absl::Microseconds(50));
  }
}

class NcclCollective final : public Collective {
 public:
  NcclCollective(int rank, int size, int device, absl::Duration timeout)
      : rank_(rank), size_(size), device_(device), timeout_(timeout) {}
  ~NcclCollective() override {
    // Teardown on our device, whichever thread destroys us (the device is per host thread).
    // Abort, not finalize: finalizing waits for the peers, which may be gone.
    (void)cudaSetDevice(device_);
    if (comm_ != nullptr) (void)ncclCommAbort(comm_);
    if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
  }

  absl::Status Init(const ncclUniqueId& id, absl::Time deadline) {
    AUGUR_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_));
    AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;  // init and collectives return at once; we poll with a deadline
    ncclResult_t r = ncclCommInitRankConfig(&comm_, size_, id, rank_, &config);
    if (r != ncclSuccess && r != ncclInProgress) return Break("ncclCommInitRankConfig", r);
    return WaitComm("communicator init", deadline);
  }

  BufferKind buffer_kind() const override { return BufferKind::kDevice; }

  absl::Status AllReduceSum(float* data, int64_t n) override {
    if (!broken_.ok()) return broken_;
    if (n < 0) return absl::InvalidArgumentError("negative element count");
    if (n == 0 || size_ == 1) return absl::OkStatus();
    AUGUR_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_));
    return ReduceOnStream(data, n, absl::Now() + timeout_);
  }

  absl::Status AllReduceHostSum(float* data, int64_t n) override {
    if (!broken_.ok()) return broken_;
    if (n < 0) return absl::InvalidArgumentError("negative element count");
    if (n == 0 || size_ == 1) return absl::OkStatus();
    const absl::Time deadline = absl::Now() + timeout_;
    AUGUR_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_));
    AUGUR_RETURN_IF_ERROR(staging_.Reserve(static_cast<size_t>(n)));
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(staging_.get(), data, sizeof(float) * n,
                                               cudaMemcpyHostToDevice, stream_));
    AUGUR_RETURN_IF_ERROR(ReduceOnStream(staging_.get(), n, deadline));
    // The stream is idle now (ReduceOnStream saw it drain), so this wait involves no peer.
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(data, staging_.get(), sizeof(float) * n,
                                               cudaMemcpyDeviceToHost, stream_));
    AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
    return absl::OkStatus();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

 private:
  // Enqueues the all-reduce and polls until its result is in place or `deadline` passes.
  absl::Status ReduceOnStream(float* data, int64_t n, absl::Time deadline) {
    ncclResult_t r =
        ncclAllReduce(data, data, static_cast<size_t>(n), ncclFloat32, ncclSum, comm_, stream_);
    if (r != ncclSuccess && r != ncclInProgress) return Break("ncclAllReduce", r);
    // A non-blocking communicator may still be enqueueing: wait for that first.
    AUGUR_RETURN_IF_ERROR(WaitComm("all-reduce enqueue", deadline));
    for (int polls = 0;; ++polls) {
      cudaError_t e = cudaStreamQuery(stream_);
      if (e == cudaSuccess) return absl::OkStatus();
      if (e != cudaErrorNotReady) {
        return Break(absl::InternalError(
            absl::StrCat("all-reduce on the device failed: ", cudaGetErrorString(e))));
      }
      ncclResult_t async = ncclSuccess;
      r = ncclCommGetAsyncError(comm_, &async);
      if (r != ncclSuccess) return Break("ncclCommGetAsyncError", r);
      if (async != ncclSuccess && async != ncclInProgress) return Break("all-reduce", async);
      if (absl::Now() > deadline) return TimedOut("all-reduce");
      Pause(polls);
    }
  }

  // Polls the communicator's state until it leaves ncclInProgress.
  absl::Status WaitComm(const char* what, absl::Time deadline) {
    for (int polls = 0;; ++polls) {
      ncclResult_t async = ncclInProgress;
      ncclResult_t r = ncclCommGetAsyncError(comm_, &async);
      if (r != ncclSuccess) return Break("ncclCommGetAsyncError", r);
      if (async == ncclSuccess) return absl::OkStatus();
      if (async != ncclInProgress) return Break(what, async);
      if (absl::Now() > deadline) return TimedOut(what);
      Pause(polls);
    }
  }

  absl::Status TimedOut(const char* what) {
    return Break(absl::UnavailableError(
        absl::StrCat("nccl ", what, " on rank ", rank_, " of ", size_, " did not complete within ",
                     absl::FormatDuration(timeout_), " (a peer is gone or stalled)")));
  }
  absl::Status Break(const char* what, ncclResult_t r) {
    const char* last = comm_ != nullptr ? ncclGetLastError(comm_) : nullptr;
    const std::string detail = last != nullptr ? last : "";
    return Break(absl::UnavailableError(absl::StrCat("nccl ", what, " failed on rank ", rank_,
                                                     ": ", ncclGetErrorString(r),
                                                     detail.empty() ? "" : " (", detail,
                                                     detail.empty() ? "" : ")")));
  }
  // Aborts the communicator (ending any operation still running on the device, so the stream
  // drains) and makes every later call fail with `st`.
  absl::Status Break(absl::Status st) {
    if (comm_ != nullptr) (void)ncclCommAbort(comm_);
    comm_ = nullptr;
    broken_ = absl::UnavailableError(
        absl::StrCat("the NCCL collective is unusable after an earlier failure: ", st.message()));
    return st;
  }

  const int rank_, size_, device_;
  const absl::Duration timeout_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cuda::DeviceArray<float> staging_;  // AllReduceHostSum's device copy
  absl::Status broken_;               // OK until a failure aborted the communicator
};

}  // namespace

absl::StatusOr<std::unique_ptr<Collective>> NewNcclCollective(const NcclCollectiveOptions& o) {
  if (o.size < 1 || o.rank < 0 || o.rank >= o.size) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank ", o.rank, " is outside a group of ", o.size));
  }
  if (o.store == nullptr) return absl::InvalidArgumentError("no rendezvous store");
  if (o.device < 0) return absl::InvalidArgumentError(absl::StrCat("device ", o.device));
  if (o.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the NCCL collective needs a positive timeout");
  }
  // Before any NCCL call and before waiting for peers: without a device there is nothing to
  // wait for.
  int devices = 0;
  cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the NCCL collective needs a CUDA device and this process sees none (",
        e != cudaSuccess ? cudaGetErrorString(e) : "0 devices", ")"));
  }
  if (o.device >= devices) {
    return absl::FailedPreconditionError(
        absl::StrCat("CUDA device ", o.device, " does not exist (", devices, " visible)"));
  }
  ncclUniqueId id;
  const std::string key = o.prefix + "/nccl_id";
  if (o.rank == 0) {
    ncclResult_t r = ncclGetUniqueId(&id);
    if (r != ncclSuccess) {
      return absl::UnavailableError(
          absl::StrCat("ncclGetUniqueId failed: ", ncclGetErrorString(r)));
    }
    AUGUR_RETURN_IF_ERROR(o.store->Set(key, std::string(id.internal, sizeof(id.internal))));
  } else {
    AUGUR_ASSIGN_OR_RETURN(std::string bytes, o.store->Get(key, o.timeout));
    if (bytes.size() != sizeof(id.internal)) {
      return absl::InternalError("malformed ncclUniqueId in the rendezvous store");
    }
    std::memcpy(id.internal, bytes.data(), sizeof(id.internal));
  }
  auto c = std::make_unique<NcclCollective>(o.rank, o.size, o.device, o.timeout);
  // Init waits for every rank to join, so it gets a whole timeout of its own (rank 0 published
  // the id without waiting; its peers may start much later).
  AUGUR_RETURN_IF_ERROR(c->Init(id, absl::Now() + o.timeout));
  return std::unique_ptr<Collective>(std::move(c));
}

}  // namespace augur::model
