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

void ColumnBlock::Resize(size_t n, const FeatureLayout& layout) {
  labels.resize(n);
  dense.resize(layout.dense.size());
  for (auto& d : dense) d.resize(n);
  sparse.resize(layout.sparse.size());
  lengths.resize(layout.sparse.size());
  for (size_t f = 0; f < layout.sparse.size(); ++f) {
    if (layout.sparse[f].multi_hot) {
      sparse[f].clear();
      lengths[f].resize(n);
    } else {
      sparse[f].resize(n);
      lengths[f].clear();
    }
  }
}

namespace {

class DatasetWriterImpl : public DatasetWriter {
 public:
  DatasetWriterImpl(std::string out_dir, std::string tmp_dir, DatasetWriterOptions options)
      : out_dir_(std::move(out_dir)),
        tmp_dir_(std::move(tmp_dir)),
        options_(std::move(options)),
        layout_(options_.layout),
        nd_(static_cast<int>(layout_.dense.size())),
        ns_(static_cast<int>(layout_.sparse.size())),
        columns_(ExpectedColumns(layout_)) {
    block_.Resize(kBlockRows, layout_);
    crc_.assign(columns_.size(), 0);
    fds_.assign(columns_.size(), -1);
    ids_.assign(ns_, 0);
    max_bag_.assign(ns_, 0);
    offsets_column_.assign(ns_, -1);
    int next = 1 + nd_ + ns_;
    for (int f = 0; f < ns_; ++f) {
      if (layout_.sparse[f].multi_hot) offsets_column_[f] = next++;
    }
    counts_.resize(ns_);
    criteo_ = layout_.dense == FeatureLayout::Criteo().dense && ns_ == kNumSparse;
    for (int f = 0; f < ns_ && criteo_; ++f) {
      criteo_ = !layout_.sparse[f].multi_hot && layout_.sparse[f].name == FeatureLayout::Criteo().sparse[f].name;
    }
  }
  ~DatasetWriterImpl() override {
    CloseFiles();
    if (!finished_) {
      std::error_code ec;
      fs::remove_all(tmp_dir_, ec);
    }
  }

  absl::Status Init() {
    for (size_t i = 0; i < columns_.size(); ++i) {
      std::string path = Path(columns_[i].file);
      fds_[i] = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fds_[i] < 0) return ErrnoToStatus(errno, absl::StrCat("create ", path));
    }
    const uint64_t zero = 0;  // every offsets file starts with o[0] = 0
    for (int f = 0; f < ns_; ++f) {
      if (offsets_column_[f] >= 0) AUGUR_RETURN_IF_ERROR(WriteColumn(offsets_column_[f], &zero, 8));
    }
    if (!options_.vocab_from.empty()) {
      AUGUR_ASSIGN_OR_RETURN(vocab_, LoadVocabulary(options_.vocab_from));
      if (vocab_.names.size() != static_cast<size_t>(ns_)) {
        return absl::InvalidArgumentError(absl::StrCat(options_.vocab_from, " has ", vocab_.names.size(),
                                                       " sparse features, this dataset ", ns_));
      }
      for (int f = 0; f < ns_; ++f) {
        if (vocab_.names[f] != layout_.sparse[f].name) {
          return absl::InvalidArgumentError(absl::StrCat(options_.vocab_from, ": sparse feature ", f,
                                                         " is ", vocab_.names[f], ", here ",
                                                         layout_.sparse[f].name));
        }
      }
      options_.transform = SparseTransform::kVocab;
      options_.min_count = vocab_.min_count;
    } else if (options_.transform == SparseTransform::kVocab) {
      counting_ = true;
    }
    return absl::OkStatus();
  }

  absl::Status AppendRow(const CriteoRow& row) override {
    if (!criteo_) return absl::FailedPreconditionError("AppendRow needs the Criteo layout");
    const size_t n = pending_;
    block_.labels[n] = row.label;
    for (int j = 0; j < kNumDense; ++j) block_.dense[j][n] = DenseTransform(row.dense[j]);
    for (int f = 0; f < kNumSparse; ++f) block_.sparse[f][n] = MapId(f, row.sparse[f]);
    if (++pending_ == kBlockRows) return Flush();
    return absl::OkStatus();
  }

