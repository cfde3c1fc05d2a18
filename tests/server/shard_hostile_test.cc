// Hostile requests to a real shard server over loopback gRPC (issue 15, items 1-4): each is
// refused with its documented code, the server stays up and nothing it stores changes.
#include <catch2/catch.hpp>

#include <grpcpp/create_channel.h>

#include <cmath>
#include <limits>
#include <span>

#include "common/limits.h"
#include "common/packed.h"
#include "proto/shard.grpc.pb.h"
#include "server/shard_server.h"
#include "tests/server/shard_test_util.h"

namespace augur::shard {
namespace {

namespace pb = ::augur::shard::v1;

template <typename T>
std::string Pack(std::vector<T> v) {
  return PackArray(std::span<const T>(v));
}

// One shard on 127.0.0.1 with table 1 (100 rows, dim 2, sgd) and row 5 written at version 50.
struct Loopback {
  std::unique_ptr<ShardCore> core = testing::OpenMemoryCore();
  std::unique_ptr<ShardServer> server;
  std::unique_ptr<pb::ShardService::Stub> stub;

  Loopback() {
    server = *ShardServer::Start(core.get(), nullptr, {"127.0.0.1:0", 2});
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(-1);  // the client sends whatever a test builds
    stub = pb::ShardService::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server->port()), grpc::InsecureChannelCredentials(), args));
    REQUIRE(core->CreateTable(testing::MakeSpec(1, 100, 2)).ok());
    RowBlock b{1, {5}, {0.5f, 0.5f}, {50}};
    REQUIRE(core->Write({b}).ok());
  }
  ~Loopback() { server->Shutdown(); }

  static pb::RowBlock Block(std::vector<uint64_t> rows, std::vector<float> values,
                            std::vector<int64_t> versions = {}) {
    pb::RowBlock b;
    b.set_table_id(1);
    b.set_rows(Pack(rows));
    b.set_values(Pack(values));
    if (!versions.empty()) b.set_versions(Pack(versions));
    return b;
  }
  grpc::Status Apply(pb::RowBlock block, int64_t iteration, uint32_t worker,
                     uint32_t num_workers) {
    pb::ApplyGradientsRequest req;
    *req.add_blocks() = std::move(block);
    req.set_iteration(iteration);
    req.set_worker(worker);
    req.set_num_workers(num_workers);
    pb::ApplyGradientsResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub->ApplyGradients(&ctx, req, &resp);
  }
  grpc::Status Write(pb::RowBlock block) {
    pb::WriteRequest req;
    *req.add_blocks() = std::move(block);
    pb::WriteResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub->Write(&ctx, req, &resp);
  }
  grpc::Status Create(const pb::TableSpec& t) {
    pb::CreateTableRequest req;
    *req.mutable_table() = t;
    pb::CreateTableResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub->CreateTable(&ctx, req, &resp);
  }
  // Row `row` of table 1 as the server stores it: value and version.
  std::pair<std::vector<float>, int64_t> Read(uint64_t row) {
    pb::LookupRequest req;
    *req.add_blocks() = Block({row}, {});
    pb::LookupResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    REQUIRE(stub->Lookup(&ctx, req, &resp).ok());
    return {*UnpackArray<float>(resp.blocks(0).values(), "values"),
            (*UnpackArray<int64_t>(resp.blocks(0).versions(), "versions"))[0]};
  }
  // Row 5 still holds what the fixture wrote, row 6 was never written, the server answers.
  void CheckUnchanged() {
    auto [v5, ver5] = Read(5);
    CHECK(v5 == std::vector<float>{0.5f, 0.5f});
    CHECK(ver5 == 50);
    CHECK(Read(6).second == 0);
  }
};

pb::TableSpec GoodSpec(uint32_t id) {
  pb::TableSpec t;
  t.set_id(id);
  t.set_name("t" + std::to_string(id));
  t.set_rows(100);
  t.set_dim(2);
  t.set_init_lo(-0.1f);
  t.set_init_hi(0.1f);
  t.mutable_optimizer()->set_kind("sgd");
  t.mutable_optimizer()->set_lr(0.1f);
  t.mutable_optimizer()->set_eps(1e-8f);
  return t;
}

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

}  // namespace

TEST_CASE("a push naming four billion workers is refused and the shard stays up") {
  Loopback s;
  auto st = s.Apply(Loopback::Block({6}, {1, 1}), 0, 0, 4294967295u);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message().find("num_workers") != std::string::npos);
  CHECK(s.Apply(Loopback::Block({6}, {1, 1}), 0, 0, 16777216).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.Apply(Loopback::Block({6}, {1, 1}), 0, 0, kMaxWorkers + 1).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  s.CheckUnchanged();
}

