// Worker 0's evaluation model is sized for the evaluation batch, never the training batch.
#include <catch2/catch.hpp>

#include "worker/model/dlrm_config.h"
#include "worker/runtime/trainer.h"

using namespace augur;

TEST_CASE("The evaluation model is sized for the evaluation batch, not the training batch") {
  job::JobSpec spec;
  spec.training.batch_size = 65536;
  spec.training.backend = "cuda";
  auto config = model::DlrmPreset("mlperf");
  REQUIRE(config.ok());
  const int64_t eval_batch = worker::EvalBatchOf(spec);
  CHECK(eval_batch == worker::kMaxEvalBatch);
  const auto co = worker::EvalComputeOptionsOf(spec, *config, eval_batch, /*cuda_device=*/3);
  CHECK(co.max_batch_size == eval_batch);
  CHECK(co.capacity == eval_batch * config->num_sparse);
  CHECK(co.device == 3);
  CHECK(co.backend == "cuda");
  // The training model keeps the training batch.
  CHECK(worker::ComputeOptionsOf(spec, *config, 1000).max_batch_size == 65536);
}

TEST_CASE("A multi-hot evaluation model holds every id one evaluation slice can read") {
  job::JobSpec spec;
  spec.training.batch_size = 512;
  auto config = model::DlrmPreset("kaggle");
  REQUIRE(config.ok());
  // MLPerf DLRMv2 bags: 214 ids per sample instead of 26.
  const auto co = worker::EvalComputeOptionsOf(spec, *config, 512, 0, /*ids_per_sample=*/214);
  CHECK(co.capacity == 512 * 214);
  CHECK(worker::EvalComputeOptionsOf(spec, *config, 512).capacity == 512 * 26);
}

TEST_CASE("A training batch below the cap is also the evaluation batch") {
  job::JobSpec spec;
  spec.training.batch_size = 100;
  CHECK(worker::EvalBatchOf(spec) == 100);
}