  absl::Status AppendRaw(const RawRow& row) override {
    if (row.dense.size() != static_cast<size_t>(nd_) || row.lengths.size() != static_cast<size_t>(ns_)) {
      return absl::InvalidArgumentError(absl::StrCat("row has ", row.dense.size(), " dense and ",
                                                     row.lengths.size(), " sparse features, the layout ",
                                                     nd_, " and ", ns_));
    }
    size_t total = 0;
    for (int f = 0; f < ns_; ++f) {
      if (!layout_.sparse[f].multi_hot && row.lengths[f] != 1) {
        return absl::InvalidArgumentError(absl::StrCat(layout_.sparse[f].name, ": one-hot feature with ",
                                                       row.lengths[f], " values"));
      }
      total += row.lengths[f];
    }
    if (total != row.ids.size()) return absl::InvalidArgumentError("row lengths do not add up to its ids");
    const size_t n = pending_;
    block_.labels[n] = row.label;
    for (int j = 0; j < nd_; ++j) block_.dense[j][n] = row.dense[j];
    size_t at = 0;
    for (int f = 0; f < ns_; ++f) {
      if (layout_.sparse[f].multi_hot) {
        block_.lengths[f][n] = row.lengths[f];
        for (uint32_t k = 0; k < row.lengths[f]; ++k) block_.sparse[f].push_back(MapId(f, row.ids[at + k]));
      } else {
        block_.sparse[f][n] = MapId(f, row.ids[at]);
      }
      at += row.lengths[f];
    }
    if (++pending_ == kBlockRows) return Flush();
    return absl::OkStatus();
  }

  absl::Status AppendBlock(const ColumnBlock& block) override {
    if (options_.transform != SparseTransform::kSynthetic) {
      return absl::FailedPreconditionError("AppendBlock needs a kSynthetic writer");
    }
    AUGUR_RETURN_IF_ERROR(Flush());
    const size_t n = block.size();
    if (block.dense.size() != static_cast<size_t>(nd_) || block.sparse.size() != static_cast<size_t>(ns_) ||
        block.lengths.size() != static_cast<size_t>(ns_)) {
      return absl::InvalidArgumentError("ColumnBlock does not follow the layout");
    }
    for (int j = 0; j < nd_; ++j) {
      if (block.dense[j].size() != n) return absl::InvalidArgumentError("ragged ColumnBlock");
    }
    for (int f = 0; f < ns_; ++f) {
      size_t want = n;
      if (layout_.sparse[f].multi_hot) {
        if (block.lengths[f].size() != n) return absl::InvalidArgumentError("ragged ColumnBlock");
        want = 0;
        for (uint32_t l : block.lengths[f]) want += l;
      }
      if (block.sparse[f].size() != want) return absl::InvalidArgumentError("ragged ColumnBlock");
      for (uint32_t id : block.sparse[f]) {
        if (id >= options_.table_rows[f]) {
          return absl::InvalidArgumentError(absl::StrCat(layout_.sparse[f].name, ": id ", id,
                                                         " >= table_rows"));
        }
      }
    }
    return WriteBlock(block, n);
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
    m.dense_transform = options_.dense_transform;
    m.sparse_transform = options_.transform;
    m.max_rows = options_.max_rows;
    m.min_count = options_.min_count;
    m.source = options_.source;
    m.dense = layout_.dense;
    m.columns = columns_;
    for (size_t i = 0; i < columns_.size(); ++i) {
      m.columns[i].bytes = static_cast<uint64_t>(rows_) * (i == 0 ? 1 : 4);
      m.columns[i].crc32 = crc_[i];
    }
    for (int f = 0; f < ns_; ++f) {
      SparseFeature sf;
      sf.name = layout_.sparse[f].name;
      sf.multi_hot = layout_.sparse[f].multi_hot;
      sf.pooling = layout_.sparse[f].pooling;
      sf.table_rows = TableRows(f);
      sf.ids = sf.multi_hot ? ids_[f] : static_cast<uint64_t>(rows_);
      sf.max_bag = sf.multi_hot ? max_bag_[f] : 1;
      m.columns[1 + nd_ + f].bytes = sf.ids * 4;
      if (sf.multi_hot) m.columns[offsets_column_[f]].bytes = (static_cast<uint64_t>(rows_) + 1) * 8;
      m.sparse.push_back(std::move(sf));
    }
    if (counting_) {
      AUGUR_RETURN_IF_ERROR(BuildAndApplyVocabulary(tmp_dir_, counts_, options_.min_count, &m));
    } else if (options_.transform == SparseTransform::kVocab) {
      AUGUR_RETURN_IF_ERROR(WriteVocabulary(tmp_dir_, vocab_, &m));
    }
    AUGUR_RETURN_IF_ERROR(CountCardinalities(tmp_dir_, &m));
    for (const auto& c : m.columns) AUGUR_RETURN_IF_ERROR(FsyncPath(Path(c.file)));
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
    return WriteAll(fds_[i], data, bytes, Path(columns_[i].file));
  }

