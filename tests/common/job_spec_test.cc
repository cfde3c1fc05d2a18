#include "common/job/job_spec.h"

#include <catch2/catch.hpp>

using namespace augur;
using namespace augur::job;

namespace {
std::string Message(const std::string& yaml) {
  auto s = ParseJobSpec(yaml);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(s.status().message());
}
}  // namespace

TEST_CASE("A complete job spec parses with every field") {
  auto s = ParseJobSpec(R"(
name: demo
seed: 7
model: {preset: custom, dim: 8, bottom: [32, 8], top: [16, 1], self_interaction: true}
data: {train: /d/train, eval: /d/eval}
training:
  batch_size: 256
  iterations: 100
  dense_optimizer: {kind: adam, lr: 0.001}
  embedding_optimizer: {kind: adagrad, lr: 0.05, initial_accumulator: 0.1}
  eval_every: 50
cache: {policy: prefetch1, capacity: 5000, lookahead: 20, prefetch_distance: 2}
cluster: {workers: 2, shards: ["127.0.0.1:7000", "127.0.0.1:7001"]}
)");
  REQUIRE(s.ok());
  CHECK(s->seed == 7);
  CHECK(s->model.bottom == std::vector<int>{32, 8});
  CHECK(s->training.dense_optimizer.kind == OptimizerKind::kAdam);
  CHECK(s->training.embedding_optimizer.initial_accumulator == 0.1f);
  CHECK(s->cache.policy == "prefetch1");
  CHECK(s->cluster.shards.size() == 2);
}

TEST_CASE("ToYaml round-trips a spec") {
  auto s = ParseJobSpec("data: {train: /x}\ntraining: {embedding_optimizer: {kind: adam, lr: 0.003}}\n");
  REQUIRE(s.ok());
  auto again = ParseJobSpec(ToYaml(*s));
  REQUIRE(again.ok());
  CHECK(ToYaml(*again) == ToYaml(*s));
  CHECK(again->training.embedding_optimizer.lr == 0.003f);
}

TEST_CASE("A misspelt key is rejected with its path and the nearest valid key") {
  std::string m = Message("data: {train: /x}\ncache: {capasity: 10}\n");
  CHECK(m == "cache.capasity: unknown key (did you mean 'capacity'?)");
}

TEST_CASE("A wrong type is rejected with its path") {
  CHECK(Message("data: {train: /x}\ntraining: {batch_size: lots}\n") ==
        "training.batch_size: expected an integer, got 'lots'");
  CHECK(Message("data: {train: /x}\ncluster: {shards: [a, [b]]}\n") ==
        "cluster.shards[1]: expected host:port strings, got a list");
}

TEST_CASE("Bad values are rejected before anything starts") {
  CHECK(Message("training: {batch_size: 1}\n") == "data.train: required (a dataset directory)");
  CHECK(Message("data: {train: /x}\ncache: {policy: lru}\n").find("cache.policy") == 0);
  CHECK(Message("data: {train: /x}\ntraining: {dense_optimizer: {kind: rmsprop}}\n")
            .find("training.dense_optimizer.kind") == 0);
  CHECK(Message("data: {train: /x}\ncache: {lookahead: 4, prefetch_distance: 9}\n")
            .find("cache.prefetch_distance") == 0);
  CHECK(Message("[1, 2]").find("expected a mapping") != std::string::npos);
  CHECK(Message("a: [").find("not valid YAML") != std::string::npos);
}

TEST_CASE("The dlrmv2 preset and the dcn keys parse and round-trip") {
  auto s = ParseJobSpec("data: {train: /x}\nmodel: {preset: dlrmv2}\n");
  REQUIRE(s.ok());
  CHECK(s->model.interaction.empty());
  CHECK(EffectiveInteraction(s->model) == "dcn");
  auto c = ParseJobSpec(
      "data: {train: /x}\n"
      "model: {preset: custom, dim: 8, bottom: [16, 8], top: [8, 1], interaction: dcn, "
      "cross_layers: 2, cross_rank: 4}\n");
  REQUIRE(c.ok());
  CHECK(c->model.interaction == "dcn");
  CHECK(c->model.cross_layers == 2);
  CHECK(c->model.cross_rank == 4);
  auto again = ParseJobSpec(ToYaml(*c));
  REQUIRE(again.ok());
  CHECK(again->model.interaction == "dcn");
  CHECK(again->model.cross_layers == 2);
  CHECK(again->model.cross_rank == 4);
  CHECK(ToYaml(*again) == ToYaml(*c));
  auto m = ParseJobSpec("data: {train: /x}\nmodel: {preset: mlperf, interaction: dcn, "
                        "cross_layers: 1, cross_rank: 64}\n");
  REQUIRE(m.ok());
  CHECK(ParseJobSpec("data: {train: /x}\nmodel: {preset: dlrmv2, interaction: dot}\n").ok());
}

