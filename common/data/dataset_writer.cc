// The writer buffers rows in column form (64K rows), appends each column to its own file with a
// running CRC, and leaves the work that needs the whole column (frequency vocabulary, distinct
// counts) to Finish, which runs over the written files (column_finish.cc).
#include "common/data/dataset_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/data/column_finish.h"
#include "common/data/file_util.h"
#include "common/status.h"

namespace augur::data {
namespace fs = std::filesystem;

namespace {
constexpr size_t kBlockRows = 1 << 16;
constexpr int kDenseLutSize = 4096;

const std::array<float, kDenseLutSize>& DenseLut() {
  static const std::array<float, kDenseLutSize> lut = [] {
    std::array<float, kDenseLutSize> t{};
    for (int i = 0; i < kDenseLutSize; ++i) t[i] = static_cast<float>(std::log1p(double(i)));
    return t;
  }();
  return lut;
}
}  // namespace

float DenseTransform(int64_t x) {
  if (x <= 0) return 0.0f;
  if (x < kDenseLutSize) return DenseLut()[x];
  return static_cast<float>(std::log1p(static_cast<double>(x)));
}

void ColumnBlock::Resize(size_t n) {
  labels.resize(n);
  for (auto& d : dense) d.resize(n);
  for (auto& s : sparse) s.resize(n);
}

namespace {

class DatasetWriterImpl : public DatasetWriter {
 public:
  DatasetWriterImpl(std::string out_dir, std::string tmp_dir, DatasetWriterOptions options)
      : out_dir_(std::move(out_dir)), tmp_dir_(std::move(tmp_dir)), options_(std::move(options)) {
    block_.Resize(kBlockRows);
    crc_.fill(0);
    fds_.fill(-1);
  }
  ~DatasetWriterImpl() override {
    CloseFiles();
    if (!finished_) {
      std::error_code ec;
      fs::remove_all(tmp_dir_, ec);
    }
  }

  absl::Status Init() {
    for (int i = 0; i < kNumCriteoFields; ++i) {
      std::string path = Path(ColumnFileName(i));
      fds_[i] = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fds_[i] < 0) return ErrnoToStatus(errno, absl::StrCat("create ", path));
    }
    if (!options_.vocab_from.empty()) {
      AUGUR_ASSIGN_OR_RETURN(vocab_, LoadVocabulary(options_.vocab_from));
      options_.transform = SparseTransform::kVocab;
      options_.min_count = vocab_.min_count;
    } else if (options_.transform == SparseTransform::kVocab) {
      counting_ = true;
    }
    return absl::OkStatus();
  }

  absl::Status AppendRow(const CriteoRow& row) override {
    const size_t n = pending_;
    block_.labels[n] = row.label;
    for (int j = 0; j < kNumDense; ++j) block_.dense[j][n] = DenseTransform(row.dense[j]);
    for (int f = 0; f < kNumSparse; ++f) block_.sparse[f][n] = MapId(f, row.sparse[f]);
    if (++pending_ == kBlockRows) return Flush();
    return absl::OkStatus();
  }

  absl::Status AppendBlock(const ColumnBlock& block) override {
    if (options_.transform != SparseTransform::kSynthetic) {
      return absl::FailedPreconditionError("AppendBlock needs a kSynthetic writer");
    }
    AUGUR_RETURN_IF_ERROR(Flush());
    const size_t n = block.size();
    for (int f = 0; f < kNumSparse; ++f) {
      if (block.sparse[f].size() != n) return absl::InvalidArgumentError("ragged ColumnBlock");
      for (uint32_t id : block.sparse[f]) {
        if (id >= options_.table_rows[f]) {
          return absl::InvalidArgumentError(absl::StrCat(CriteoFieldName(1 + kNumDense + f),
                                                         ": id ", id, " >= table_rows"));
        }
      }
    }
    AUGUR_RETURN_IF_ERROR(WriteColumn(0, block.labels.data(), n));
    for (int j = 0; j < kNumDense; ++j) {
      if (block.dense[j].size() != n) return absl::InvalidArgumentError("ragged ColumnBlock");
      AUGUR_RETURN_IF_ERROR(WriteColumn(1 + j, block.dense[j].data(), n * 4));
    }
    for (int f = 0; f < kNumSparse; ++f) {
      AUGUR_RETURN_IF_ERROR(WriteColumn(1 + kNumDense + f, block.sparse[f].data(), n * 4));
    }
    rows_ += static_cast<int64_t>(n);
    return absl::OkStatus();
  }

  void SetSource(const std::string& key, const std::string& value) override {
    options_.source[key] = value;
  }
  int64_t rows() const override { return rows_ + static_cast<int64_t>(pending_); }

