// The RocksDB ShardStore: rows in the default column family, registry records in "meta".
// rocksdb::Status is converted to absl::Status here and nowhere else (STYLE.md item 5).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_buffer_manager.h>
#include <spdlog/spdlog.h>

#include "common/status.h"
#include "server/row_codec.h"
#include "server/shard_store.h"
#include "server/store_files.h"

namespace augur::shard {

struct SharedStoreResources {
  std::shared_ptr<rocksdb::Cache> block_cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
};

std::shared_ptr<SharedStoreResources> NewSharedStoreResources(size_t block_cache_mb,
                                                              size_t write_buffer_mb) {
  auto r = std::make_shared<SharedStoreResources>();
  r->block_cache = rocksdb::NewLRUCache(std::max<size_t>(block_cache_mb, 1) << 20);
  r->write_buffers =
      std::make_shared<rocksdb::WriteBufferManager>(std::max<size_t>(write_buffer_mb, 1) << 20);
  return r;
}

namespace {

constexpr char kMetaFamily[] = "meta";
constexpr size_t kReadChunk = 1 << 16;  // bounds MultiGet's temporary slices per call

// Probes whether `dir` accepts O_DIRECT (tmpfs and some overlay filesystems refuse it).
bool SupportsDirectIo(const std::string& dir) {
  std::string probe = dir + "/.augur-odirect-probe";
  int fd = ::open(probe.c_str(), O_CREAT | O_RDWR | O_DIRECT, 0600);
  if (fd >= 0) ::close(fd);
  ::unlink(probe.c_str());
  return fd >= 0;
}

rocksdb::Options ProfileOptions(const StoreOptions& o, rocksdb::Env* env,
                                std::shared_ptr<rocksdb::Statistics> stats) {
  rocksdb::Options opt;
  opt.create_if_missing = true;
  opt.create_missing_column_families = true;
  opt.env = env;
  opt.statistics = std::move(stats);
  opt.max_background_jobs = 2;
  // A shard keeps a store per job, ended jobs included: preallocating every store's WAL to
  // ~1.1 x the memtable size (and its MANIFEST to 4 MB) would hold ~75 MB of disk per job per
  // shard for a job that wrote 1 MB. Files grow as they are written instead.
  opt.allow_fallocate = false;
  rocksdb::BlockBasedTableOptions t;
  // Every lookup is a point read of a key that often does not exist (lazy init): bloom filters
  // turn most of those misses into no I/O.
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
  t.whole_key_filtering = true;
  if (o.profile == StoreProfile::kPmem) {
    // Byte-addressable medium: read through mmap, a block cache would only copy twice.
    t.no_block_cache = true;
    opt.allow_mmap_reads = true;
  } else {
    t.block_cache = o.shared ? o.shared->block_cache
                             : rocksdb::NewLRUCache(std::max<size_t>(o.block_cache_mb, 1) << 20);
    t.cache_index_and_filter_blocks = true;
    t.pin_l0_filter_and_index_blocks_in_cache = true;
  }
  if (o.profile == StoreProfile::kSsd) {
    if (SupportsDirectIo(o.path)) {
      opt.use_direct_reads = true;
      opt.use_direct_io_for_flush_and_compaction = true;
    } else {
      spdlog::warn("data dir {} refuses O_DIRECT (tmpfs?); ssd profile falls back to buffered I/O",
                   o.path);
    }
  }
  if (o.shared) opt.write_buffer_manager = o.shared->write_buffers;
  opt.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return opt;
}

class RocksShardStore final : public ShardStore {
 public:
  ~RocksShardStore() override {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_.reset();  // before the Env it runs on
  }

  static absl::StatusOr<std::unique_ptr<ShardStore>> Open(const StoreOptions& o);

