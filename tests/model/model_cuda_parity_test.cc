// model_cuda_parity_test: the CUDA backend against the CPU backend on the same inputs and
// weights, for the GPU machine. Built when CUDA is on, NOT registered with ctest (CI has no
// GPU). Exit code 0 = all checks passed; 77 = no CUDA device (skipped); 1 = a mismatch.
//
// Tolerance: |cuda - cpu| <= 1e-5 * max(|cpu|, 1e-3 * max|cpu| over the buffer). GEMMs sum in
// a different order on the two sides, so elements that cancel to near zero are compared on the
// buffer's scale rather than their own. Pooling, interaction and embedding-gradient sums follow
// the CPU order, so the per-row order and slots must match exactly.
//
// Each step checks one step's error only: both sides then apply the CPU's gradients (dense and
// embedding), so the optimizer kernels are compared on identical inputs (Adam's first steps
// would otherwise turn a sign flip of a near-zero gradient into a full lr-sized difference),
// and nothing drifts apart across steps. The batch size changes between steps (smaller, then
// larger than any before) to exercise re-planning and buffer growth.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/model/model_test_util.h"
#include "worker/model/dense_compute.h"

namespace augur::model {
namespace {

int failures = 0;

void Compare(const std::string& what, const std::vector<float>& cpu, const std::vector<float>& gpu,
             double rtol = 1e-5) {
  if (cpu.size() != gpu.size()) {
    printf("FAIL %s: size %zu vs %zu\n", what.c_str(), cpu.size(), gpu.size());
    ++failures;
    return;
  }
  double scale = 0;
  for (float x : cpu) scale = std::max(scale, std::abs(static_cast<double>(x)));
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    const double ref = std::max(std::abs(static_cast<double>(cpu[i])), 1e-3 * scale);
    const double rel = ref > 0 ? std::abs(static_cast<double>(gpu[i]) - cpu[i]) / ref : 0;
    if (rel > worst) {
      worst = rel;
      worst_i = i;
    }
  }
  const bool ok = worst <= rtol;
  printf("%s %s: %zu values, worst relative error %.3g at %zu\n", ok ? "ok  " : "FAIL",
         what.c_str(), cpu.size(), worst, worst_i);
  if (!ok) ++failures;
}

std::unique_ptr<DenseCompute> Make(DenseComputeOptions o, const std::string& backend) {
  o.backend = backend;
  auto dc = CreateDenseCompute(o);
  if (!dc.ok()) {
    printf("cannot create %s: %s\n", backend.c_str(), dc.status().ToString().c_str());
    return nullptr;
  }
  return std::move(dc).value();
}

// Runs `steps` training steps on both backends and compares everything observable.
bool RunCase(const std::string& name, DenseComputeOptions o, int batch, int rows, int steps) {
  printf("== %s\n", name.c_str());
  auto cpu = Make(o, "cpu");
  auto gpu = Make(o, "cuda");
  if (!cpu || !gpu) return false;
  const int dim = o.model.dim, rf = cpu->row_floats();
  std::vector<SlotIndex> slot_of_row(rows);
  for (int r = 0; r < rows; ++r) slot_of_row[r] = static_cast<SlotIndex>((r * 7919) % o.capacity);
  std::vector<float> vals = testing::RandomRows(rows, dim, 3), rec(static_cast<size_t>(rows) * rf);
  for (int r = 0; r < rows; ++r) {
    std::copy(&vals[r * dim], &vals[r * dim] + dim, &rec[r * rf]);
    InitRowState(o.embedding_optimizer, dim, &rec[r * rf + dim]);
  }
  if (!cpu->WriteSlots(slot_of_row, rec).ok() || !gpu->WriteSlots(slot_of_row, rec).ok()) {
    return false;
  }
  for (int step = 0; step < steps; ++step) {
    const int step_batch = step % 3 == 0 ? batch : step % 3 == 1 ? batch / 2 + 1 : batch + 37;
    testing::OwnedBatch b = testing::RandomBatch(o.model, step_batch, rows, 50 + step, 4);
    b.PlaceRows(slot_of_row);
    EmbeddingGradients ec, eg;
    auto lc = cpu->ForwardBackward(b.view(), &ec);
    auto lg = gpu->ForwardBackward(b.view(), &eg);
    if (!lc.ok() || !lg.ok()) {
      printf("FAIL ForwardBackward: %s / %s\n", lc.status().ToString().c_str(),
             lg.status().ToString().c_str());
      ++failures;
      return false;
    }
    const std::string at = " (step " + std::to_string(step) + ")";
    Compare("loss" + at, {static_cast<float>(*lc)}, {static_cast<float>(*lg)});
    auto gc = cpu->dense_gradients();
    auto gg = gpu->dense_gradients();  // device memory
    std::vector<float> dense_gpu(gg.size());
    if (!gpu->dense_gradients_on_device() ||
        !gpu->ReadDenseGradients(absl::MakeSpan(dense_gpu)).ok()) {
      printf("FAIL reading the device dense gradients\n");
      ++failures;
      return false;
    }
    Compare("dense gradients" + at, std::vector<float>(gc.begin(), gc.end()), dense_gpu);
    if (ec.slots != eg.slots) {
      printf("FAIL embedding slot order differs%s\n", at.c_str());
      ++failures;
    }
    Compare("embedding row gradients" + at, ec.grads, eg.grads);
    // The optimizers, on the CPU's gradients on both sides: the same math compiled with
    // --fmad=false, so only a real kernel bug can make these differ.
    if (!gpu->WriteDenseGradients(absl::MakeConstSpan(gc.data(), gc.size())).ok()) {
      printf("FAIL writing the device dense gradients\n");
      ++failures;
      return false;
    }
    if (!cpu->ApplyDenseGradients().ok() || !gpu->ApplyDenseGradients().ok()) return false;
    if (!cpu->UpdateSlots(ec.slots, ec.grads, o.embedding_optimizer).ok() ||
        !gpu->UpdateSlots(ec.slots, ec.grads, o.embedding_optimizer).ok()) {
      return false;
    }
    auto wc2 = cpu->GetDenseWeights();
    auto wg2 = gpu->GetDenseWeights();
    if (!wc2.ok() || !wg2.ok()) return false;
    Compare("dense weights after the optimizer step" + at, *wc2, *wg2, 1e-6);
    std::vector<float> rc(rec.size()), rg(rec.size());
    if (!cpu->ReadSlots(slot_of_row, absl::MakeSpan(rc)).ok() ||
        !gpu->ReadSlots(slot_of_row, absl::MakeSpan(rg)).ok()) {
      return false;
    }
    Compare("slot records after the row updates" + at, rc, rg, 1e-6);
    // Keep both sides identical so later steps test one step's error, not drift.
    if (!gpu->SetDenseWeights(*wc2).ok() || !gpu->WriteSlots(slot_of_row, rc).ok()) return false;
  }
  // The device-resident path (gradients kept on the GPU) against the host round trip.
  {
    testing::OwnedBatch b = testing::RandomBatch(o.model, batch, rows, 777, 4);
    b.PlaceRows(slot_of_row);
    const std::string err =
        testing::CheckKeptEmbeddingGradients(*gpu, b.view(), slot_of_row, o.embedding_optimizer);
    printf("%s kept embedding gradients on the device%s%s\n", err.empty() ? "ok  " : "FAIL",
           err.empty() ? "" : ": ", err.c_str());
    if (!err.empty()) ++failures;
  }
  testing::OwnedBatch b = testing::RandomBatch(o.model, batch, rows, 999, 4);
  b.PlaceRows(slot_of_row);
  std::vector<float> pc(batch), pg(batch);
  if (!cpu->Predict(b.view(), absl::MakeSpan(pc)).ok() ||
      !gpu->Predict(b.view(), absl::MakeSpan(pg)).ok()) {
    return false;
  }
  Compare("predictions", pc, pg);
  return true;
}

}  // namespace
}  // namespace augur::model

