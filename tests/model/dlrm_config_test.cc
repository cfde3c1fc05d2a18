// The model's shape: presets, validation, the flat layout (bottom, cross, top) and the
// deterministic init, for the dot and the DCNv2 interaction, with and without dense features.
#include "worker/model/dlrm_config.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/model/model_test_util.h"

namespace augur::model {
namespace {

bool Rejected(const DlrmConfig& c, const std::string& needle) {
  absl::Status st = ValidateDlrmConfig(c);
  INFO(st.ToString());
  return st.code() == absl::StatusCode::kInvalidArgument &&
         std::string(st.message()).find(needle) != std::string::npos;
}

TEST_CASE("The dlrmv2 preset is MLPerf DLRMv2's DCNv2 model") {
  auto c = DlrmPreset("dlrmv2");
  REQUIRE(c.ok());
  CHECK(c->dim == 128);
  CHECK(c->bottom == std::vector<int>{512, 256, 128});
  CHECK(c->top == std::vector<int>{1024, 1024, 512, 256, 1});
  CHECK(c->interaction == Interaction::kDcn);
  CHECK(c->cross_layers == 3);
  CHECK(c->cross_rank == 512);
  CHECK(ValidateDlrmConfig(*c).ok());
  CHECK(TopInputWidth(*c) == 27 * 128);
  CHECK(DlrmPreset("mlperf")->interaction == Interaction::kDot);
  CHECK(DlrmPreset("dlrm3").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("The dot layout is bottom then top layers, packed, as it always was") {
  // kaggle: 13-512-256-64-16 bottom, 367-512-256-1 top (367 = 16 + 27*26/2).
  DenseLayout d = MakeDenseLayout(*DlrmPreset("kaggle"));
  CHECK(d.cross.empty());
  REQUIRE(d.bottom.size() == 4);
  REQUIRE(d.top.size() == 3);
  CHECK(d.bottom[0].weight_offset == 0);
  CHECK(d.top[0].in == 367);
  CHECK(d.top[0].weight_offset == d.bottom[3].bias_offset + 16);
  CHECK(d.total_floats == (13 * 512 + 512) + (512 * 256 + 256) + (256 * 64 + 64) +
                              (64 * 16 + 16) + (367 * 512 + 512) + (512 * 256 + 256) + 257);
}

TEST_CASE("Cross layers sit between the bottom and the top MLP as V, W, b") {
  DlrmConfig c = testing::TinyDcnConfig();
  DenseLayout d = MakeDenseLayout(c);
  REQUIRE(d.cross.size() == 2);
  int64_t cursor = d.bottom.back().bias_offset + d.bottom.back().out;
  for (const auto& l : d.cross) {
    CHECK(l.in == 16);
    CHECK(l.rank == 3);
    CHECK(l.v_offset == cursor);
    CHECK(l.w_offset == cursor + 48);
    CHECK(l.bias_offset == cursor + 96);
    cursor = l.bias_offset + 16;
  }
  CHECK(d.top[0].weight_offset == cursor);
  CHECK(d.top[0].in == 16);
  CHECK(d.total_floats == d.top.back().bias_offset + 1);
  // dlrmv2: 3 x (2 x 3456 x 512 + 3456) cross floats.
  DenseLayout v2 = MakeDenseLayout(*DlrmPreset("dlrmv2"));
  DenseLayout v1 = MakeDenseLayout(*DlrmPreset("mlperf"));
  const int64_t top_in_v1 = 128 + 27 * 26 / 2, top_in_v2 = 27 * 128;
  CHECK(v2.total_floats - v1.total_floats ==
        3 * (2 * int64_t{3456} * 512 + 3456) + (top_in_v2 - top_in_v1) * 1024);
}

TEST_CASE("Without dense features there is no bottom MLP, whatever bottom says") {
  DlrmConfig c = testing::TinyNoDenseConfig();
  REQUIRE(!c.bottom.empty());
  c.bottom = {7, 5};  // does not even end at dim: ignored, not validated
  CHECK(ValidateDlrmConfig(c).ok());
  DenseLayout d = MakeDenseLayout(c);
  CHECK(d.bottom.empty());
  CHECK(InteractionVectors(c) == 3);
  CHECK(TopInputWidth(c) == 3);  // dots only
  CHECK(d.top[0].weight_offset == 0);
  c.interaction = Interaction::kDcn;
  c.cross_layers = 1;
  c.cross_rank = 2;
  CHECK(TopInputWidth(c) == 12);
  CHECK(MakeDenseLayout(c).cross[0].v_offset == 0);
}

TEST_CASE("Invalid interaction settings are invalid arguments that say why") {
  DlrmConfig c = testing::TinyDcnConfig();
  c.cross_layers = 0;
  CHECK(Rejected(c, "cross_layers >= 1"));
  c = testing::TinyDcnConfig();
  c.cross_rank = -1;
  CHECK(Rejected(c, "cross_rank >= 1"));
  c = testing::TinyDcnConfig();
  c.self_interaction = true;
  CHECK(Rejected(c, "self_interaction"));
  c = testing::TinyConfig();
  c.cross_layers = 2;
  CHECK(Rejected(c, "for the dcn interaction"));
  c = testing::TinyNoDenseConfig();
  c.num_sparse = 1;
  CHECK(Rejected(c, "at least 2 sparse features"));
  c.self_interaction = true;  // one self pair is enough
  CHECK(ValidateDlrmConfig(c).ok());
  c = testing::TinyConfig();
  c.num_dense = -1;
  CHECK(Rejected(c, "num_dense must be >= 0"));
  c = testing::TinyConfig();
  c.bottom = {8, 5};
  CHECK(Rejected(c, "end at dim=4"));
  CHECK(ParseInteraction("dcn").value() == Interaction::kDcn);
  CHECK(ParseInteraction("dot").value() == Interaction::kDot);
  CHECK(ParseInteraction("cross").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(InteractionName(Interaction::kDcn) == "dcn");
}

TEST_CASE("Cross layers initialise after the MLPs, leaving the MLP init unchanged") {
  DlrmConfig dot = testing::TinyConfig();
  DlrmConfig dcn = testing::TinyDcnConfig();
  dot.top = dcn.top;
  std::vector<float> wd = InitDenseWeights(dot, 9), wc = InitDenseWeights(dcn, 9);
  DenseLayout ld = MakeDenseLayout(dot), lc = MakeDenseLayout(dcn);
  // Bottom layers (same shapes, same streams) are identical.
  for (size_t i = 0; i < ld.bottom.size(); ++i) {
    const auto& a = ld.bottom[i];
    for (int64_t k = 0; k < int64_t{a.in} * a.out + a.out; ++k) {
      CHECK(wd[a.weight_offset + k] == wc[lc.bottom[i].weight_offset + k]);
    }
  }
  for (const auto& l : lc.cross) {
    for (int i = 0; i < l.in; ++i) CHECK(wc[l.bias_offset + i] == 0.0f);
    double sum2 = 0;
    for (int64_t k = 0; k < 2 * int64_t{l.in} * l.rank; ++k) {
      sum2 += wc[l.v_offset + k] * wc[l.v_offset + k];
    }
    // Xavier normal: variance 2 / (in + rank) = 2/19; 96 draws.
    CHECK(sum2 / (2.0 * l.in * l.rank) == Approx(2.0 / 19).epsilon(0.5));
  }
  CHECK(wc == InitDenseWeights(dcn, 9));
  CHECK(wc != InitDenseWeights(dcn, 10));
  CHECK(lc.cross[0].v_offset != lc.cross[1].v_offset);
  CHECK(wc[lc.cross[0].v_offset] != wc[lc.cross[1].v_offset]);  // distinct streams
}

TEST_CASE("Forward multiply-adds count the cross network") {
  DlrmConfig dcn = testing::TinyDcnConfig();
  int64_t mlp = 0;
  DenseLayout d = MakeDenseLayout(dcn);
  for (const auto& l : d.bottom) mlp += int64_t{l.in} * l.out;
  for (const auto& l : d.top) mlp += int64_t{l.in} * l.out;
  CHECK(ForwardMacsPerSample(dcn) == mlp + 2 * (2 * 16 * 3 + 16));
  DlrmConfig dot = testing::TinyConfig();
  DenseLayout dd = MakeDenseLayout(dot);
  int64_t dot_mlp = 0;
  for (const auto& l : dd.bottom) dot_mlp += int64_t{l.in} * l.out;
  for (const auto& l : dd.top) dot_mlp += int64_t{l.in} * l.out;
  CHECK(ForwardMacsPerSample(dot) == dot_mlp + 6 * 4);
}

}  // namespace
}  // namespace augur::model
