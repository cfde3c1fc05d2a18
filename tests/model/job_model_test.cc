// ModelConfigOf: the job spec's model section as the compute library's DlrmConfig.
#include "worker/model/job_model.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/support/test_paths.h"

namespace augur::worker {
namespace {

model::DlrmConfig ConfigOf(const std::string& model_yaml) {
  auto spec = job::ParseJobSpec("data: {train: /x}\nmodel: " + model_yaml + "\n");
  INFO(model_yaml);
  REQUIRE(spec.ok());
  auto c = ModelConfigOf(*spec);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return *c;
}

TEST_CASE("The dlrmv2 preset maps to the DCNv2 model") {
  model::DlrmConfig c = ConfigOf("{preset: dlrmv2}");
  CHECK(c.interaction == model::Interaction::kDcn);
  CHECK(c.cross_layers == 3);
  CHECK(c.cross_rank == 512);
  CHECK(c.dim == 128);
  CHECK(c.top == std::vector<int>{1024, 1024, 512, 256, 1});
}

TEST_CASE("The dcn keys override the preset and make any preset dcn") {
  model::DlrmConfig c = ConfigOf("{preset: dlrmv2, cross_rank: 256}");
  CHECK(c.cross_layers == 3);
  CHECK(c.cross_rank == 256);
  c = ConfigOf("{preset: kaggle, interaction: dcn, cross_layers: 2, cross_rank: 32}");
  CHECK(c.interaction == model::Interaction::kDcn);
  CHECK(c.dim == 16);
  CHECK(c.cross_layers == 2);
  CHECK(c.cross_rank == 32);
  c = ConfigOf("{preset: custom, dim: 4, bottom: [8, 4], top: [8, 1], interaction: dcn, "
               "cross_layers: 1, cross_rank: 2}");
  CHECK(model::MakeDenseLayout(c).cross.size() == 1);
}

TEST_CASE("dlrmv2 with the dot interaction is the mlperf model") {
  model::DlrmConfig c = ConfigOf("{preset: dlrmv2, interaction: dot}");
  model::DlrmConfig m = ConfigOf("{preset: mlperf}");
  CHECK(c.interaction == model::Interaction::kDot);
  CHECK(c.cross_layers == 0);
  CHECK(c.cross_rank == 0);
  CHECK(model::MakeDenseLayout(c).total_floats == model::MakeDenseLayout(m).total_floats);
}

TEST_CASE("Jobs that never name an interaction get the dot model") {
  model::DlrmConfig c = ConfigOf("{preset: kaggle}");
  CHECK(c.interaction == model::Interaction::kDot);
  CHECK(c.cross_layers == 0);
  CHECK(model::MakeDenseLayout(c).total_floats == 475985);
}

TEST_CASE("deploy/jobs/dlrmv2.yaml describes the dlrmv2 preset's model") {
  auto spec = job::LoadJobSpec(testing::SourceFile("deploy/jobs/dlrmv2.yaml"));
  INFO(spec.status().ToString());
  REQUIRE(spec.ok());
  auto c = ModelConfigOf(*spec);
  REQUIRE(c.ok());
  model::DlrmConfig preset = *model::DlrmPreset("dlrmv2");
  CHECK(c->dim == preset.dim);
  CHECK(c->bottom == preset.bottom);
  CHECK(c->top == preset.top);
  CHECK(c->interaction == model::Interaction::kDcn);
  CHECK(c->cross_layers == preset.cross_layers);
  CHECK(c->cross_rank == preset.cross_rank);
  CHECK(spec->data.train == "run/dlrmv2/train");
}

}  // namespace
}  // namespace augur::worker
