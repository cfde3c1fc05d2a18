// The trainer's device path (DenseReducePath::kDevice) without a GPU: CPU stand-ins for CUDA and
// NCCL — a CPU backend that reports its dense gradients as device memory, and a Gloo collective
// that reports device buffers and stages host buffers through a copy as NcclCollective does.
// The dense gradients then take the device route (all-reduced in place, divergence checked by
// DenseGradientsFinite, no read-out and write-back) and the model must end bit-identical to the
// host path's. What this cannot check: NCCL itself, a real device buffer, the timeouts.
#include <catch2/catch.hpp>
#include <atomic>
#include <cmath>
#include <fstream>
#include <iterator>

#include "common/status.h"
#include "tests/support/test_paths.h"
#include "tests/worker/local_cluster.h"
#include "worker/runtime/trainer.h"

using namespace augur;

namespace {

constexpr uint64_t kRows = 300;

// What the stand-ins saw, over every worker of a job.
struct Seen {
  std::atomic<int64_t> device_floats{0};    // floats all-reduced through AllReduceSum
  std::atomic<int64_t> dense_writebacks{0}; // WriteDenseGradients calls (the host path's)
  int poison_step = -1;  // >= 0: every worker's ForwardBackward of that step leaves a NaN in
                         // the dense gradients (the loss stays finite)
};

class DeviceLikeCompute final : public model::DenseCompute {
 public:
  DeviceLikeCompute(std::unique_ptr<model::DenseCompute> cpu, Seen* seen)
      : cpu_(std::move(cpu)), seen_(seen) {}
  std::string_view backend() const override { return cpu_->backend(); }
  const model::DlrmConfig& config() const override { return cpu_->config(); }
  int64_t capacity() const override { return cpu_->capacity(); }
  int row_floats() const override { return cpu_->row_floats(); }
  absl::Status WriteSlots(absl::Span<const model::SlotIndex> s,
                          absl::Span<const float> r) override {
    return cpu_->WriteSlots(s, r);
  }
  absl::Status ReadSlots(absl::Span<const model::SlotIndex> s, absl::Span<float> r) override {
    return cpu_->ReadSlots(s, r);
  }
  absl::Status UpdateSlots(absl::Span<const model::SlotIndex> s, absl::Span<const float> g,
                           const OptimizerConfig& opt) override {
    return cpu_->UpdateSlots(s, g, opt);
  }
  absl::StatusOr<double> ForwardBackward(const model::Minibatch& mb,
                                         model::EmbeddingGradients* emb) override {
    auto loss = cpu_->ForwardBackward(mb, emb);
    if (loss.ok() && steps_++ == seen_->poison_step) cpu_->dense_gradients()[0] = std::nanf("");
    return loss;
  }
  absl::Status ApplyEmbeddingGradients(const OptimizerConfig& opt) override {
    return cpu_->ApplyEmbeddingGradients(opt);
  }
  absl::Status KeptEmbeddingSlots(std::vector<model::SlotIndex>* s) override {
    return cpu_->KeptEmbeddingSlots(s);
  }
  absl::Span<float> dense_gradients() override { return cpu_->dense_gradients(); }
  bool dense_gradients_on_device() const override { return true; }
  absl::Status ReadDenseGradients(absl::Span<float> out) override {
    return cpu_->ReadDenseGradients(out);
  }
  absl::Status WriteDenseGradients(absl::Span<const float> in) override {
    ++seen_->dense_writebacks;
    return cpu_->WriteDenseGradients(in);
  }
  absl::Status ApplyDenseGradients() override { return cpu_->ApplyDenseGradients(); }
  // DenseGradientsFinite: the base class's device default (copy out, scan).
  absl::StatusOr<std::vector<float>> GetDenseWeights() override { return cpu_->GetDenseWeights(); }
  absl::Status SetDenseWeights(absl::Span<const float> w) override {
    return cpu_->SetDenseWeights(w);
  }
  absl::StatusOr<model::DenseOptimizerState> GetDenseOptimizerState() override {
    return cpu_->GetDenseOptimizerState();
  }
  absl::Status SetDenseOptimizerState(const model::DenseOptimizerState& s) override {
    return cpu_->SetDenseOptimizerState(s);
  }
  absl::Status Predict(const model::Minibatch& mb, absl::Span<float> p) override {
    return cpu_->Predict(mb, p);
  }