  absl::Status ReadRows(uint32_t table, std::span<const uint64_t> rows, int row_floats,
                        std::span<float> records, std::span<int64_t> versions,
                        std::vector<uint8_t>& found) override {
    found.assign(rows.size(), 0);
    std::string keys;
    std::vector<rocksdb::Slice> slices;
    std::vector<rocksdb::PinnableSlice> values;
    std::vector<rocksdb::Status> statuses;
    for (size_t begin = 0; begin < rows.size(); begin += kReadChunk) {
      size_t n = std::min(kReadChunk, rows.size() - begin);
      keys.resize(n * kRowKeyBytes);
      slices.clear();
      for (size_t i = 0; i < n; ++i) {
        EncodeRowKey(table, rows[begin + i], keys.data() + i * kRowKeyBytes);
        slices.emplace_back(keys.data() + i * kRowKeyBytes, kRowKeyBytes);
      }
      values.clear();
      values.resize(n);
      statuses.assign(n, rocksdb::Status());
      db_->MultiGet(rocksdb::ReadOptions(), handles_[0], n, slices.data(), values.data(),
                    statuses.data(), /*sorted_input=*/false);
      for (size_t i = 0; i < n; ++i) {
        if (statuses[i].IsNotFound()) continue;
        AUGUR_RETURN_IF_ERROR(FromRocks(statuses[i], "read"));
        size_t j = begin + i;
        auto rec = records.subspan(j * row_floats, row_floats);
        AUGUR_RETURN_IF_ERROR(DecodeRowValue(values[i].ToStringView(), rec, &versions[j]));
        found[j] = 1;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Commit(const StoreBatch& batch) override {
    rocksdb::WriteBatch wb;
    for (const auto& op : batch.ops()) {
      rocksdb::Status s;
      switch (op.kind) {
        case StoreBatch::OpKind::kPutRow: s = wb.Put(handles_[0], op.key, op.value); break;
        case StoreBatch::OpKind::kDeleteTableRows:
          // Row ids are < 2^40, so (table, 2^40) bounds every row of the table.
          s = wb.DeleteRange(handles_[0], RowKey(op.table, 0),
                             RowKey(op.table, uint64_t{1} << 40));
          break;
        case StoreBatch::OpKind::kPutMeta: s = wb.Put(handles_[1], op.key, op.value); break;
        case StoreBatch::OpKind::kDeleteMeta: s = wb.Delete(handles_[1], op.key); break;
      }
      AUGUR_RETURN_IF_ERROR(FromRocks(s, "batch"));
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync_;
    return FromRocks(db_->Write(wo, &wb), "write");
  }

  absl::Status ScanRows(uint32_t table, uint64_t start_row, size_t limit, int row_floats,
                        std::vector<uint64_t>& rows, std::vector<float>& records,
                        std::vector<int64_t>& versions, bool* more) override {
    const std::string prefix = RowKey(table, 0).substr(0, 4);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[0]));
    size_t n = 0;
    for (it->Seek(RowKey(table, start_row)); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      if (n == limit) break;
      uint64_t row = 0;
      for (int i = 0; i < 8; ++i)
        row = (row << 8) | static_cast<uint8_t>(it->key().data()[4 + i]);
      size_t at = records.size();
      records.resize(at + row_floats);
      int64_t version = 0;
      AUGUR_RETURN_IF_ERROR(DecodeRowValue(it->value().ToStringView(),
                                           std::span<float>(records.data() + at, row_floats),
                                           &version));
      rows.push_back(row);
      versions.push_back(version);
      ++n;
    }
    AUGUR_RETURN_IF_ERROR(FromRocks(it->status(), "scan rows"));
    *more = it->Valid() && it->key().starts_with(prefix);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ScanMeta(
      std::string_view prefix) override {
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[1]));
    for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
         it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()));
         it->Next())
      out.emplace_back(it->key().ToString(), it->value().ToString());
    AUGUR_RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
    return out;
  }

  absl::StatusOr<std::string> GetMeta(std::string_view key) override {
    std::string v;
    auto s = db_->Get(rocksdb::ReadOptions(), handles_[1], rocksdb::Slice(key.data(), key.size()),
                      &v);
    if (s.IsNotFound()) return absl::NotFoundError("no meta key " + std::string(key));
    AUGUR_RETURN_IF_ERROR(FromRocks(s, "read meta"));
    return v;
  }

  absl::Status Checkpoint(const std::string& dir, bool replace) override;

  absl::Status FlushAndCompact() override {
    AUGUR_RETURN_IF_ERROR(FromRocks(db_->Flush(rocksdb::FlushOptions(), handles_), "flush"));
    return FromRocks(db_->CompactRange(rocksdb::CompactRangeOptions(), handles_[0], nullptr,
                                       nullptr),
                     "compact");
  }

  StoreStats Stats() const override {
    return {stats_->getTickerCount(rocksdb::BLOCK_CACHE_HIT),
            stats_->getTickerCount(rocksdb::BLOCK_CACHE_MISS)};
  }

 private:
  std::unique_ptr<rocksdb::Env> mem_env_;  // memory profile only; outlives db_
  rocksdb::Env* env_ = nullptr;
  std::shared_ptr<rocksdb::Statistics> stats_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // [0] rows (default), [1] meta
  bool sync_ = false;
  StoreProfile profile_ = StoreProfile::kMemory;
  std::atomic<int> checkpoint_seq_{0};
};

