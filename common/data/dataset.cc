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
  const Manifest& m = d->manifest_;
  d->files_.resize(m.columns.size());
  d->offsets_file_.assign(m.sparse.size(), -1);
  const int first_sparse = 1 + m.num_dense();
  int next_offsets = first_sparse + m.num_sparse();
  for (int f = 0; f < m.num_sparse(); ++f) {
    if (m.sparse[f].multi_hot) d->offsets_file_[f] = next_offsets++;
  }
  // Column files were checked against the layout by Manifest::FromJson (canonical names only).
  for (size_t i = 0; i < m.columns.size(); ++i) {
    const ColumnFile& c = m.columns[i];
    const bool sparse_part = static_cast<int>(i) >= first_sparse;
    if (options.sparse_only && !sparse_part) continue;
    uint64_t want = static_cast<uint64_t>(m.rows) * (i == 0 ? 1 : 4);
    if (sparse_part && static_cast<int>(i) < first_sparse + m.num_sparse()) {
      want = m.sparse[i - first_sparse].ids * 4;
    } else if (sparse_part) {
      want = (static_cast<uint64_t>(m.rows) + 1) * 8;
    }
    std::string path = absl::StrCat(dir, "/", c.file);
    auto file = MappedFile::Open(path, /*writable=*/false);
    if (!file.ok()) return absl::DataLossError(file.status().message());
    if ((*file)->size() != want) {
      return absl::DataLossError(absl::StrCat(path, ": ", (*file)->size(), " bytes, manifest says ",
                                              want));
    }
    if (options.verify_checksums && Crc32((*file)->data(), (*file)->size()) != c.crc32) {
      return absl::DataLossError(absl::StrCat(path, ": CRC-32 mismatch"));
    }
    d->files_[i] = std::move(*file);
  }
  for (int f = 0; f < m.num_sparse(); ++f) {
    if (m.sparse[f].table_rows == 0 || m.sparse[f].table_rows > (uint64_t{1} << 32)) {
      return absl::DataLossError(absl::StrCat(manifest_path, ": ", m.sparse[f].name,
                                              " has table_rows ", m.sparse[f].table_rows));
    }
    // The two ends of the offsets; the ones between are checked where a slice reads them.
    auto off = d->offsets_column(f);
    if (!off.empty() && (off.front() != 0 || off.back() != m.sparse[f].ids)) {
      return absl::DataLossError(absl::StrCat(dir, "/", OffsetsFileName(m.sparse[f].name),
                                              ": offsets must run from 0 to ", m.sparse[f].ids));
    }
  }
  return d;
}

int64_t Dataset::num_batches(const BatchShape& shape) const {
  if (shape.batch_size <= 0 || shape.num_workers <= 0) return 0;
  return num_rows() / shape.global();
}

std::span<const uint32_t> Dataset::sparse_column(int f) const {
  const MappedFile* file = files_[1 + num_dense() + f].get();
  if (file == nullptr) return {};  // zero rows map to nothing
  return {reinterpret_cast<const uint32_t*>(file->data()),
          static_cast<size_t>(manifest_.sparse[f].ids)};
}

std::span<const uint64_t> Dataset::offsets_column(int f) const {
  if (offsets_file_[f] < 0 || files_[offsets_file_[f]] == nullptr) return {};
  const MappedFile* file = files_[offsets_file_[f]].get();
  return {reinterpret_cast<const uint64_t*>(file->data()), static_cast<size_t>(num_rows()) + 1};
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

absl::StatusOr<std::span<const uint32_t>> Dataset::FeatureIds(int f, SampleRange r) const {
  auto col = sparse_column(f);
  auto off = offsets_column(f);
  if (off.empty()) return col.subspan(r.begin, r.size());
  for (int64_t s = r.begin; s < r.end; ++s) {
    if (off[s + 1] < off[s] || off[s + 1] > col.size()) {
      return absl::DataLossError(absl::StrCat(dir_, "/", OffsetsFileName(manifest_.sparse[f].name),
                                              ": offsets of sample ", s, " decrease or run past ",
                                              col.size(), " ids"));
    }
  }
  return col.subspan(off[r.begin], off[r.end] - off[r.begin]);
}

absl::StatusOr<SparseSliceView> Dataset::SparseSlice(int64_t batch, int worker,
                                                     const BatchShape& shape) const {
  AUGUR_RETURN_IF_ERROR(CheckBatch(batch, worker, shape));
  SampleRange r = SliceRange(batch, worker, shape);
  SparseSliceView v(num_sparse());
  for (int f = 0; f < num_sparse(); ++f) {
    AUGUR_ASSIGN_OR_RETURN(v[f], FeatureIds(f, r));
  }
  return v;
}

absl::Status Dataset::FillSlice(int64_t batch, int worker, const BatchShape& shape,
                                Slice* out) const {
  AUGUR_RETURN_IF_ERROR(CheckBatch(batch, worker, shape));
  if (sparse_only_) return absl::FailedPreconditionError("dataset was opened sparse_only");
  const int64_t b = shape.batch_size;
  const int nd = num_dense(), ns = num_sparse();
  SampleRange r = SliceRange(batch, worker, shape);
  out->batch_size = b;
  out->num_sparse = ns;
  out->labels.resize(b);
  out->dense.resize(b * nd);
  out->offsets.resize(ns * (b + 1));
  auto lab = labels().subspan(r.begin, b);
  for (int64_t s = 0; s < b; ++s) out->labels[s] = static_cast<float>(lab[s]);
  for (int j = 0; j < nd; ++j) {
    const float* col = dense_column(j).data() + r.begin;
    for (int64_t s = 0; s < b; ++s) out->dense[s * nd + j] = col[s];
  }
  out->sparse.clear();
  for (int f = 0; f < ns; ++f) {
    AUGUR_ASSIGN_OR_RETURN(auto ids, FeatureIds(f, r));
    const int64_t base = static_cast<int64_t>(out->sparse.size());
    int64_t* o = out->offsets.data() + f * (b + 1);
    auto off = offsets_column(f);
    if (off.empty()) {
      for (int64_t s = 0; s <= b; ++s) o[s] = base + s;
    } else {
      for (int64_t s = 0; s <= b; ++s) {
        o[s] = base + static_cast<int64_t>(off[r.begin + s] - off[r.begin]);
      }
    }
    out->sparse.insert(out->sparse.end(), ids.begin(), ids.end());
  }
  return absl::OkStatus();
}

void Dataset::ReleaseSparseBefore(int64_t end_row) const {
  end_row = std::clamp<int64_t>(end_row, 0, num_rows());
  for (int f = 0; f < num_sparse(); ++f) {
    const MappedFile* ids = files_[1 + num_dense() + f].get();
    if (ids == nullptr) continue;
    auto off = offsets_column(f);
    if (off.empty()) {
      ids->Release(0, end_row * 4);
    } else {
      files_[offsets_file_[f]]->Release(0, end_row * 8);
      // Offsets were checked for this prefix when its slices were read; clamp regardless.
      ids->Release(0, std::min<uint64_t>(off[end_row], manifest_.sparse[f].ids) * 4);
    }
  }
}

}  // namespace augur::data