 private:
  std::unique_ptr<model::DenseCompute> cpu_;
  Seen* seen_;
  int steps_ = 0;
};

class DeviceLikeCollective final : public model::Collective {
 public:
  DeviceLikeCollective(std::unique_ptr<model::Collective> host, Seen* seen)
      : host_(std::move(host)), seen_(seen) {}
  model::BufferKind buffer_kind() const override { return model::BufferKind::kDevice; }
  absl::Status AllReduceSum(float* data, int64_t n) override {
    seen_->device_floats += n;
    return host_->AllReduceSum(data, n);
  }
  // As NcclCollective: host -> staging, all-reduce there, staging -> host.
  absl::Status AllReduceHostSum(float* data, int64_t n) override {
    staging_.assign(data, data + n);
    AUGUR_RETURN_IF_ERROR(host_->AllReduceSum(staging_.data(), n));
    std::copy(staging_.begin(), staging_.end(), data);
    return absl::OkStatus();
  }
  int rank() const override { return host_->rank(); }
  int size() const override { return host_->size(); }

 private:
  std::unique_ptr<model::Collective> host_;
  Seen* seen_;
  std::vector<float> staging_;
};

job::JobSpec Spec(const std::string& dataset, int workers, const std::string& policy) {
  auto s = job::ParseJobSpec(R"(
name: device-path
seed: 5
model: {preset: custom, dim: 8, bottom: [16, 8], top: [16, 1]}
training:
  batch_size: 32
  iterations: 12
  dense_optimizer: {kind: adam, lr: 0.01}
  embedding_optimizer: {kind: adagrad, lr: 0.05}
data: {train: )" + dataset + "}\n");
  REQUIRE(s.ok());
  s->cluster.workers = workers;
  s->cache.policy = policy;
  s->cache.capacity = 3000;
  s->cache.lookahead = 8;
  s->cache.prefetch_distance = 2;
  return *s;
}

struct Model {
  std::vector<char> dense;
  std::vector<shard::RowBlock> rows;
};

// Makes the cluster's workers run on the device-path stand-ins.
void UseStandIns(testing::LocalCluster* cluster, Seen* seen) {
  cluster->SetWorkerFactories(
      [seen](const model::DenseComputeOptions& o)
          -> absl::StatusOr<std::unique_ptr<model::DenseCompute>> {
        AUGUR_ASSIGN_OR_RETURN(auto cpu, model::CreateDenseCompute(o));
        return std::unique_ptr<model::DenseCompute>(
            new DeviceLikeCompute(std::move(cpu), seen));
      },
      [seen](const model::WorkerCollectiveOptions& o)
          -> absl::StatusOr<std::unique_ptr<model::Collective>> {
        AUGUR_ASSIGN_OR_RETURN(auto real, model::NewWorkerCollective(o));
        if (o.size == 1) return real;  // one worker: the local collective, as on a GPU
        return std::unique_ptr<model::Collective>(
            new DeviceLikeCollective(std::move(real), seen));
      });
}

// Trains the job; with `seen`, on the device-path stand-ins.
Model Train(const std::string& dataset, int workers, const std::string& policy, Seen* seen) {
  auto cluster = testing::LocalCluster::Start(1);
  REQUIRE(cluster.ok());
  if (seen != nullptr) UseStandIns(cluster->get(), seen);
  testing::ScratchDir out("device-path-out");
  std::vector<absl::Status> results;
  auto status = (*cluster)->RunJob(Spec(dataset, workers, policy), out.path(), &results);
  REQUIRE(status.ok());
  for (auto& r : results) {
    INFO(r.ToString());
    CHECK(r.ok());
  }
  REQUIRE(oracle::JobStateName(status->state) == std::string("SUCCEEDED"));
  Model m;
  std::ifstream in(out.path() + "/" + status->job_id + "/dense.f32", std::ios::binary);
  m.dense.assign(std::istreambuf_iterator<char>(in), {});
  REQUIRE(!m.dense.empty());
  auto rows = (*cluster)->ReadAllRows(26, kRows);
  REQUIRE(rows.ok());
  m.rows = std::move(*rows);
  return m;
}

void CheckDevicePathMatchesHostPath(int workers, const std::string& policy) {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("device-path");
  const std::string dataset = dir.path() + "/train";
  testing::PrepareCriteoSample(shared, "wideresdnn_train.tsv", kRows, dataset);
  Model host = Train(dataset, workers, policy, nullptr);
  Seen seen;
  Model device = Train(dataset, workers, policy, &seen);
  testing::CheckSameModel(host.dense, host.rows, device.dense, device.rows);
  CHECK(seen.dense_writebacks == 0);  // the dense gradients never went through the host
  if (workers > 1) {
    CHECK(seen.device_floats > 0);  // and were all-reduced in place
  } else {
    CHECK(seen.device_floats == 0);
  }
}

}  // namespace

