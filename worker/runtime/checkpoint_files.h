// The dense half of a job's checkpoint, in job::CheckpointDir (<checkpoint.dir>/<job>/iter-<N>/) beside the shards'
// shard-<i>/ stores: what worker 0 writes after the flush of iteration N and what it reads back
// when the job resumes there.
//
//   dense.f32            the flat dense weights (float32, DenseLayout order), as `augur export`
//                        and the trainer's output dir write them
//   dense_optimizer.bin  the dense optimizer's state: "AUGDOPT1", uint8 kind, int64 steps,
//                        uint64 |s1|, uint64 |s2|, then s1 and s2 as float32 (little-endian)
//   job.yaml             the spec the job ran with (for people; resume uses the oracle's)
//
// Each file is written under a temporary name and renamed into place, so a reader never sees
// a half-written file; the oracle lists a checkpoint only after all of it (shards included)
// was written, and resumes only from listed ones.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/optimizer.h"
#include "worker/model/dense_compute.h"

namespace augur::worker {

struct DenseCheckpoint {
  std::vector<float> weights;
  model::DenseOptimizerState optimizer;
};

// Writes dense.f32 and dense_optimizer.bin into `dir` (which must exist). INTERNAL naming the
// file when it cannot be written.
absl::Status WriteDenseCheckpoint(const std::string& dir, const DenseCheckpoint& ckpt,
                                  OptimizerKind kind);
// Reads them back and checks them against the model: `weights` floats and `kind`.
// NOT_FOUND naming the file when one is missing; DATA_LOSS when a file is truncated, has the
// wrong size or magic, or holds another optimizer's state.
absl::StatusOr<DenseCheckpoint> ReadDenseCheckpoint(const std::string& dir, int64_t weights,
                                                    OptimizerKind kind);

}  // namespace augur::worker
