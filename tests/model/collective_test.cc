// Collectives: the Gloo all-reduce between two real processes (fork) rendezvousing through a
// file store in a scratch directory, plus the local and store edge cases.
#include "worker/model/collective.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "tests/support/test_paths.h"

namespace augur::model {
namespace {

// Rank r's contribution: distinct values whose float sums round, plus signed zeros.
std::vector<float> Contribution(int rank, int64_t n) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) {
    v[i] = (rank == 0 ? 1.0f : 3.0f) / static_cast<float>(i % 97 + 1) +
           static_cast<float>(i) * (rank == 0 ? 1e-3f : -7e-4f);
  }
  v[0] = -0.0f;  // both ranks: -0 + -0 must stay -0
  v[1] = rank == 0 ? -0.0f : 2.5f;
  return v;
}

// Runs one rank: rendezvous, two all-reduces, exact comparison. Returns a failure message or "".
std::string RunRank(const std::string& dir, int rank, int64_t n) {
  auto store = NewFileRendezvousStore(dir);
  if (!store.ok()) return store.status().ToString();
  GlooCollectiveOptions o;
  o.rank = rank;
  o.size = 2;
  o.store = store->get();
  o.prefix = "job-test";
  o.timeout = absl::Seconds(30);
  auto coll = NewGlooCollective(o);
  if (!coll.ok()) return coll.status().ToString();
  if ((*coll)->rank() != rank || (*coll)->size() != 2) return "wrong rank or size";
  if ((*coll)->buffer_kind() != BufferKind::kHost) return "gloo does not reduce host buffers";
  // A second call must reuse the mesh cleanly; the host entry point is the same reduction.
  for (int round = 0; round < 2; ++round) {
    std::vector<float> data = Contribution(rank, n);
    absl::Status s = round == 0 ? (*coll)->AllReduceSum(data.data(), n)
                                : (*coll)->AllReduceHostSum(data.data(), n);
    if (!s.ok()) return s.ToString();
    std::vector<float> a = Contribution(0, n), b = Contribution(1, n);
    for (int64_t i = 0; i < n; ++i) {
      const float want = a[i] + b[i];
      if (std::memcmp(&want, &data[i], sizeof(float)) != 0) {
        return "mismatch at element " + std::to_string(i);
      }
    }
    if (!std::signbit(data[0])) return "-0 + -0 lost its sign";
  }
  return "";
}

TEST_CASE("Two processes all-reduce exactly through Gloo and a file store") {
  augur::testing::ScratchDir scratch("gloo");
  const int64_t n = (1 << 18) + 13;  // several ring chunks, odd tail
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::string err = RunRank(scratch.path(), 1, n);
    if (!err.empty()) fprintf(stderr, "rank 1: %s\n", err.c_str());
    _exit(err.empty() ? 0 : 1);
  }
  std::string err = RunRank(scratch.path(), 0, n);
  int wstatus = 0;
  REQUIRE(waitpid(child, &wstatus, 0) == child);
  CHECK(err == "");
  CHECK(WIFEXITED(wstatus));
  CHECK(WEXITSTATUS(wstatus) == 0);
}

TEST_CASE("A local collective leaves the buffer untouched") {
  auto c = NewLocalCollective();
  std::vector<float> v{1.0f, -0.0f, 3.5f};
  REQUIRE(c->AllReduceSum(v.data(), 3).ok());
  REQUIRE(c->AllReduceHostSum(v.data(), 3).ok());
  CHECK(v == std::vector<float>{1.0f, -0.0f, 3.5f});
  CHECK(std::signbit(v[1]));
  CHECK(c->size() == 1);
}

TEST_CASE("A local collective reduces host buffers") {
  CHECK(NewLocalCollective()->buffer_kind() == BufferKind::kHost);
}

// A device collective that does not stage host buffers itself.
class DeviceOnlyCollective final : public Collective {
 public:
  BufferKind buffer_kind() const override { return BufferKind::kDevice; }
  absl::Status AllReduceSum(float*, int64_t) override { return absl::OkStatus(); }
  int rank() const override { return 0; }
  int size() const override { return 2; }
};

TEST_CASE("A device collective without host staging refuses host buffers") {
  DeviceOnlyCollective c;
  float x = 1.0f;
  CHECK(c.AllReduceHostSum(&x, 1).code() == absl::StatusCode::kUnimplemented);
}

TEST_CASE("A rendezvous key that never appears times out") {
  augur::testing::ScratchDir scratch("store");
  auto store = NewFileRendezvousStore(scratch.path());
  REQUIRE(store.ok());
  REQUIRE((*store)->Set("a/b", std::string("x\0y", 3)).ok());
  auto v = (*store)->Get("a/b", absl::Seconds(1));
  REQUIRE(v.ok());
  CHECK(*v == std::string("x\0y", 3));
  CHECK((*store)->Get("missing", absl::Milliseconds(20)).status().code() ==
        absl::StatusCode::kDeadlineExceeded);
}

TEST_CASE("A rank outside the group is an invalid argument") {
  augur::testing::ScratchDir scratch("store");
  auto store = NewFileRendezvousStore(scratch.path());
  REQUIRE(store.ok());
  GlooCollectiveOptions o;
  o.rank = 2;
  o.size = 2;
  o.store = store->get();
  CHECK(NewGlooCollective(o).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace augur::model
