// A training job as users write it (YAML) and as every process receives it.
//
// The oracle reads a job file (or a CLI submission), validates it before anything starts, and
// hands the same spec to each worker as canonical YAML (ToYaml), so there is one parser and one
// set of defaults. Errors name the key path ("training.batch_size: expected an integer, got
// 'lots'"); unknown keys are rejected with the nearest valid key ("cache.capasity: unknown key
// (did you mean 'capacity'?)"). All errors are INVALID_ARGUMENT. An annotated example lives in
// deploy/jobs/criteo-kaggle.yaml.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/optimizer.h"

namespace augur::job {

// The model section (worker/model/dlrm_config.h describes the model; worker/model/job_model.h
// turns this into its config).
struct ModelSpec {
  std::string preset = "kaggle";  // kaggle | mlperf | dlrmv2 | custom (then dim/bottom/top are
                                  // required, and cross_layers/cross_rank for dcn)
  int dim = 0;                    // overrides the preset when > 0
  std::vector<int> bottom, top;   // override the preset when non-empty
  bool self_interaction = false;  // dot only
  std::string interaction;        // dot | dcn; empty: the preset's (dcn for dlrmv2, else dot)
  int cross_layers = 0;           // dcn only: overrides the preset when > 0
  int cross_rank = 0;             // dcn only: overrides the preset when > 0
};

// The interaction a model section asks for: `interaction`, or the preset's when empty.
std::string EffectiveInteraction(const ModelSpec& m);

struct DataSpec {
  std::string train;  // dataset directory (augur data prep / gen), or a Criteo TSV to convert
  std::string eval;   // optional held-out dataset directory or TSV
  uint64_t max_rows = 0;  // TSV inputs: categorical hash mod max_rows (0 = full 32-bit hash)
  // Raw text inputs: "criteo" (default when empty), "avazu" or a schema file
  // (common/data/schema.h) the oracle converts train and eval with.
  std::string schema;
  // Features of the dataset: -1 = take them from data.train (the oracle fills them in when the
  // job starts, so every worker and the export see the model's input widths); a value given
  // must match the dataset.
  int num_dense = -1;
  int num_sparse = -1;
  // Sparse features whose bags pool by their mean (indices; filled in from the dataset with the
  // counts above). Empty: every bag sums.
  std::vector<int> mean_pooled;
};

struct TrainingSpec {
  int64_t batch_size = 1024;  // samples per worker per iteration
  int64_t iterations = 0;     // 0: derived from epochs
  double epochs = 0;          // used when iterations == 0; 0 and 0 means one epoch
  OptimizerConfig dense_optimizer{OptimizerKind::kSgd, 0.1f};
  OptimizerConfig embedding_optimizer{OptimizerKind::kSgd, 0.1f};
  int64_t eval_every = 0;  // iterations between evaluations; 0 = only at the end
  int64_t eval_samples = 0;  // cap on evaluated samples; 0 = the whole eval set
  std::string backend = "cpu";  // cpu | cuda
  bool tf32 = false;
  int threads = 1;  // compute threads per worker
};

struct CacheSpec {
  std::string policy = "oracle";  // oracle | prefetch1 | none
  int64_t capacity = 1 << 20;     // rows per worker cache
  int lookahead = 200;
  int prefetch_distance = 8;
  int plans_in_flight = 64;  // iterations of plan a worker may hold ahead of its progress
};

struct ClusterSpec {
  int workers = 1;
  std::vector<std::string> shards;  // host:port, index = shard index
};

struct CheckpointSpec {
  int64_t every = 0;  // iterations; 0 = none
  std::string dir;
  // A job that fails because a process went away (a worker, a shard, the oracle) resumes from
  // its last checkpoint by itself, at most this many times (0 = never; needs every > 0).
  int max_recoveries = 3;
};

struct JobSpec {
  std::string name = "job";
  uint64_t seed = 1;
  ModelSpec model;
  DataSpec data;
  TrainingSpec training;
  CacheSpec cache;
  ClusterSpec cluster;
  CheckpointSpec checkpoint;
};

absl::StatusOr<JobSpec> ParseJobSpec(const std::string& yaml_text);
// ParseJobSpec of a file; NOT_FOUND when it cannot be read.
absl::StatusOr<JobSpec> LoadJobSpec(const std::string& path);
// Canonical YAML that ParseJobSpec reads back to an equal spec.
std::string ToYaml(const JobSpec& spec);

// <checkpoint.dir>/<job_id>/iter-<iteration>: where worker 0 writes the checkpoint after that
// iteration (the shards under shard-<i>/) and where a resume reads it. One definition for the
// worker that writes and the oracle that restores.
std::string CheckpointDir(const JobSpec& spec, const std::string& job_id, int64_t iteration);

// The edit distance used to suggest the nearest key.
int EditDistance(const std::string& a, const std::string& b);

}  // namespace augur::job
