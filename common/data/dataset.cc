#include "common/data/dataset.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/data/file_util.h"
#include "common/status.h"

namespace augur::data {

SampleRange SliceRange(int64_t batch, int worker, const BatchShape& shape) {
  int64_t begin = batch * shape.global() + worker * shape.batch_size;
  return {begin, begin + shape.batch_size};
}

void Slice::Resize(int64_t b) {
  batch_size = b;
  dense.assign(b * kNumDense, 0.0f);
  labels.assign(b, 0.0f);
  sparse.assign(b * kNumSparse, 0);
}

Dataset::~Dataset() = default;

absl::StatusOr<std::unique_ptr<Dataset>> Dataset::Open(const std::string& dir,
                                                       const DatasetOpenOptions& options) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat(dir, ": no such dataset directory"));
  }
  std::string manifest_path = absl::StrCat(dir, "/", kManifestFile);
  auto text = ReadSmallFile(manifest_path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat(manifest_path, ": missing (not a dataset, or an "
                                            "unfinished one)"));
  }
  auto manifest = Manifest::FromJson(*text);
  if (!manifest.ok()) {
    if (absl::StrContains(manifest.status().message(), "format_version")) {
      return absl::InvalidArgumentError(
          absl::StrCat(manifest_path, ": ", manifest.status().message()));
    }
    return absl::DataLossError(absl::StrCat(manifest_path, ": ", manifest.status().message()));
  }
  std::unique_ptr<Dataset> d(new Dataset());
  d->dir_ = dir;
  d->manifest_ = std::move(*manifest);
  d->sparse_only_ = options.sparse_only;
  d->files_.resize(kNumCriteoFields);
  const Manifest& m = d->manifest_;
  for (int i = 0; i < kNumCriteoFields; ++i) {
    const ColumnFile& c = m.columns[i];
    // Only the canonical names are accepted, so a manifest cannot point outside the directory.
    if (c.file != ColumnFileName(i)) {
      return absl::DataLossError(
          absl::StrCat(manifest_path, ": column ", i, " is ", c.file, ", expected ",
                       ColumnFileName(i)));
    }
    if (options.sparse_only && i <= kNumDense) continue;
    std::string path = absl::StrCat(dir, "/", c.file);
    auto file = MappedFile::Open(path, /*writable=*/false);
    if (!file.ok()) return absl::DataLossError(file.status().message());
    const uint64_t want = static_cast<uint64_t>(m.rows) * (i == 0 ? 1 : 4);
    if ((*file)->size() != want) {
      return absl::DataLossError(absl::StrCat(path, ": ", (*file)->size(), " bytes, manifest says ",
                                              want));
    }
    if (options.verify_checksums && Crc32((*file)->data(), (*file)->size()) != c.crc32) {
      return absl::DataLossError(absl::StrCat(path, ": CRC-32 mismatch"));
    }
    d->files_[i] = std::move(*file);
  }
  for (int f = 0; f < kNumSparse; ++f) {
    if (m.sparse[f].table_rows == 0 || m.sparse[f].table_rows > (uint64_t{1} << 32)) {
      return absl::DataLossError(absl::StrCat(manifest_path, ": ", m.sparse[f].name,
                                              " has table_rows ", m.sparse[f].table_rows));
    }
  }
  return d;
}

int64_t Dataset::num_batches(const BatchShape& shape) const {
  if (shape.batch_size <= 0 || shape.num_workers <= 0) return 0;
  return num_rows() / shape.global();
}

std::span<const uint32_t> Dataset::sparse_column(int f) const {
  const MappedFile* file = files_[1 + kNumDense + f].get();
  if (file == nullptr) return {};  // zero rows map to nothing
  return {reinterpret_cast<const uint32_t*>(file->data()), static_cast<size_t>(num_rows())};
}

std::span<const float> Dataset::dense_column(int j) const {
  const MappedFile* file = files_[1 + j].get();
  if (file == nullptr) return {};
  return {reinterpret_cast<const float*>(file->data()), static_cast<size_t>(num_rows())};
}

std::span<const uint8_t> Dataset::labels() const {
  const MappedFile* file = files_[0].get();
  if (file == nullptr) return {};
  return {file->data(), static_cast<size_t>(num_rows())};
}

absl::Status Dataset::CheckBatch(int64_t batch, int worker, const BatchShape& shape) const {
  if (shape.batch_size <= 0 || shape.num_workers <= 0 || worker < 0 ||
      worker >= shape.num_workers) {
    return absl::InvalidArgumentError(absl::StrCat("bad slice: worker ", worker, " of ",
                                                   shape.num_workers, ", batch size ",
                                                   shape.batch_size));
  }
  if (batch < 0 || batch >= num_batches(shape)) {
    return absl::OutOfRangeError(absl::StrCat("batch ", batch, " is past the last full batch (",
                                              num_batches(shape), " batches)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SparseSliceView> Dataset::SparseSlice(int64_t batch, int worker,
                                                     const BatchShape& shape) const {
  AUGUR_RETURN_IF_ERROR(CheckBatch(batch, worker, shape));
  SampleRange r = SliceRange(batch, worker, shape);
  SparseSliceView v;
  for (int f = 0; f < kNumSparse; ++f) v[f] = sparse_column(f).subspan(r.begin, r.size());
  return v;
}

absl::Status Dataset::FillSlice(int64_t batch, int worker, const BatchShape& shape,
                                SliceSpans out) const {
  AUGUR_RETURN_IF_ERROR(CheckBatch(batch, worker, shape));
  if (sparse_only_) return absl::FailedPreconditionError("dataset was opened sparse_only");
  const int64_t b = shape.batch_size;
  if (static_cast<int64_t>(out.dense.size()) < b * kNumDense ||
      static_cast<int64_t>(out.labels.size()) < b ||
      static_cast<int64_t>(out.sparse.size()) < b * kNumSparse) {
    return absl::InvalidArgumentError("slice buffers are smaller than the batch");
  }
  SampleRange r = SliceRange(batch, worker, shape);
  auto lab = labels().subspan(r.begin, b);
  for (int64_t s = 0; s < b; ++s) out.labels[s] = static_cast<float>(lab[s]);
  for (int j = 0; j < kNumDense; ++j) {
    const float* col = dense_column(j).data() + r.begin;
    for (int64_t s = 0; s < b; ++s) out.dense[s * kNumDense + j] = col[s];
  }
  for (int f = 0; f < kNumSparse; ++f) {
    std::memcpy(out.sparse.data() + f * b, sparse_column(f).data() + r.begin, b * sizeof(uint32_t));
  }
  return absl::OkStatus();
}

void Dataset::ReleaseSparseBefore(int64_t end_row) const {
  end_row = std::clamp<int64_t>(end_row, 0, num_rows());
  for (int f = 0; f < kNumSparse; ++f) {
    if (files_[1 + kNumDense + f]) files_[1 + kNumDense + f]->Release(0, end_row * 4);
  }
}

}  // namespace augur::data
