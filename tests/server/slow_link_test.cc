// Bulk transfers over a slow link (issue 12): a shard whose link carries 1 Mbit/s (the shard's
// test-only link emulation: every call is answered no sooner than its bytes would take over one
// shared link), and a client with the default 10 s deadline per RPC. A flush, an export scan
// and a fill of ~1.4 MB each take longer than one RPC may, and still succeed: the client cuts
// them into requests that fit and keeps only what the link carries in time in flight.
#include <catch2/catch.hpp>

#include <chrono>

#include "server/client/shard_client.h"
#include "server/shard_server.h"
#include "tests/server/shard_test_util.h"

namespace augur::shard {
namespace {

constexpr double kLinkBytesPerS = 1e6 / 8;  // 1 Mbit/s
constexpr uint64_t kRows = 40000;           // 16 B of floats each: ~1.4 MB on the link

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("a flush, an export scan and a fill larger than one deadline allows cross a 1 Mbit/s link") {
  auto core = testing::OpenMemoryCore();
  ShardServerOptions so;
  so.listen = "127.0.0.1:0";
  so.worker_threads = 4;
  so.emulated_link_bytes_per_s = kLinkBytesPerS;
  auto server = ShardServer::Start(core.get(), nullptr, so);
  REQUIRE(server.ok());
  ShardClientOptions co;  // the defaults: 10 s per RPC
  REQUIRE(co.rpc_deadline == std::chrono::seconds(10));
  auto client = ShardClient::Connect({"127.0.0.1:" + std::to_string((*server)->port())}, co);
  REQUIRE(client.ok());
  const TableSpec spec = testing::MakeSpec(1, /*rows=*/1 << 20, /*dim=*/4);
  REQUIRE((*client)->CreateTable(spec).get().ok());

  RowBlock flush{spec.id, {}, {}, {}};
  for (uint64_t r = 0; r < kRows; ++r) {
    flush.rows.push_back(r * 17 % spec.rows);  // spread over the table
    for (int j = 0; j < 4; ++j) flush.values.push_back(static_cast<float>(r) + 0.25f * j);
    flush.versions.push_back(3);
  }
  // The whole cache in one call, as a worker flushes it at the end of a job.
  auto t0 = std::chrono::steady_clock::now();
  auto written = (*client)->Write({flush}).get();
  double write_s = Since(t0);
  INFO("write took " << write_s << " s");
  REQUIRE(written.ok());
  // The link really was slow: one request of it all would have missed its deadline.
  CHECK(write_s > 10.0);

  t0 = std::chrono::steady_clock::now();
  auto scanned = (*client)->ScanRows(spec.id).get();  // what `augur export` reads
  INFO("scan took " << Since(t0) << " s");
  REQUIRE(scanned.ok());
  REQUIRE(scanned->rows.size() == kRows);
  for (size_t i = 0; i + 1 < scanned->rows.size(); ++i)
    REQUIRE(scanned->rows[i] < scanned->rows[i + 1]);
  for (size_t i = 0; i < scanned->rows.size(); ++i) {
    uint64_t r = scanned->rows[i];
    // r = k * 17 mod rows with k < kRows, and 17 * kRows < rows: k = r / 17.
    REQUIRE(r % 17 == 0);
    REQUIRE(scanned->values[i * 4] == static_cast<float>(r / 17));
    REQUIRE(scanned->versions[i] == 3);
  }

  // Every row back, in the caller's order (a worker's fills of a full cache).
  t0 = std::chrono::steady_clock::now();
  auto fills = (*client)->Lookup({RowBlock{spec.id, flush.rows, {}, flush.versions}}).get();
  INFO("lookup took " << Since(t0) << " s");
  REQUIRE(fills.ok());
  REQUIRE(fills->size() == 1);
  CHECK((*fills)[0].rows == flush.rows);
  CHECK((*fills)[0].values == flush.values);
  CHECK((*fills)[0].versions == flush.versions);
  client->reset();
  (*server)->Shutdown();
}

}  // namespace augur::shard