absl::StatusOr<std::unique_ptr<ShardStore>> RocksShardStore::Open(const StoreOptions& o) {
  if (o.path.empty()) return absl::InvalidArgumentError("store path must not be empty");
  auto store = std::make_unique<RocksShardStore>();
  store->profile_ = o.profile;
  store->sync_ = o.sync_writes;
  if (o.profile == StoreProfile::kMemory) {
    store->mem_env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    store->env_ = store->mem_env_.get();
  } else {
    store->env_ = rocksdb::Env::Default();
    std::error_code ec;  // parents too: the Env only creates the last component
    std::filesystem::create_directories(o.path, ec);
    if (ec) return absl::UnavailableError("cannot create data dir " + o.path + ": " + ec.message());
  }
  rocksdb::Env* env = store->env_;
  if (!o.from_checkpoint.empty()) {
    AUGUR_RETURN_IF_ERROR(SeedFromCheckpoint(o.from_checkpoint, env, o.path));
  }
  AUGUR_RETURN_IF_ERROR(FromRocks(env->CreateDirIfMissing(o.path), "create data dir"));
  store->stats_ = rocksdb::CreateDBStatistics();
  rocksdb::Options opt = ProfileOptions(o, env, store->stats_);
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(opt)},
      {kMetaFamily, rocksdb::ColumnFamilyOptions(opt)}};
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(opt), o.path, families,
                                        &store->handles_, &db);
  if (!s.ok()) {
    std::string msg = s.ToString();
    if (msg.find("lock") != std::string::npos || msg.find("LOCK") != std::string::npos)
      return absl::FailedPreconditionError("data dir " + o.path +
                                           " is in use by another process (RocksDB LOCK): " + msg);
    return FromRocks(s, "open " + o.path);
  }
  store->db_.reset(db);
  spdlog::debug("shard store open: profile={} path={}", StoreProfileName(o.profile), o.path);
  return std::unique_ptr<ShardStore>(std::move(store));
}

absl::Status RocksShardStore::Checkpoint(const std::string& dir, bool replace) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (dir.empty()) return absl::InvalidArgumentError("checkpoint dir must not be empty");
  std::string target = dir;
  if (fs::exists(dir, ec)) {
    if (!replace) return absl::FailedPreconditionError("checkpoint dir " + dir + " exists");
    // Only an earlier checkpoint is ever removed: never a directory that holds anything else.
    if (!IsCheckpointDir(dir))
      return absl::FailedPreconditionError("checkpoint dir " + dir +
                                           " exists and is not a checkpoint");
    target = dir + ".new";
    if (fs::exists(target, ec)) {  // a replacement an earlier attempt left half-written
      if (!fs::is_directory(target, ec) || HasSubdirectory(target))
        return absl::FailedPreconditionError(target + " exists and is not a checkpoint");
      fs::remove_all(target, ec);
    }
  }
  fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  // A copy a killed shard left half-written (RocksDB writes <target>.tmp, then renames it; the
  // memory profile copies the same way) would make this one fail: it is never a checkpoint.
  const std::string partial = target + ".tmp";
  if (fs::exists(partial, ec)) {
    if (!fs::is_directory(partial, ec) || HasSubdirectory(partial))
      return absl::FailedPreconditionError(partial + " exists and is not a partial checkpoint");
    fs::remove_all(partial, ec);
  }
  rocksdb::Checkpoint* raw = nullptr;
  AUGUR_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  if (profile_ != StoreProfile::kMemory) {
    AUGUR_RETURN_IF_ERROR(FromRocks(cp->CreateCheckpoint(target), "checkpoint " + target));
  } else {
    // The memory profile's files live in its Env: checkpoint there, then export to disk.
    std::string tmp = "/.augur-checkpoint-" + std::to_string(checkpoint_seq_++);
    AUGUR_RETURN_IF_ERROR(FromRocks(cp->CreateCheckpoint(tmp), "checkpoint"));
    absl::Status copied = CopyFlatDir(env_, tmp, rocksdb::Env::Default(), partial);
    RemoveFlatDir(env_, tmp);
    AUGUR_RETURN_IF_ERROR(copied);
    fs::rename(partial, target, ec);
    if (ec) return absl::UnavailableError("cannot rename " + partial + ": " + ec.message());
  }
  if (target == dir) return absl::OkStatus();
  fs::remove_all(dir, ec);
  if (!ec) fs::rename(target, dir, ec);
  if (ec) return absl::UnavailableError("cannot put checkpoint " + target + " in place of " + dir + ": " + ec.message());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShardStore>> ShardStore::Open(const StoreOptions& options) {
  return RocksShardStore::Open(options);
}

}  // namespace augur::shard
