// ValidateMinibatch's offset rule: the features' bags tile `slots` in order, with no overlap,
// gap or missing tail, because the CUDA embedding-gradient kernels index scratch by them.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/model/model_test_util.h"
#include "worker/model/dense_compute.h"

namespace augur::model {
namespace {

constexpr int64_t kCapacity = 64;

// B = 2 samples, 3 features; bag sizes per (feature, sample) {1,2}, {0,1}, {2,0}: 6 slots.
struct Fixture {
  DlrmConfig config = testing::TinyConfig();
  std::vector<float> dense = std::vector<float>(2 * 4, 0.5f), labels{0.0f, 1.0f};
  std::vector<int64_t> offsets{0, 1, 3, /**/ 3, 3, 4, /**/ 4, 6, 6};
  std::vector<SlotIndex> slots{1, 2, 3, 4, 5, 6};

  Minibatch view() const {
    Minibatch mb;
    mb.batch_size = 2;
    mb.global_batch_size = 2;
    mb.dense = dense;
    mb.labels = labels;
    mb.offsets = offsets;
    mb.slots = slots;
    return mb;
  }
  absl::Status Validate() const { return ValidateMinibatch(config, kCapacity, view(), true); }
};

bool Mentions(const absl::Status& st, const std::string& text) {
  return std::string(st.message()).find(text) != std::string::npos;
}

TEST_CASE("Offsets that tile the slots feature after feature are accepted") {
  Fixture f;
  CHECK(f.Validate().ok());
  // Empty bags everywhere, no slots at all.
  f.offsets.assign(9, 0);
  f.slots.clear();
  CHECK(f.Validate().ok());
}

TEST_CASE("Random multi-hot batches of the test helpers satisfy the offset rule") {
  const DlrmConfig c = testing::TinyConfig();
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    testing::OwnedBatch b = testing::RandomBatch(c, 1 + static_cast<int>(seed % 7), 30, seed);
    CHECK(ValidateMinibatch(c, kCapacity, b.view(), true).ok());
  }
}

TEST_CASE("A first feature that does not start at zero is rejected") {
  Fixture f;
  f.offsets[0] = 1;  // slot 0 of the array is in no bag
  const absl::Status st = f.Validate();
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(st, "feature 0 must start at 0"));
}

TEST_CASE("Features that overlap are rejected, naming the feature") {
  Fixture f;
  f.offsets[3] = 2;  // feature 1 starts inside feature 0's last bag
  const absl::Status st = f.Validate();
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(st, "feature 1 start at 2"));
  CHECK(Mentions(st, "feature 0 ends at 3"));
}

TEST_CASE("A gap between features is rejected, naming the feature") {
  Fixture f;
  // Feature 2 starts one past feature 1's end; the total still matches the slot count.
  f.offsets = {0, 1, 3, /**/ 3, 3, 4, /**/ 5, 6, 6};
  const absl::Status st = f.Validate();
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(st, "feature 2 start at 5"));
  CHECK(Mentions(st, "no gap or overlap"));
}

TEST_CASE("Offsets that decrease within a feature are rejected, naming feature and sample") {
  Fixture f;
  f.offsets = {0, 1, 3, /**/ 3, 4, 3, /**/ 3, 6, 6};  // feature 1, sample 1 ends before it starts
  const absl::Status st = f.Validate();
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(st, "feature 1 decrease at sample 1"));
}

TEST_CASE("Offsets whose total is not the slot count are rejected") {
  Fixture f;
  f.slots.push_back(7);  // one slot in no bag at the end
  absl::Status st = f.Validate();
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(st, "end at 6"));
  CHECK(Mentions(st, "has 7 slots"));
  Fixture g;
  g.offsets.back() = 7;  // the last bag runs past the slots
  st = g.Validate();
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(st, "feature 2 end at 7"));
}

TEST_CASE("The CPU backend refuses overlapping offsets before touching a slot") {
  DenseComputeOptions o;
  o.model = testing::TinyConfig();
  o.capacity = kCapacity;
  auto dc = CreateDenseCompute(o);
  REQUIRE(dc.ok());
  Fixture f;
  f.offsets[3] = 2;
  EmbeddingGradients emb;
  CHECK((*dc)->ForwardBackward(f.view(), &emb).status().code() ==
        absl::StatusCode::kInvalidArgument);
  std::vector<float> p(2);
  CHECK((*dc)->Predict(f.view(), absl::MakeSpan(p)).code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace augur::model
