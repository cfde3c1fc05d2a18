// ShardStore: the durable key-value layer under one shard — rows of every table plus a small
// meta keyspace (the table registry, the applied iteration). The only implementation is
// RocksDB (rocksdb_shard_store.cc); nothing outside server/ sees a RocksDB header.
//
// The storage profile is an options preset, never a different code path (ARCHITECTURE.md):
//   memory  RocksDB on an in-memory Env (tests); `path` names a directory inside that Env.
//   ssd     direct reads and direct flush/compaction I/O, LRU block cache, bloom filters.
//           If the filesystem refuses O_DIRECT (tmpfs) it logs a warning and uses buffered I/O.
//   pmem    mmap reads from a DAX-mounted path, no block cache (the medium is byte-addressable).
//
// Durability: every Commit goes through the write-ahead log and is handed to the OS before it
// returns, so an acknowledged commit survives the process being killed (kill -9). With
// sync_writes it is also fsync'ed and survives power loss, at the cost of one fsync per commit.
//
// Thread-safety: every method may be called concurrently. A Commit is atomic (one WriteBatch);
// a ReadRows sees each key either before or after any concurrent Commit.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace augur::shard {

enum class StoreProfile { kMemory, kSsd, kPmem };
// INVALID_ARGUMENT for anything but memory | ssd | pmem.
absl::StatusOr<StoreProfile> ParseStoreProfile(std::string_view name);
std::string_view StoreProfileName(StoreProfile p);

// The RocksDB memory a shard process gets when its operator names none. memory: the files
// already live in RAM, so a large block cache would hold every hot block twice (16 MB block
// cache, 64 MB of memtables); ssd: 256 MB each; pmem: no block cache (reads go through mmap),
// 256 MB of memtables. Either budget is shared by all the jobs a shard holds.
struct ProfileMemory {
  size_t block_cache_mb;
  size_t write_buffer_mb;
};
ProfileMemory DefaultProfileMemory(StoreProfile p);

// RocksDB resources that several stores of one process share, so a shard holding many jobs (a
// store each) stays inside one memory budget: one block cache and one memtable budget. Opaque
// outside the RocksDB implementation.
struct SharedStoreResources;
// block_cache_mb: the shared LRU block cache (unused by pmem stores); write_buffer_mb: what the
// memtables of every sharing store may hold together before RocksDB flushes the largest.
std::shared_ptr<SharedStoreResources> NewSharedStoreResources(size_t block_cache_mb,
                                                              size_t write_buffer_mb);

struct StoreOptions {
  StoreProfile profile = StoreProfile::kMemory;
  std::string path;               // data directory; created when missing
  size_t block_cache_mb = 256;    // ssd / memory; pmem has no block cache
  bool sync_writes = false;       // fsync every commit (power-loss durability)
  // When set, `path` must be absent or empty: the checkpoint's files are copied into it first
  // (the checkpoint itself is never modified, so it can seed several servers).
  std::string from_checkpoint;
  // When set, the block cache and memtable budget come from here (block_cache_mb is ignored).
  std::shared_ptr<SharedStoreResources> shared;
};

// An ordered list of mutations committed atomically by ShardStore::Commit.
class StoreBatch {
 public:
  enum class OpKind { kPutRow, kDeleteTableRows, kPutMeta, kDeleteMeta };
  struct Op {
    OpKind kind;
    std::string key;    // encoded row key, or meta key; table id for kDeleteTableRows
    std::string value;  // encoded row value or meta value
    uint32_t table = 0;
  };
  void PutRow(uint32_t table, uint64_t row, std::span<const float> record, int64_t version);
  void DeleteTableRows(uint32_t table);
  void PutMeta(std::string key, std::string value);
  void DeleteMeta(std::string key);
  const std::vector<Op>& ops() const { return ops_; }
  size_t rows_put() const { return rows_put_; }

 private:
  std::vector<Op> ops_;
  size_t rows_put_ = 0;
};

struct StoreStats {
  uint64_t block_cache_hits = 0;
  uint64_t block_cache_misses = 0;
};

class ShardStore {
 public:
  // Opens (creating if needed) the store. FAILED_PRECONDITION when another process holds the
  // data directory (RocksDB LOCK) or from_checkpoint is set and `path` is not empty;
  // NOT_FOUND when from_checkpoint does not exist; UNAVAILABLE/INTERNAL for I/O failures.
  static absl::StatusOr<std::unique_ptr<ShardStore>> Open(const StoreOptions& options);
  virtual ~ShardStore() = default;

  // Reads rows of `table`. For each i with found[i] = 1, records[i * row_floats ...] holds the
  // stored record and versions[i] its version; unfound slots are left untouched. DATA_LOSS when
  // a stored value does not have row_floats floats.
  virtual absl::Status ReadRows(uint32_t table, std::span<const uint64_t> rows, int row_floats,
                                std::span<float> records, std::span<int64_t> versions,
                                std::vector<uint8_t>& found) = 0;

  virtual absl::Status Commit(const StoreBatch& batch) = 0;

  // Appends the stored rows of `table` with row >= start_row, in row order, at most `limit` of
  // them: their ids to `rows`, records (row_floats floats each) to `records`, versions to
  // `versions`. *more is set when stored rows of the table remain after the last one appended.
  // Keys are (table, row) big-endian (row_codec.h), so this is one prefix iteration. DATA_LOSS
  // when a stored value does not have row_floats floats.
  virtual absl::Status ScanRows(uint32_t table, uint64_t start_row, size_t limit, int row_floats,
                                std::vector<uint64_t>& rows, std::vector<float>& records,
                                std::vector<int64_t>& versions, bool* more) = 0;

  // Every meta (key, value) whose key starts with `prefix`, in key order.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ScanMeta(
      std::string_view prefix) = 0;
  // NOT_FOUND when absent.
  virtual absl::StatusOr<std::string> GetMeta(std::string_view key) = 0;

  // Writes a consistent, openable copy of the store to `dir` (on the real filesystem, also for
  // the memory profile). FAILED_PRECONDITION when `dir` already exists, unless `replace` is set
  // and `dir` is an earlier checkpoint (a flat directory holding CURRENT): the new copy is
  // written beside it (`dir`.new) and takes its place only once complete.
  virtual absl::Status Checkpoint(const std::string& dir, bool replace = false) = 0;

  // Moves everything buffered in memtables into table files and compacts, so reads hit the
  // block cache / disk path as in steady state (benchmarks; never needed for durability).
  virtual absl::Status FlushAndCompact() = 0;

  virtual StoreStats Stats() const = 0;
};

}  // namespace augur::shard