TEST_CASE("half-finished iterations are bounded and dropped once a later one completes") {
  Loopback s;
  // Worker 0 of 2 pushes iterations 0..15 that worker 1 never completes: the 17th is refused.
  for (int64_t i = 0; i < 16; ++i)
    REQUIRE(s.Apply(Loopback::Block({6}, {1, 1}), i, 0, 2).ok());
  CHECK(s.Apply(Loopback::Block({6}, {1, 1}), 16, 0, 2).error_code() ==
        grpc::StatusCode::RESOURCE_EXHAUSTED);
  s.CheckUnchanged();
  // Completing iteration 15 applies it and frees every older half-finished one.
  REQUIRE(s.Apply(Loopback::Block({6}, {1, 1}), 15, 1, 2).ok());
  CHECK(s.Read(6).second == 16);
  for (int64_t i = 16; i < 32; ++i) CHECK(s.Apply(Loopback::Block({6}, {1, 1}), i, 0, 2).ok());
}

TEST_CASE("an iteration beyond the limit is out of range and versions never wrap") {
  Loopback s;
  CHECK(s.Apply(Loopback::Block({6}, {1, 1}), std::numeric_limits<int64_t>::max(), 0, 1)
            .error_code() == grpc::StatusCode::OUT_OF_RANGE);
  CHECK(s.Apply(Loopback::Block({6}, {1, 1}), kMaxIteration + 1, 0, 1).error_code() ==
        grpc::StatusCode::OUT_OF_RANGE);
  CHECK(s.Write(Loopback::Block({6}, {1, 1}, {std::numeric_limits<int64_t>::max()}))
            .error_code() == grpc::StatusCode::OUT_OF_RANGE);
  s.CheckUnchanged();
}

TEST_CASE("gradients never move a row's version backwards") {
  Loopback s;
  // Row 5 is at version 50 (written by a cache); an update at iteration 5 would make it v6.
  auto st = s.Apply(Loopback::Block({5, 6}, {1, 1, 1, 1}), 5, 0, 1);
  CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  s.CheckUnchanged();
  // At iteration 50 the update is in order.
  REQUIRE(s.Apply(Loopback::Block({5}, {1, 1}), 50, 0, 1).ok());
  CHECK(s.Read(5).second == 51);
}

TEST_CASE("a message over the shard's size limit is refused by the transport") {
  Loopback s;
  pb::WriteRequest req;
  auto* b = req.add_blocks();
  b->set_table_id(1);
  b->set_rows(std::string(static_cast<size_t>(kShardMaxMessageBytes) + 1024, '\0'));
  pb::WriteResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  CHECK(s.stub->Write(&ctx, req, &resp).error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  s.CheckUnchanged();
}

TEST_CASE("table specs with empty or infinite ranges, infinite rates or huge names are refused") {
  Loopback s;
  auto bad = [&](auto edit) {
    pb::TableSpec t = GoodSpec(7);
    edit(t);
    grpc::Status st = s.Create(t);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(st.error_message().size() < 512);
  };
  bad([](pb::TableSpec& t) { t.set_init_hi(kInf); });
  bad([](pb::TableSpec& t) { t.set_init_lo(-kInf); });
  bad([](pb::TableSpec& t) { t.set_init_lo(kNaN); });
  bad([](pb::TableSpec& t) { t.set_init_lo(0.1f); });  // init_lo == init_hi: an empty range
  bad([](pb::TableSpec& t) { t.mutable_optimizer()->set_lr(kInf); });
  bad([](pb::TableSpec& t) { t.mutable_optimizer()->set_eps(kInf); });
  bad([](pb::TableSpec& t) { t.mutable_optimizer()->set_kind(std::string(1 << 20, 'x')); });
  bad([](pb::TableSpec& t) { t.set_name(std::string(50 << 20, 'n')); });
  CHECK(s.core->ListTables().size() == 1);
  CHECK(s.Create(GoodSpec(7)).ok());
}

TEST_CASE("non-finite gradients and rows are refused before anything is stored") {
  Loopback s;
  for (float bad : {kNaN, kInf, -kInf}) {
    CHECK(s.Apply(Loopback::Block({6, 5}, {1, 1, bad, 1}), 60, 0, 1).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.Write(Loopback::Block({6, 5}, {1, 1, 1, bad}, {60, 60})).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
  }
  // A buffered push with a NaN is refused too, so the iteration can still complete cleanly.
  CHECK(s.Apply(Loopback::Block({6}, {kNaN, 1}), 60, 0, 2).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  s.CheckUnchanged();
}

}  // namespace augur::shard
