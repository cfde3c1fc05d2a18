// CudaDenseCompute, part 1: setup, the slot array, dense weights and the dense optimizer.
#include <algorithm>
#include <cstring>

#include "common/status.h"
#include "worker/cuda/cuda_check.h"
#include "worker/cuda/cuda_dense_compute.h"
#include "worker/cuda/cuda_dense_compute_impl.h"
#include "worker/cuda/cuda_kernels.h"
#include "worker/model/dense_optimizer.h"

namespace augur::cuda {
using model::CheckSize;
using model::CheckOptimizerKind;
using model::CheckSlots;

namespace {

constexpr size_t kLtWorkspaceBytes = 32u << 20;


}  // namespace

CudaDenseCompute::CudaDenseCompute(const DenseComputeOptions& o)
    : options_(o), layout_(model::MakeDenseLayout(o.model)) {
  row_floats_ = o.model.dim + StateFloats(o.embedding_optimizer.kind, o.model.dim);
  v_ = model::InteractionVectors(o.model);
  pairs_ = model::InteractionPairs(o.model);
  tw_ = model::TopInputWidth(o.model);
  first_emb_ = model::FirstEmbeddingVector(o.model);
  lead_ = model::HasBottom(o.model) ? o.model.dim : 0;
  dcn_ = o.model.interaction == model::Interaction::kDcn;
  width_max_ = std::max(o.model.num_dense, tw_);
  for (const auto& l : layout_.bottom) width_max_ = std::max(width_max_, l.out);
  for (const auto& l : layout_.top) width_max_ = std::max(width_max_, l.out);
  while ((int64_t{1} << slot_bits_) < o.capacity) ++slot_bits_;
  for (size_t i = 0; i < layout_.bottom.size(); ++i) {
    bottom_.push_back(std::make_unique<DeviceArray<float>>());
  }
  for (size_t i = 0; i < layout_.top.size(); ++i) {
    top_.push_back(std::make_unique<DeviceArray<float>>());
  }
  for (size_t i = 0; i < layout_.cross.size(); ++i) {
    cross_x_.push_back(std::make_unique<DeviceArray<float>>());
    cross_u_.push_back(std::make_unique<DeviceArray<float>>());
    cross_t_.push_back(std::make_unique<DeviceArray<float>>());
  }
  bottom_plans_ = std::vector<LayerPlan>(layout_.bottom.size());
  top_plans_ = std::vector<LayerPlan>(layout_.top.size());
  cross_plans_ = std::vector<CrossPlan>(layout_.cross.size());
}

CudaDenseCompute::~CudaDenseCompute() {
  // The members' cudaFree and the handle/stream teardown must run on our device, whichever
  // thread destroys us; the members are destroyed after this body, with it still current.
  (void)UseDevice();
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  bottom_plans_.clear();
  top_plans_.clear();
  cross_plans_.clear();
  if (lt_ != nullptr) cublasLtDestroy(lt_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

absl::Status CudaDenseCompute::UseDevice() const {
  AUGUR_CUDA_RETURN_IF_ERROR(cudaSetDevice(options_.device));
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::Init() {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  AUGUR_CUBLAS_RETURN_IF_ERROR(cublasLtCreate(&lt_));
  const size_t n = static_cast<size_t>(layout_.total_floats);
  AUGUR_RETURN_IF_ERROR(
      slot_array_.Reserve(static_cast<size_t>(options_.capacity) * row_floats_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(
      slot_array_.get(), 0, sizeof(float) * options_.capacity * row_floats_, stream_));
  AUGUR_RETURN_IF_ERROR(weights_.Reserve(n));
  AUGUR_RETURN_IF_ERROR(grads_.Reserve(n));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(grads_.get(), 0, sizeof(float) * n, stream_));
  const OptimizerKind k = options_.dense_optimizer.kind;
  if (k != OptimizerKind::kSgd) {
    std::vector<float> init(n, k == OptimizerKind::kAdagrad
                                   ? options_.dense_optimizer.initial_accumulator
                                   : 0.0f);
    AUGUR_RETURN_IF_ERROR(state1_.Reserve(n));
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(state1_.get(), init.data(), sizeof(float) * n,
                                               cudaMemcpyHostToDevice, stream_));
    AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));  // before `init` goes
  }
  if (k == OptimizerKind::kAdam) {
    AUGUR_RETURN_IF_ERROR(state2_.Reserve(n));
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(state2_.get(), 0, sizeof(float) * n, stream_));
  }
  AUGUR_RETURN_IF_ERROR(SetDenseWeights(model::InitDenseWeights(options_.model, options_.seed)));
  // Interaction pair tables: tril order, and its inverse for the backward pass.
  std::vector<int2> pairs;
  std::vector<int> pair_of(static_cast<size_t>(v_) * v_, -1);
  const int self = options_.model.self_interaction ? 1 : 0;
  for (int i = 0; i < v_; ++i) {
    for (int j = 0; j < i + self; ++j) {
      pair_of[i * v_ + j] = static_cast<int>(pairs.size());
      pairs.push_back(make_int2(i, j));
    }
  }
  AUGUR_RETURN_IF_ERROR(pairs_dev_.Reserve(pairs.size()));
  AUGUR_RETURN_IF_ERROR(pair_of_.Reserve(pair_of.size()));
  // On stream_ like every other copy: a plain cudaMemcpy runs on the legacy default stream,
  // which does not order against our non-blocking stream.
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(pairs_dev_.get(), pairs.data(),
                                             sizeof(int2) * pairs.size(), cudaMemcpyHostToDevice,
                                             stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(pair_of_.get(), pair_of.data(),
                                             sizeof(int) * pair_of.size(),
                                             cudaMemcpyHostToDevice, stream_));
  const auto& mean = options_.model.mean_pooling;
  any_mean_ = std::any_of(mean.begin(), mean.end(), [](uint8_t m) { return m != 0; });
  if (any_mean_) {
    AUGUR_RETURN_IF_ERROR(mean_mask_.Reserve(mean.size()));
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(mean_mask_.get(), mean.data(), mean.size(),
                                               cudaMemcpyHostToDevice, stream_));
  }
  AUGUR_RETURN_IF_ERROR(lt_workspace_.Reserve(kLtWorkspaceBytes));
  if (options_.max_batch_size > 0) {
    // A guess at bag sizes; a larger batch of bags grows the buffers once.
    AUGUR_RETURN_IF_ERROR(Reserve(options_.max_batch_size,
                                  int64_t{options_.max_batch_size} * options_.model.num_sparse));
  }
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::StageSlots(absl::Span<const SlotIndex> slots) {
  AUGUR_RETURN_IF_ERROR(CheckSlots(slots, options_.capacity));
  AUGUR_RETURN_IF_ERROR(stage_slots_.Reserve(std::max<size_t>(slots.size(), 1)));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(stage_slots_.get(), slots.data(),
                                             sizeof(uint32_t) * slots.size(),
                                             cudaMemcpyHostToDevice, stream_));
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::WriteSlots(absl::Span<const SlotIndex> slots,
                                          absl::Span<const float> records) {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  AUGUR_RETURN_IF_ERROR(
      CheckSize("records", records.size(), static_cast<int64_t>(slots.size()) * row_floats_));
  if (slots.empty()) return absl::OkStatus();
  AUGUR_RETURN_IF_ERROR(StageSlots(slots));
  AUGUR_RETURN_IF_ERROR(stage_rows_.Reserve(records.size()));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(stage_rows_.get(), records.data(),
                                             sizeof(float) * records.size(),
                                             cudaMemcpyHostToDevice, stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(LaunchScatterRows(slot_array_.get(), row_floats_, stage_slots_.get(),
                                               slots.size(), stage_rows_.get(), stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::ReadSlots(absl::Span<const SlotIndex> slots,
                                         absl::Span<float> records) {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  AUGUR_RETURN_IF_ERROR(
      CheckSize("records", records.size(), static_cast<int64_t>(slots.size()) * row_floats_));
  if (slots.empty()) return absl::OkStatus();
  AUGUR_RETURN_IF_ERROR(StageSlots(slots));
  AUGUR_RETURN_IF_ERROR(stage_rows_.Reserve(records.size()));
  AUGUR_CUDA_RETURN_IF_ERROR(LaunchGatherRows(slot_array_.get(), row_floats_, stage_slots_.get(),
                                              slots.size(), stage_rows_.get(), stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(records.data(), stage_rows_.get(),
                                             sizeof(float) * records.size(),
                                             cudaMemcpyDeviceToHost, stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::UpdateSlots(absl::Span<const SlotIndex> slots,
                                           absl::Span<const float> grads,
                                           const OptimizerConfig& opt) {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  const int dim = options_.model.dim;
  AUGUR_RETURN_IF_ERROR(CheckOptimizerKind(opt, options_));
  AUGUR_RETURN_IF_ERROR(
      CheckSize("grads", grads.size(), static_cast<int64_t>(slots.size()) * dim));
  if (slots.empty()) return absl::OkStatus();
  AUGUR_RETURN_IF_ERROR(StageSlots(slots));
  AUGUR_RETURN_IF_ERROR(stage_rows_.Reserve(grads.size()));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(stage_rows_.get(), grads.data(),
                                             sizeof(float) * grads.size(),
                                             cudaMemcpyHostToDevice, stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(LaunchUpdateRows(opt, dim, row_floats_, slot_array_.get(),
                                              stage_slots_.get(), slots.size(),
                                              stage_rows_.get(), stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::ApplyDenseGradients() {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  const model::DenseStep s = model::MakeDenseStep(options_.dense_optimizer, ++dense_steps_);
  AUGUR_CUDA_RETURN_IF_ERROR(LaunchDenseStep(layout_.total_floats, s, weights_.get(),
                                             state1_.get(), state2_.get(), grads_.get(),
                                             stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return absl::OkStatus();
}

absl::Status CudaDenseCompute::ReadDenseGradients(absl::Span<float> out) {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  AUGUR_RETURN_IF_ERROR(CheckSize("dense gradients", out.size(), layout_.total_floats));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(out.data(), grads_.get(), sizeof(float) * out.size(),
                                             cudaMemcpyDeviceToHost, stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return absl::OkStatus();
}

absl::StatusOr<bool> CudaDenseCompute::DenseGradientsFinite() {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  AUGUR_RETURN_IF_ERROR(nonfinite_flag_.Reserve(1));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(nonfinite_flag_.get(), 0, sizeof(int32_t), stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(
      LaunchFlagNonFinite(layout_.total_floats, grads_.get(), nonfinite_flag_.get(), stream_));
  int32_t flag = 0;
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(&flag, nonfinite_flag_.get(), sizeof(int32_t),
                                             cudaMemcpyDeviceToHost, stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return flag == 0;
}

absl::Status CudaDenseCompute::WriteDenseGradients(absl::Span<const float> in) {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  AUGUR_RETURN_IF_ERROR(CheckSize("dense gradients", in.size(), layout_.total_floats));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(grads_.get(), in.data(), sizeof(float) * in.size(),
                                             cudaMemcpyHostToDevice, stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> CudaDenseCompute::GetDenseWeights() {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  std::vector<float> w(layout_.total_floats);
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(w.data(), weights_.get(), sizeof(float) * w.size(),
                                             cudaMemcpyDeviceToHost, stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return w;
}

absl::Status CudaDenseCompute::SetDenseWeights(absl::Span<const float> weights) {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  AUGUR_RETURN_IF_ERROR(CheckSize("weights", weights.size(), layout_.total_floats));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(weights_.get(), weights.data(),
                                             sizeof(float) * weights.size(),
                                             cudaMemcpyHostToDevice, stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return absl::OkStatus();
}

absl::StatusOr<model::DenseOptimizerState> CudaDenseCompute::GetDenseOptimizerState() {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  model::DenseOptimizerState s;
  s.steps = dense_steps_;
  const OptimizerKind k = options_.dense_optimizer.kind;
  const size_t n = static_cast<size_t>(layout_.total_floats);
  if (k != OptimizerKind::kSgd) {
    s.s1.resize(n);
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(s.s1.data(), state1_.get(), sizeof(float) * n,
                                               cudaMemcpyDeviceToHost, stream_));
  }
  if (k == OptimizerKind::kAdam) {
    s.s2.resize(n);
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(s.s2.data(), state2_.get(), sizeof(float) * n,
                                               cudaMemcpyDeviceToHost, stream_));
  }
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return s;
}

absl::Status CudaDenseCompute::SetDenseOptimizerState(const model::DenseOptimizerState& state) {
  AUGUR_RETURN_IF_ERROR(UseDevice());
  AUGUR_RETURN_IF_ERROR(model::CheckDenseOptimizerState(state, options_.dense_optimizer.kind,
                                                        layout_.total_floats));
  if (!state.s1.empty())
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(state1_.get(), state.s1.data(),
                                               sizeof(float) * state.s1.size(),
                                               cudaMemcpyHostToDevice, stream_));
  if (!state.s2.empty())
    AUGUR_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(state2_.get(), state.s2.data(),
                                               sizeof(float) * state.s2.size(),
                                               cudaMemcpyHostToDevice, stream_));
  AUGUR_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));  // before `state` may go
  dense_steps_ = state.steps;
  return absl::OkStatus();
}

}  // namespace augur::cuda

namespace augur::model {

absl::StatusOr<std::unique_ptr<DenseCompute>> CreateCudaDenseCompute(
    const DenseComputeOptions& options) {
  AUGUR_RETURN_IF_ERROR(ValidateDenseComputeOptions(options));
  int devices = 0;
  cudaError_t err = cudaGetDeviceCount(&devices);
  if (err != cudaSuccess || devices == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the cuda backend needs a CUDA device: ",
        err != cudaSuccess ? cudaGetErrorString(err) : "no device found"));
  }
  if (options.device < 0 || options.device >= devices) {
    return absl::InvalidArgumentError(
        absl::StrCat("CUDA device ", options.device, " does not exist (", devices, " found)"));
  }
  auto dc = std::make_unique<cuda::CudaDenseCompute>(options);
  AUGUR_RETURN_IF_ERROR(dc->Init());
  return std::unique_ptr<DenseCompute>(std::move(dc));
}

}  // namespace augur::model
