// The gRPC adapter in one process over grpc::Server::InProcessChannel: wire conversion, status
// mapping, malformed packed bytes, metrics.
#include <catch2/catch.hpp>

#include <span>

#include "common/metrics.h"
#include "common/packed.h"
#include "proto/shard.grpc.pb.h"
#include "server/shard_server.h"
#include "tests/server/shard_test_util.h"
#include "tests/support/test_paths.h"

namespace augur::shard {
namespace {

namespace pb = ::augur::shard::v1;

struct InProcess {
  MetricsRegistry metrics;
  std::unique_ptr<ShardCore> core;
  std::unique_ptr<ShardServer> server;
  std::unique_ptr<pb::ShardService::Stub> stub;
  InProcess() {
    ShardCoreOptions o;
    o.metrics = &metrics;
    core = *ShardCore::Open(testing::OpenMemoryStore(), o);
    server = *ShardServer::Start(core.get(), &metrics, {.listen = "", .worker_threads = 2});
    stub = pb::ShardService::NewStub(server->InProcessChannel());
  }
  ~InProcess() { server->Shutdown(); }
  void CreateTable(uint32_t id, uint32_t dim) {
    pb::CreateTableRequest req;
    auto* t = req.mutable_table();
    t->set_id(id);
    t->set_name("t");
    t->set_rows(100);
    t->set_dim(dim);
    t->set_init_lo(-1);
    t->set_init_hi(1);
    t->mutable_optimizer()->set_kind("adagrad");
    t->mutable_optimizer()->set_lr(0.1f);
    t->mutable_optimizer()->set_eps(1e-8f);
    pb::CreateTableResponse resp;
    grpc::ClientContext ctx;
    REQUIRE(stub->CreateTable(&ctx, req, &resp).ok());
  }
};

std::string Rows(std::vector<uint64_t> rows) {
  return PackArray(std::span<const uint64_t>(rows));
}

}  // namespace

TEST_CASE("an rpc lookup returns packed values and versions of the core") {
  InProcess p;
  p.CreateTable(1, 3);
  pb::LookupRequest req;
  req.set_with_state(true);
  auto* b = req.add_blocks();
  b->set_table_id(1);
  b->set_rows(Rows({5, 6}));
  pb::LookupResponse resp;
  grpc::ClientContext ctx;
  REQUIRE(p.stub->Lookup(&ctx, req, &resp).ok());
  REQUIRE(resp.blocks_size() == 1);
  auto values = *UnpackArray<float>(resp.blocks(0).values(), "v");
  auto versions = *UnpackArray<int64_t>(resp.blocks(0).versions(), "v");
  CHECK(values.size() == 2 * 4);
  CHECK(versions == std::vector<int64_t>{0, 0});
  auto spec = p.core->ListTables()[0];
  CHECK(std::vector<float>(values.begin() + 4, values.end()) == testing::InitialRecord(spec, 6));
}

TEST_CASE("ragged packed bytes are an invalid argument over rpc") {
  InProcess p;
  p.CreateTable(1, 2);
  pb::WriteRequest req;
  auto* b = req.add_blocks();
  b->set_table_id(1);
  b->set_rows(Rows({5}));
  b->set_values(std::string(4 * 3 - 1, '\0'));
  b->set_versions(std::string(8, '\0'));
  pb::WriteResponse resp;
  grpc::ClientContext ctx;
  CHECK(p.stub->Write(&ctx, req, &resp).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("core errors reach the rpc caller with the same code") {
  InProcess p;
  pb::LookupRequest req;
  req.add_blocks()->set_table_id(42);
  pb::LookupResponse resp;
  grpc::ClientContext ctx;
  auto s = p.stub->Lookup(&ctx, req, &resp);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message().find("42") != std::string::npos);
}

TEST_CASE("an unknown optimizer name is an invalid argument over rpc") {
  InProcess p;
  pb::CreateTableRequest req;
  req.mutable_table()->set_name("x");
  req.mutable_table()->mutable_optimizer()->set_kind("lamb");
  pb::CreateTableResponse resp;
  grpc::ClientContext ctx;
  CHECK(p.stub->CreateTable(&ctx, req, &resp).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("rpc apply gradients reports when the push completed the step") {
  InProcess p;
  p.CreateTable(1, 1);
  for (uint32_t w = 0; w < 2; ++w) {
    pb::ApplyGradientsRequest req;
    req.set_iteration(0);
    req.set_worker(w);
    req.set_num_workers(2);
    pb::ApplyGradientsResponse resp;
    grpc::ClientContext ctx;
    REQUIRE(p.stub->ApplyGradients(&ctx, req, &resp).ok());
    CHECK(resp.applied() == (w == 1));
  }
}

TEST_CASE("the metrics registry counts rows and request latency by method") {
  InProcess p;
  p.CreateTable(1, 2);
  pb::LookupRequest req;
  req.add_blocks()->set_table_id(1);
  req.mutable_blocks(0)->set_rows(Rows({1, 2, 3}));
  pb::LookupResponse resp;
  grpc::ClientContext ctx;
  REQUIRE(p.stub->Lookup(&ctx, req, &resp).ok());
  std::string text = p.metrics.RenderPrometheus();
  CHECK(text.find("augur_shard_rows_read_total 3") != std::string::npos);
  CHECK(text.find("augur_shard_request_seconds_count{method=\"Lookup\"} 1") != std::string::npos);
  CHECK(text.find("augur_shard_block_cache_hit_total") != std::string::npos);
  CHECK(text.find("augur_shard_block_cache_miss_total") != std::string::npos);
}

TEST_CASE("a checkpoint over rpc seeds a new shard with the same rows") {
  augur::testing::ScratchDir dir("svc-ckpt");
  InProcess p;
  p.CreateTable(1, 1);
  RowBlock w{1, {7}, {3.5f, 0.25f}, {4}};
  REQUIRE(p.core->Write({w}).ok());
  pb::CheckpointRequest req;
  req.set_dir(dir.path() + "/ckpt");
  pb::CheckpointResponse resp;
  grpc::ClientContext ctx;
  REQUIRE(p.stub->Checkpoint(&ctx, req, &resp).ok());
  StoreOptions so{StoreProfile::kMemory, "/seeded", 8, false, dir.path() + "/ckpt"};
  auto core = *ShardCore::Open(*ShardStore::Open(so), {});
  auto r = core->Lookup({RowBlock{1, {7}, {}, {}}}, true);
  REQUIRE(r.ok());
  CHECK((*r)[0].values == w.values);
  CHECK((*r)[0].versions[0] == 4);
}

}  // namespace augur::shard
