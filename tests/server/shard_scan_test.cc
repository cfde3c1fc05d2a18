// ScanRows: enumerating the rows a shard stores (the rows ever written), on the core and through
// ShardClient across three loopback shards with paging.
#include <catch2/catch.hpp>

#include <algorithm>

#include "server/client/shard_client.h"
#include "server/shard_server.h"
#include "tests/server/shard_test_util.h"

namespace augur::shard {
namespace {

using testing::MakeSpec;

// Writes `rows` of `spec` with record value row*10+k and version row+1.
void WriteRows(ShardCore* core, const TableSpec& spec, const std::vector<uint64_t>& rows) {
  RowBlock b;
  b.table_id = spec.id;
  b.rows = rows;
  for (uint64_t r : rows) {
    for (int k = 0; k < spec.RowFloats(); ++k) b.values.push_back(static_cast<float>(r * 10 + k));
    b.versions.push_back(static_cast<int64_t>(r + 1));
  }
  REQUIRE(core->Write({b}).ok());
}

void CheckRows(const RowBlock& got, const TableSpec& spec, std::vector<uint64_t> want,
               int width) {
  std::sort(want.begin(), want.end());
  REQUIRE(got.rows == want);
  REQUIRE(got.values.size() == want.size() * width);
  REQUIRE(got.versions.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(got.versions[i] == static_cast<int64_t>(want[i] + 1));
    for (int k = 0; k < width; ++k)
      CHECK(got.values[i * width + k] == static_cast<float>(want[i] * 10 + k));
  }
}

struct Cluster {
  static constexpr uint32_t kShards = 3;
  std::vector<std::unique_ptr<ShardCore>> cores;
  std::vector<std::unique_ptr<ShardServer>> servers;
  std::unique_ptr<ShardClient> client;
  Cluster() {
    std::vector<std::string> endpoints;
    for (uint32_t s = 0; s < kShards; ++s) {
      cores.push_back(testing::OpenMemoryCore(s, kShards));
      servers.push_back(*ShardServer::Start(cores.back().get(), nullptr, {"127.0.0.1:0", 2}));
      endpoints.push_back("127.0.0.1:" + std::to_string(servers.back()->port()));
    }
    client = *ShardClient::Connect(endpoints);
  }
  ~Cluster() {
    client.reset();
    for (auto& s : servers) s->Shutdown();
  }
};

}  // namespace

TEST_CASE("scan returns exactly the written rows in row order with values and versions") {
  auto core = testing::OpenMemoryCore();
  auto spec = MakeSpec(3);
  REQUIRE(core->CreateTable(spec).ok());
  std::vector<uint64_t> rows = {900, 5, 77, 0, 999};
  WriteRows(core.get(), spec, rows);
  // Reads do not store anything: a looked-up row stays unlisted.
  REQUIRE(core->Lookup({RowBlock{3, {6, 7}, {}, {}}}, false).ok());
  auto r = core->ScanRows(3, 0, 0, false);
  REQUIRE(r.ok());
  CHECK_FALSE(r->more);
  CHECK(r->next_row == 1000);
  CheckRows(r->block, spec, rows, spec.dim);
}

TEST_CASE("scan pages with limit and next_row") {
  auto core = testing::OpenMemoryCore();
  auto spec = MakeSpec(1);
  REQUIRE(core->CreateTable(spec).ok());
  std::vector<uint64_t> rows = {1, 2, 10, 11, 500};
  WriteRows(core.get(), spec, rows);
  std::vector<uint64_t> seen;
  uint64_t start = 0;
  int pages = 0;
  for (bool more = true; more; ++pages) {
    auto r = core->ScanRows(1, start, 2, false);
    REQUIRE(r.ok());
    CHECK(r->block.rows.size() <= 2);
    seen.insert(seen.end(), r->block.rows.begin(), r->block.rows.end());
    more = r->more;
    start = r->next_row;
  }
  CHECK(seen == rows);
  CHECK(pages == 3);
}

TEST_CASE("scan starting past a row skips it") {
  auto core = testing::OpenMemoryCore();
  auto spec = MakeSpec(1);
  REQUIRE(core->CreateTable(spec).ok());
  WriteRows(core.get(), spec, {1, 2, 10});
  auto r = core->ScanRows(1, 3, 0, false);
  REQUIRE(r.ok());
  CHECK(r->block.rows == std::vector<uint64_t>{10});
}

TEST_CASE("scan never returns rows of another table") {
  auto core = testing::OpenMemoryCore();
  auto a = MakeSpec(1), b = MakeSpec(2);
  REQUIRE(core->CreateTable(a).ok());
  REQUIRE(core->CreateTable(b).ok());
  WriteRows(core.get(), a, {1, 2});
  WriteRows(core.get(), b, {3});
  auto r = core->ScanRows(2, 0, 0, false);
  REQUIRE(r.ok());
  CHECK(r->block.rows == std::vector<uint64_t>{3});
  auto empty = core->ScanRows(2, 4, 0, false);
  REQUIRE(empty.ok());
  CHECK(empty->block.rows.empty());
  CHECK(empty->next_row == 4);
  CHECK_FALSE(empty->more);
}

TEST_CASE("scan with state returns whole records and without state only the values") {
  auto core = testing::OpenMemoryCore();
  auto spec = MakeSpec(4, 1000, 4, OptimizerKind::kAdagrad);
  REQUIRE(spec.RowFloats() > static_cast<int>(spec.dim));
  REQUIRE(core->CreateTable(spec).ok());
  WriteRows(core.get(), spec, {8, 9});
  auto full = core->ScanRows(4, 0, 0, true);
  REQUIRE(full.ok());
  CheckRows(full->block, spec, {8, 9}, spec.RowFloats());
  auto values = core->ScanRows(4, 0, 0, false);
  REQUIRE(values.ok());
  CheckRows(values->block, spec, {8, 9}, spec.dim);
}

TEST_CASE("scan of an unknown table is NOT_FOUND") {
  auto core = testing::OpenMemoryCore();
  CHECK(core->ScanRows(42, 0, 0, false).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("the client scans every shard, pages, and merges the rows in order") {
  Cluster c;
  auto spec = MakeSpec(2);
  REQUIRE(c.client->CreateTable(spec).get().ok());
  std::vector<uint64_t> written;
  for (uint64_t r = 3; r < 1000; r += 7) written.push_back(r);
  RowBlock w;
  w.table_id = 2;
  w.rows = written;
  for (uint64_t r : written) {
    for (int k = 0; k < spec.RowFloats(); ++k) w.values.push_back(static_cast<float>(r * 10 + k));
    w.versions.push_back(static_cast<int64_t>(r + 1));
  }
  REQUIRE(c.client->Write({w}).get().ok());
  auto r = c.client->ScanRows(2, false, /*page_rows=*/5).get();
  REQUIRE(r.ok());
  CheckRows(*r, spec, written, spec.dim);
}

TEST_CASE("the client's scan of an unknown table is NOT_FOUND") {
  Cluster c;
  auto r = c.client->ScanRows(9).get();
  CHECK(r.status().code() == absl::StatusCode::kNotFound);
}

}  // namespace augur::shard