TEST_CASE("Dense gradients take the device path only where they live on a device") {
  using worker::ChooseDenseReducePath;
  using worker::DenseReducePath;
  const auto host = model::BufferKind::kHost, device = model::BufferKind::kDevice;
  // CPU backend: the host path whatever the collective (one buffer, as always).
  CHECK(ChooseDenseReducePath(host, false, 1) == DenseReducePath::kHost);
  CHECK(ChooseDenseReducePath(host, false, 2) == DenseReducePath::kHost);
  CHECK(ChooseDenseReducePath(device, false, 2) == DenseReducePath::kHost);
  // CUDA backend: on the device with NCCL, or alone; through the host behind Gloo.
  CHECK(ChooseDenseReducePath(device, true, 2) == DenseReducePath::kDevice);
  CHECK(ChooseDenseReducePath(host, true, 1) == DenseReducePath::kDevice);
  CHECK(ChooseDenseReducePath(host, true, 2) == DenseReducePath::kHost);
}

TEST_CASE("Two workers on the device path end bit-identical to the host path") {
  CheckDevicePathMatchesHostPath(2, "oracle");
}

TEST_CASE("Two workers under the none policy on the device path end bit-identical") {
  CheckDevicePathMatchesHostPath(2, "none");
}

TEST_CASE("One device worker keeps its dense gradients on the device and ends bit-identical") {
  CheckDevicePathMatchesHostPath(1, "oracle");
}

TEST_CASE("On the device path a NaN in the dense gradients alone fails the job before any update") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("device-path");
  const std::string dataset = dir.path() + "/train";
  testing::PrepareCriteoSample(shared, "wideresdnn_train.tsv", kRows, dataset);
  for (int workers : {1, 2}) {
    INFO(workers << " workers");
    auto cluster = testing::LocalCluster::Start(1);
    REQUIRE(cluster.ok());
    Seen seen;
    seen.poison_step = 3;
    UseStandIns(cluster->get(), &seen);
    auto status = (*cluster)->RunJob(Spec(dataset, workers, "oracle"), "");
    REQUIRE(status.ok());
    INFO(status->reason);
    CHECK(oracle::JobStateName(status->state) == std::string("FAILED"));
    CHECK(status->reason.find("not finite") != std::string::npos);
    CHECK(status->reason.find("iteration 3:") != std::string::npos);  // the poisoned step
    auto rows = (*cluster)->ReadAllRows(26, kRows);
    REQUIRE(rows.ok());
    for (const auto& b : *rows)
      for (float v : b.values) REQUIRE(std::isfinite(v));
  }
}
