// ShardClient against three shard servers on real loopback ports: placement, order-preserving
// reassembly, every operation, version waits and client-side validation.
#include <catch2/catch.hpp>

#include <filesystem>
#include <thread>

#include "server/client/fan_out.h"
#include "server/client/shard_client.h"
#include "server/shard_server.h"
#include "tests/server/shard_test_util.h"
#include "tests/support/test_paths.h"

namespace augur::shard {
namespace {

using testing::InitialRecord;
using testing::MakeSpec;

constexpr uint32_t kShards = 3;

struct Cluster {
  std::vector<std::unique_ptr<ShardCore>> cores;
  std::vector<std::unique_ptr<ShardServer>> servers;
  std::unique_ptr<ShardClient> client;
  explicit Cluster(ShardClientOptions opts = {}) {
    std::vector<std::string> endpoints;
    for (uint32_t s = 0; s < kShards; ++s) {
      cores.push_back(testing::OpenMemoryCore(s, kShards));
      servers.push_back(
          *ShardServer::Start(cores.back().get(), nullptr, {"127.0.0.1:0", 2}));
      endpoints.push_back("127.0.0.1:" + std::to_string(servers.back()->port()));
    }
    client = *ShardClient::Connect(endpoints, opts);
  }
  ~Cluster() {
    client.reset();
    for (auto& s : servers) s->Shutdown();
  }
};

std::vector<uint64_t> Iota(uint64_t n) {
  std::vector<uint64_t> v(n);
  for (uint64_t i = 0; i < n; ++i) v[i] = n - 1 - i;  // reversed: order must survive
  return v;
}

}  // namespace

TEST_CASE("create table reaches every shard and a second create reports not created") {
  Cluster c;
  CHECK(*c.client->CreateTable(MakeSpec(1)).get() == true);
  CHECK(*c.client->CreateTable(MakeSpec(1)).get() == false);
  for (auto& core : c.cores) CHECK(core->ListTables().size() == 1);
  auto list = c.client->ListTables().get();
  REQUIRE(list.ok());
  CHECK((*list)[0] == MakeSpec(1));
}

TEST_CASE("client lookup returns rows of all shards in the caller's order") {
  Cluster c;
  auto spec = MakeSpec(1, 1000, 4, OptimizerKind::kAdagrad);
  REQUIRE(c.client->CreateTable(spec).get().ok());
  auto rows = Iota(50);
  rows.push_back(7);  // a duplicate
  auto r = c.client->Lookup({RowBlock{1, rows, {}, {}}, RowBlock{1, {}, {}, {}}}, true).get();
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  const RowBlock& b = (*r)[0];
  CHECK(b.rows == rows);
  REQUIRE(b.values.size() == rows.size() * 5);
  for (size_t i = 0; i < rows.size(); ++i)
    CHECK(std::vector<float>(b.values.begin() + i * 5, b.values.begin() + (i + 1) * 5) ==
          InitialRecord(spec, rows[i]));
  CHECK((*r)[1].values.empty());
}

TEST_CASE("client writes land on the owning shard and read back") {
  Cluster c;
  REQUIRE(c.client->CreateTable(MakeSpec(1, 1000, 1)).get().ok());
  auto rows = Iota(30);
  RowBlock w{1, rows, {}, {}};
  for (uint64_t r : rows) {
    w.values.push_back(static_cast<float>(r));
    w.versions.push_back(static_cast<int64_t>(r) + 1);
  }
  REQUIRE(c.client->Write({w}).get().ok());
  auto got = c.client->Lookup({RowBlock{1, rows, {}, {}}}).get();
  REQUIRE(got.ok());
  CHECK((*got)[0].values == w.values);
  CHECK((*got)[0].versions == w.versions);
  // Each shard stored only its own rows.
  for (uint32_t s = 0; s < kShards; ++s) {
    auto mine = testing::RowsOfShard(1, s, kShards, 1);
    CHECK(c.cores[s]->Lookup({RowBlock{1, mine, {}, {}}}, false).ok());
  }
}

TEST_CASE("client apply gradients pushes to every shard and completes with the last worker") {
  Cluster c;
  auto spec = MakeSpec(1, 1000, 1);
  REQUIRE(c.client->CreateTable(spec).get().ok());
  // Worker 0 touches one row (one shard); worker 1 nothing. All shards must still complete.
  CHECK(*c.client->ApplyGradients({RowBlock{1, {9}, {1.0f}, {}}}, 0, 0, 2).get() == false);
  CHECK(*c.client->ApplyGradients({}, 0, 1, 2).get() == true);
  for (auto& core : c.cores) CHECK(core->applied_iteration() == 0);
  auto r = c.client->Lookup({RowBlock{1, {9}, {}, {}}}).get();
  CHECK((*r)[0].values[0] == InitialRecord(spec, 9)[0] - 0.1f * 1.0f);
  CHECK((*r)[0].versions[0] == 1);
}

TEST_CASE("client lookup waits for a minimum version that a later write provides") {
  Cluster c;
  REQUIRE(c.client->CreateTable(MakeSpec(1, 1000, 1)).get().ok());
  auto pending = c.client->Lookup({RowBlock{1, {3, 4}, {}, {0, 2}}});
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  REQUIRE(c.client->Write({RowBlock{1, {4}, {8.0f}, {2}}}).get().ok());
  auto r = pending.get();
  REQUIRE(r.ok());
  CHECK((*r)[0].values[1] == 8.0f);
  CHECK((*r)[0].versions[1] == 2);
}

TEST_CASE("client lookup gives up with aborted when the version never arrives") {
  ShardClientOptions o;
  o.version_wait = std::chrono::milliseconds(50);
  Cluster c(o);
  REQUIRE(c.client->CreateTable(MakeSpec(1, 1000, 1)).get().ok());
  auto r = c.client->Lookup({RowBlock{1, {3}, {}, {1}}}).get();
  CHECK(r.status().code() == absl::StatusCode::kAborted);
}

TEST_CASE("client rejects ragged input before sending anything") {
  Cluster c;
  REQUIRE(c.client->CreateTable(MakeSpec(1, 1000, 2)).get().ok());
  CHECK(c.client->Write({RowBlock{1, {1, 2}, {1, 2, 3}, {1, 1}}}).get().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(c.client->Write({RowBlock{1, {1}, {1, 2}, {}}}).get().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(c.client->Lookup({RowBlock{1, {1}, {}, {1, 2}}}).get().status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a shard error names the shard and keeps its code") {
  Cluster c;
  auto r = c.client->Lookup({RowBlock{77, {1, 2, 3, 4, 5, 6}, {}, {}}}).get();
  REQUIRE(r.status().code() == absl::StatusCode::kNotFound);
  CHECK(r.status().message().find("shard ") != std::string::npos);
}

TEST_CASE("client drop table removes it from every shard") {
  Cluster c;
  REQUIRE(c.client->CreateTable(MakeSpec(1)).get().ok());
  REQUIRE(c.client->DropTable(1).get().ok());
  for (auto& core : c.cores) CHECK(core->ListTables().empty());
  CHECK(c.client->DropTable(1).get().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("client checkpoint writes one directory per shard") {
  augur::testing::ScratchDir dir("client-ckpt");
  Cluster c;
  REQUIRE(c.client->CreateTable(MakeSpec(1)).get().ok());
  REQUIRE(c.client->Checkpoint(dir.path() + "/ck").get().ok());
  for (uint32_t s = 0; s < kShards; ++s)
    CHECK(std::filesystem::exists(dir.path() + "/ck/shard-" + std::to_string(s) + "/CURRENT"));
}

TEST_CASE("an unreachable shard fails with unavailable or deadline exceeded") {
  ShardClientOptions o;
  o.rpc_deadline = std::chrono::milliseconds(300);
  auto client = *ShardClient::Connect({"127.0.0.1:1"}, o);
  auto s = client->ListTables().get().status().code();
  CHECK((s == absl::StatusCode::kUnavailable || s == absl::StatusCode::kDeadlineExceeded));
}

// Flow control: with tiny requests (~4 KiB) and a 16 KiB link budget a 5000-row write and
// lookup become hundreds of requests per shard, in flight a few at a time; every row still
// lands and comes back in the caller's order. When a shard goes away mid-way, the call ends
// with its error (naming it) instead of hanging on the queued rest.
TEST_CASE("bulk calls cut into many small requests keep order, and a lost shard ends them") {
  ShardClientOptions o;
  o.max_rpc_bytes = 4 << 10;
  o.max_inflight_bytes = 16 << 10;
  o.rpc_deadline = std::chrono::milliseconds(2000);
  Cluster c(o);
  const TableSpec spec = MakeSpec(1, /*rows=*/100000, /*dim=*/8);
  REQUIRE(c.client->CreateTable(spec).get().ok());
  RowBlock w{1, {}, {}, {}};
  for (uint64_t i = 0; i < 5000; ++i) {
    w.rows.push_back((i * 7919) % spec.rows);
    for (int j = 0; j < 8; ++j) w.values.push_back(static_cast<float>(i) + 0.125f * j);
    w.versions.push_back(2);
  }
  REQUIRE(c.client->Write({w}).get().ok());
  auto got = c.client->Lookup({RowBlock{1, w.rows, {}, {}}}).get();
  REQUIRE(got.ok());
  CHECK((*got)[0].rows == w.rows);
  CHECK((*got)[0].values == w.values);
  CHECK((*got)[0].versions == w.versions);

  c.servers[1]->Shutdown();
  auto lost = c.client->Write({w}).get();
  REQUIRE_FALSE(lost.ok());
  CHECK(lost.message().find("shard 1") != std::string::npos);
  auto lost_lookup = c.client->Lookup({RowBlock{1, w.rows, {}, {}}}).get();
  REQUIRE_FALSE(lost_lookup.ok());
  CHECK(lost_lookup.status().message().find("shard 1") != std::string::npos);
}

// The two directions of a shard's link are budgeted apart: write-backs filling the budget to
// the shard hold back later writes but not lookups, whose answers come the other way; each
// direction keeps its issue order.
TEST_CASE("a full budget to the shard holds back writes but not lookups") {
  ShardClient::Shared shared;
  shared.options.max_inflight_bytes = 100;
  {
    absl::MutexLock lock(&shared.mu);
    shared.links.resize(1);
  }
  std::vector<std::string> sent;
  auto send = [&](std::string what) { return [&sent, what] { sent.push_back(what); }; };
  shared.Admit(0, LinkDirection::kToShard, 100, send("write 1"));
  shared.Admit(0, LinkDirection::kToShard, 50, send("write 2"));
  shared.Admit(0, LinkDirection::kFromShard, 100, send("lookup 1"));
  shared.Admit(0, LinkDirection::kFromShard, 10, send("lookup 2"));
  CHECK(sent == std::vector<std::string>{"write 1", "lookup 1"});
  shared.Release(0, LinkDirection::kFromShard, 100);
  CHECK(sent == std::vector<std::string>{"write 1", "lookup 1", "lookup 2"});
  shared.Release(0, LinkDirection::kToShard, 100);
  CHECK(sent == std::vector<std::string>{"write 1", "lookup 1", "lookup 2", "write 2"});
  shared.cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (shared.cq.Next(&tag, &ok)) {
  }
}

}  // namespace augur::shard