TEST_CASE("A spec without the dcn keys keeps its canonical YAML") {
  auto s = ParseJobSpec("data: {train: /x}\nmodel: {preset: mlperf}\n");
  REQUIRE(s.ok());
  std::string y = ToYaml(*s);
  CHECK(y.find(" interaction:") == std::string::npos);  // not self_interaction
  CHECK(y.find("cross_") == std::string::npos);
}

TEST_CASE("Bad interaction settings are rejected with their key path") {
  CHECK(Message("data: {train: /x}\nmodel: {preset: dlrm3}\n") ==
        "model.preset: expected kaggle, mlperf, dlrmv2 or custom, got 'dlrm3'");
  CHECK(Message("data: {train: /x}\nmodel: {interaction: cross}\n") ==
        "model.interaction: expected dot or dcn, got 'cross'");
  CHECK(Message("data: {train: /x}\nmodel: {cross_layers: 2}\n") ==
        "model.cross_layers: only for interaction: dcn");
  CHECK(Message("data: {train: /x}\nmodel: {preset: dlrmv2, interaction: dot, cross_rank: 8}\n") ==
        "model.cross_rank: only for interaction: dcn");
  CHECK(Message("data: {train: /x}\nmodel: {preset: mlperf, interaction: dcn}\n") ==
        "model.cross_layers: required with interaction: dcn (preset mlperf)");
  CHECK(Message("data: {train: /x}\n"
                "model: {preset: mlperf, interaction: dcn, cross_layers: 3}\n") ==
        "model.cross_rank: required with interaction: dcn (preset mlperf)");
  CHECK(Message("data: {train: /x}\nmodel: {preset: dlrmv2, self_interaction: true}\n") ==
        "model.self_interaction: only for interaction: dot");
  CHECK(Message("data: {train: /x}\nmodel: {preset: dlrmv2, cross_layers: -1}\n")
            .find("model.cross_layers: must be in 1..64") == 0);
  CHECK(Message("data: {train: /x}\nmodel: {preset: dlrmv2, cross_rank: 100000}\n")
            .find("model.cross_rank: must be in 1..65536") == 0);
  CHECK(Message("data: {train: /x}\nmodel: {preset: dlrmv2, cross_layers: two}\n") ==
        "model.cross_layers: expected an integer, got 'two'");
  CHECK(Message("data: {train: /x}\nmodel: {crosslayers: 2}\n") ==
        "model.crosslayers: unknown key (did you mean 'cross_layers'?)");
}

TEST_CASE("Checkpoint settings and the data section's feature fields are checked") {
  CHECK(Message("data: {train: /x}\ncheckpoint: {every: 5}\n") ==
        "checkpoint.dir: required when checkpoint.every > 0");
  CHECK(Message("data: {train: /x}\ncheckpoint: {every: -1}\n").find("checkpoint.every") == 0);
  CHECK(Message("data: {train: /x, num_sparse: 0}\n").find("data.num_sparse") == 0);
  CHECK(Message("data: {train: /x, num_dense: -2}\n").find("data.num_dense") == 0);
  CHECK(Message("data: {train: /x, num_sparse: 3, mean_pooled: [3]}\n")
            .find("data.mean_pooled: feature index 3") == 0);
  auto s = ParseJobSpec("data: {train: /x, schema: avazu, num_dense: 0, num_sparse: 23, "
                        "mean_pooled: [4, 7]}\n");
  REQUIRE(s.ok());
  auto back = ParseJobSpec(ToYaml(*s));
  REQUIRE(back.ok());
  CHECK(back->data.schema == "avazu");
  CHECK(back->data.num_dense == 0);
  CHECK(back->data.num_sparse == 23);
  CHECK(back->data.mean_pooled == std::vector<int>{4, 7});
}