int main() {
  using namespace augur;
  using namespace augur::model;
  DenseComputeOptions probe;
  probe.backend = "cuda";
  probe.model = testing::TinyConfig();
  probe.capacity = 16;
  auto p = CreateDenseCompute(probe);
  if (!p.ok()) {
    printf("SKIP: %s\n", p.status().ToString().c_str());
    return 77;
  }
  p->reset();
  bool ran = true;
  DenseComputeOptions o;
  o.capacity = 50000;
  o.embedding_optimizer.kind = OptimizerKind::kAdagrad;
  o.dense_optimizer.kind = OptimizerKind::kAdam;
  o.dense_optimizer.lr = 1e-3f;
  o.seed = 5;
  o.model = testing::TinyConfig(/*self_interaction=*/true);
  ran &= RunCase("tiny, self-interaction, adam", o, 33, 40, 3);
  o.model = *DlrmPreset("kaggle");
  o.embedding_optimizer.kind = OptimizerKind::kSgd;
  o.dense_optimizer.kind = OptimizerKind::kAdagrad;
  ran &= RunCase("kaggle preset, sgd rows, adagrad dense", o, 512, 3000, 3);
  o.model = *DlrmPreset("mlperf");
  o.embedding_optimizer.kind = OptimizerKind::kAdam;
  o.dense_optimizer.kind = OptimizerKind::kSgd;
  ran &= RunCase("mlperf preset, adam rows, sgd dense", o, 256, 5000, 3);
  printf("%s (%d failed checks)\n", ran && failures == 0 ? "PASS" : "FAIL", failures);
  return ran && failures == 0 ? 0 : 1;
}
