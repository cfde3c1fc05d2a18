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

TEST_CASE("A training batch below the cap is also the evaluation batch") {
  job::JobSpec spec;
  spec.training.batch_size = 100;
  CHECK(worker::EvalBatchOf(spec) == 100);
}