  // Writes the first n rows of `b` (every id of its multi-hot features).
  absl::Status WriteBlock(const ColumnBlock& b, size_t n) {
    AUGUR_RETURN_IF_ERROR(WriteColumn(0, b.labels.data(), n));
    for (int j = 0; j < nd_; ++j) AUGUR_RETURN_IF_ERROR(WriteColumn(1 + j, b.dense[j].data(), n * 4));
    for (int f = 0; f < ns_; ++f) {
      if (offsets_column_[f] < 0) {
        AUGUR_RETURN_IF_ERROR(WriteColumn(1 + nd_ + f, b.sparse[f].data(), n * 4));
        continue;
      }
      AUGUR_RETURN_IF_ERROR(WriteColumn(1 + nd_ + f, b.sparse[f].data(), b.sparse[f].size() * 4));
      offsets_scratch_.resize(n);
      for (size_t s = 0; s < n; ++s) {
        ids_[f] += b.lengths[f][s];
        max_bag_[f] = std::max<uint64_t>(max_bag_[f], b.lengths[f][s]);
        offsets_scratch_[s] = ids_[f];
      }
      AUGUR_RETURN_IF_ERROR(WriteColumn(offsets_column_[f], offsets_scratch_.data(), n * 8));
    }
    rows_ += static_cast<int64_t>(n);
    return absl::OkStatus();
  }

  absl::Status Flush() {
    const size_t n = pending_;
    if (n == 0) return absl::OkStatus();
    pending_ = 0;
    absl::Status s = WriteBlock(block_, n);
    for (int f = 0; f < ns_; ++f) {
      if (offsets_column_[f] >= 0) block_.sparse[f].clear();
    }
    return s;
  }

  void CloseFiles() {
    for (int& fd : fds_) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
  }

  std::string out_dir_, tmp_dir_;
  DatasetWriterOptions options_;
  const FeatureLayout layout_;
  const int nd_, ns_;
  const std::vector<ColumnFile> columns_;
  bool criteo_ = false;  // AppendRow's fast path applies
  std::vector<int> fds_;
  std::vector<uint32_t> crc_;
  std::vector<int> offsets_column_;  // per sparse feature: column index, -1 for one-hot
  std::vector<uint64_t> ids_, max_bag_;  // per multi-hot feature: ids written, largest bag
  std::vector<uint64_t> offsets_scratch_;
  ColumnBlock block_;
  size_t pending_ = 0;
  int64_t rows_ = 0;
  bool finished_ = false;
  bool counting_ = false;
  std::vector<absl::flat_hash_map<uint32_t, uint32_t>> counts_;
  Vocabulary vocab_;
};

absl::Status ValidateOptions(const DatasetWriterOptions& o) {
  if (o.transform == SparseTransform::kMod && (o.max_rows == 0 || o.max_rows > (uint64_t{1} << 32))) {
    return absl::InvalidArgumentError("--max-rows must be in 1..2^32");
  }
  if (o.transform == SparseTransform::kVocab && o.vocab_from.empty() && o.min_count == 0) {
    return absl::InvalidArgumentError("--min-count must be at least 1");
  }
  AUGUR_RETURN_IF_ERROR(o.layout.Validate());
  if (o.transform == SparseTransform::kSynthetic) {
    if (o.table_rows.size() != o.layout.sparse.size()) {
      return absl::InvalidArgumentError("synthetic table_rows must give every sparse feature's size");
    }
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
