// ShardStore: the RocksDB layer under every profile that works on this machine, the row key
// layout, atomic batches, table DeleteRange, reopen and checkpoints.
#include <catch2/catch.hpp>

#include <filesystem>

#include "server/row_codec.h"
#include "server/shard_store.h"
#include "tests/server/shard_test_util.h"
#include "tests/support/test_paths.h"

namespace augur::shard {
namespace {

using testing::OpenMemoryStore;

std::unique_ptr<ShardStore> OpenOrDie(StoreOptions o) {
  auto s = ShardStore::Open(o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

// Writes one row and reads it back plus a missing one.
void RoundTrip(ShardStore& store) {
  StoreBatch b;
  std::vector<float> rec = {1, 2, 3};
  b.PutRow(7, 5, rec, 9);
  REQUIRE(store.Commit(b).ok());
  std::vector<uint64_t> rows = {5, 6};
  std::vector<float> out(6, -1);
  std::vector<int64_t> versions(2, -1);
  std::vector<uint8_t> found;
  REQUIRE(store.ReadRows(7, rows, 3, out, versions, found).ok());
  CHECK(found == std::vector<uint8_t>{1, 0});
  CHECK(std::vector<float>(out.begin(), out.begin() + 3) == rec);
  CHECK(versions[0] == 9);
  CHECK(out[3] == -1);  // unfound slots are untouched
}

}  // namespace

TEST_CASE("the memory profile stores and reads rows") { RoundTrip(*OpenMemoryStore()); }

TEST_CASE("the ssd profile stores and reads rows on disk") {
  augur::testing::ScratchDir dir("store-ssd");
  StoreOptions o{StoreProfile::kSsd, dir.path() + "/db", 8};
  RoundTrip(*OpenOrDie(o));
}

TEST_CASE("the pmem profile stores and reads rows through mmap") {
  augur::testing::ScratchDir dir("store-pmem");
  StoreOptions o{StoreProfile::kPmem, dir.path() + "/db", 8};
  RoundTrip(*OpenOrDie(o));
}

TEST_CASE("profile names parse and unknown names are rejected") {
  CHECK(*ParseStoreProfile("ssd") == StoreProfile::kSsd);
  CHECK(ParseStoreProfile("nvme").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("row keys sort by table then row so a table is contiguous") {
  CHECK(RowKey(1, 0xFFFFFFFFFFull) < RowKey(2, 0));
  CHECK(RowKey(1, 255) < RowKey(1, 256));
  CHECK(RowKey(0x01020304, 0x05).substr(0, 4) == std::string("\x01\x02\x03\x04", 4));
}

TEST_CASE("table specs survive the registry encoding") {
  TableSpec s = testing::MakeSpec(3, uint64_t{1} << 40, 16, OptimizerKind::kAdam);
  s.optimizer.beta1 = 0.5f;
  auto back = DecodeTableSpec(EncodeTableSpec(s));
  REQUIRE(back.ok());
  CHECK(*back == s);
  CHECK(DecodeTableSpec("junk").status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("deleting a table's rows leaves other tables alone") {
  auto store = OpenMemoryStore();
  StoreBatch b;
  std::vector<float> rec = {1};
  b.PutRow(1, 0, rec, 1);
  b.PutRow(1, (uint64_t{1} << 40) - 1, rec, 1);
  b.PutRow(2, 0, rec, 1);
  REQUIRE(store->Commit(b).ok());
  StoreBatch d;
  d.DeleteTableRows(1);
  REQUIRE(store->Commit(d).ok());
  std::vector<float> out(2);
  std::vector<int64_t> v(2);
  std::vector<uint8_t> found;
  std::vector<uint64_t> rows = {0, (uint64_t{1} << 40) - 1};
  REQUIRE(store->ReadRows(1, rows, 1, out, v, found).ok());
  CHECK(found == std::vector<uint8_t>{0, 0});
  REQUIRE(store->ReadRows(2, std::vector<uint64_t>{0}, 1, out, v, found).ok());
  CHECK(found[0] == 1);
}

TEST_CASE("a stored row with the wrong size reads as data loss") {
  auto store = OpenMemoryStore();
  StoreBatch b;
  std::vector<float> rec = {1, 2};
  b.PutRow(1, 0, rec, 1);
  REQUIRE(store->Commit(b).ok());
  std::vector<float> out(3);
  std::vector<int64_t> v(1);
  std::vector<uint8_t> found;
  auto s = store->ReadRows(1, std::vector<uint64_t>{0}, 3, out, v, found);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("meta records persist across a reopen of the ssd store") {
  augur::testing::ScratchDir dir("store-reopen");
  StoreOptions o{StoreProfile::kSsd, dir.path() + "/db", 8};
  {
    auto store = OpenOrDie(o);
    StoreBatch b;
    b.PutMeta("table/1", "a");
    b.PutMeta("table/2", "b");
    b.PutMeta("other", "c");
    REQUIRE(store->Commit(b).ok());
  }
  auto store = OpenOrDie(o);
  auto scan = store->ScanMeta("table/");
  REQUIRE(scan.ok());
  REQUIRE(scan->size() == 2);
  CHECK((*scan)[1].second == "b");
  CHECK(store->GetMeta("missing").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("a second open of a data dir in use fails with a lock error") {
  augur::testing::ScratchDir dir("store-lock");
  StoreOptions o{StoreProfile::kSsd, dir.path() + "/db", 8};
  auto first = OpenOrDie(o);
  auto second = ShardStore::Open(o);
  REQUIRE(second.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(second.status().message().find("in use") != std::string::npos);
}

TEST_CASE("a memory-profile checkpoint lands on disk and seeds a new store") {
  augur::testing::ScratchDir dir("store-ckpt");
  auto store = OpenMemoryStore();
  StoreBatch b;
  std::vector<float> rec = {4, 5};
  b.PutRow(3, 11, rec, 2);
  REQUIRE(store->Commit(b).ok());
  std::string ckpt = dir.path() + "/ckpt";
  REQUIRE(store->Checkpoint(ckpt).ok());
  CHECK(std::filesystem::exists(ckpt + "/CURRENT"));
  CHECK(store->Checkpoint(ckpt).code() == absl::StatusCode::kFailedPrecondition);
  for (StoreProfile p : {StoreProfile::kMemory, StoreProfile::kSsd}) {
    StoreOptions o{p, dir.path() + "/seeded-" + std::string(StoreProfileName(p)), 8, false, ckpt};
    auto seeded = OpenOrDie(o);
    std::vector<float> out(2);
    std::vector<int64_t> v(1);
    std::vector<uint8_t> found;
    REQUIRE(seeded->ReadRows(3, std::vector<uint64_t>{11}, 2, out, v, found).ok());
    CHECK(found[0] == 1);
    CHECK(out == rec);
  }
}

TEST_CASE("starting from a missing checkpoint is not found") {
  StoreOptions o{StoreProfile::kMemory, "/x", 8, false, "/nonexistent/ckpt"};
  CHECK(ShardStore::Open(o).status().code() == absl::StatusCode::kNotFound);
}

}  // namespace augur::shard