  absl::StatusOr<Manifest> Finish() override {
    AUGUR_RETURN_IF_ERROR(Flush());
    CloseFiles();
    Manifest m;
    m.rows = rows_;
    m.sparse_transform = options_.transform;
    m.max_rows = options_.max_rows;
    m.min_count = options_.min_count;
    m.source = options_.source;
    for (int i = 0; i < kNumCriteoFields; ++i) {
      ColumnFile c;
      c.name = std::string(CriteoFieldName(i));
      c.file = ColumnFileName(i);
      c.dtype = i == 0 ? "uint8" : (i <= kNumDense ? "float32" : "uint32");
      c.bytes = static_cast<uint64_t>(rows_) * (i == 0 ? 1 : 4);
      c.crc32 = crc_[i];
      m.columns.push_back(std::move(c));
    }
    for (int f = 0; f < kNumSparse; ++f) {
      m.sparse[f].name = std::string(CriteoFieldName(1 + kNumDense + f));
      m.sparse[f].table_rows = TableRows(f);
    }
    if (counting_) {
      AUGUR_RETURN_IF_ERROR(BuildAndApplyVocabulary(tmp_dir_, counts_, options_.min_count, &m));
    } else if (options_.transform == SparseTransform::kVocab) {
      AUGUR_RETURN_IF_ERROR(WriteVocabulary(tmp_dir_, vocab_, &m));
    }
    AUGUR_RETURN_IF_ERROR(CountCardinalities(tmp_dir_, &m));
    for (int i = 0; i < kNumCriteoFields; ++i) AUGUR_RETURN_IF_ERROR(FsyncPath(Path(m.columns[i].file)));
    AUGUR_RETURN_IF_ERROR(WriteFileSynced(Path(kManifestFile), m.ToJson()));
    AUGUR_RETURN_IF_ERROR(FsyncPath(tmp_dir_));
    if (rename(tmp_dir_.c_str(), out_dir_.c_str()) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("rename ", tmp_dir_, " to ", out_dir_));
    }
    finished_ = true;
    AUGUR_RETURN_IF_ERROR(FsyncPath(fs::path(out_dir_).parent_path().string()));
    return m;
  }

 private:
  std::string Path(const std::string& rel) const { return tmp_dir_ + "/" + rel; }

  uint64_t TableRows(int f) const {
    switch (options_.transform) {
      case SparseTransform::kHash: return uint64_t{1} << 32;
      case SparseTransform::kMod: return options_.max_rows;
      case SparseTransform::kVocab: return 0;  // set once the vocabulary is known
      case SparseTransform::kSynthetic: return options_.table_rows[f];
    }
    return 0;
  }

  uint32_t MapId(int f, uint32_t raw) {
    switch (options_.transform) {
      case SparseTransform::kMod: return static_cast<uint32_t>(raw % options_.max_rows);
      case SparseTransform::kVocab:
        if (counting_) {
          ++counts_[f][raw];
          return raw;  // remapped in Finish
        } else {
          auto it = vocab_.index[f].find(raw);
          return it == vocab_.index[f].end() ? 0 : it->second;
        }
      default: return raw;
    }
  }

  absl::Status WriteColumn(int i, const void* data, size_t bytes) {
    crc_[i] = Crc32(data, bytes, crc_[i]);
    return WriteAll(fds_[i], data, bytes, Path(ColumnFileName(i)));
  }

  absl::Status Flush() {
    const size_t n = pending_;
    if (n == 0) return absl::OkStatus();
    pending_ = 0;
    AUGUR_RETURN_IF_ERROR(WriteColumn(0, block_.labels.data(), n));
    for (int j = 0; j < kNumDense; ++j) {
      AUGUR_RETURN_IF_ERROR(WriteColumn(1 + j, block_.dense[j].data(), n * 4));
    }
    for (int f = 0; f < kNumSparse; ++f) {
      AUGUR_RETURN_IF_ERROR(WriteColumn(1 + kNumDense + f, block_.sparse[f].data(), n * 4));
    }
    rows_ += static_cast<int64_t>(n);
    return absl::OkStatus();
  }

  void CloseFiles() {
    for (int& fd : fds_) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
  }

  std::string out_dir_, tmp_dir_;
  DatasetWriterOptions options_;
  std::array<int, kNumCriteoFields> fds_;
  std::array<uint32_t, kNumCriteoFields> crc_;
  ColumnBlock block_;
  size_t pending_ = 0;
  int64_t rows_ = 0;
  bool finished_ = false;
  bool counting_ = false;
  std::array<absl::flat_hash_map<uint32_t, uint32_t>, kNumSparse> counts_;
  Vocabulary vocab_;
};

absl::Status ValidateOptions(const DatasetWriterOptions& o) {
  if (o.transform == SparseTransform::kMod && (o.max_rows == 0 || o.max_rows > (uint64_t{1} << 32))) {
    return absl::InvalidArgumentError("--max-rows must be in 1..2^32");
  }
  if (o.transform == SparseTransform::kVocab && o.vocab_from.empty() && o.min_count == 0) {
    return absl::InvalidArgumentError("--min-count must be at least 1");
  }
  if (o.transform == SparseTransform::kSynthetic) {
    for (uint64_t r : o.table_rows) {
      if (r == 0 || r > (uint64_t{1} << 32)) {
        return absl::InvalidArgumentError("synthetic table_rows must be in 1..2^32");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DatasetWriter>> DatasetWriter::Create(const std::string& out_dir,
                                                                     DatasetWriterOptions options) {
  AUGUR_RETURN_IF_ERROR(ValidateOptions(options));
  fs::path target = fs::absolute(fs::path(out_dir)).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  std::error_code ec;
  if (fs::exists(target, ec) && !(fs::is_directory(target, ec) && fs::is_empty(target, ec))) {
    return absl::AlreadyExistsError(
        absl::StrCat(out_dir, " already exists and is not an empty directory"));
  }
  fs::create_directories(target.parent_path(), ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("create ", target.parent_path().string(), ": ",
                                            ec.message()));
  }
  static std::atomic<int> counter{0};
  std::string tmp = (target.parent_path() /
                     absl::StrCat(".", target.filename().string(), ".tmp-", getpid(), "-",
                                  counter++, "-", std::random_device{}()))
                        .string();
  if (!fs::create_directory(tmp, ec) || ec) {
    return absl::InternalError(absl::StrCat("create ", tmp, ": ", ec.message()));
  }
  auto w = std::make_unique<DatasetWriterImpl>(target.string(), tmp, std::move(options));
  AUGUR_RETURN_IF_ERROR(w->Init());
  return std::unique_ptr<DatasetWriter>(std::move(w));
}

}  // namespace augur::data
