#include "common/data/column_finish.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <atomic>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/data/file_util.h"
#include "common/status.h"

namespace augur::data {
namespace {

// Runs fn(0..n-1) on up to hardware_concurrency threads; returns the first error.
absl::Status ParallelFor(int n, const std::function<absl::Status(int)>& fn) {
  std::atomic<int> next{0};
  std::mutex mu;
  absl::Status first;
  auto work = [&] {
    for (int i = next++; i < n; i = next++) {
      absl::Status s = fn(i);
      if (!s.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (first.ok()) first = s;
      }
    }
  };
  int threads = std::max(1, std::min<int>(n, static_cast<int>(std::thread::hardware_concurrency())));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return first;
}

std::string SparsePath(const std::string& dir, const Manifest& m, int f) {
  return dir + "/" + SparseFileName(m.sparse[f].name);
}

absl::Status WriteVocabFiles(const std::string& dir, const Vocabulary& v, Manifest* m) {
  if (mkdir((dir + "/vocab").c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, absl::StrCat("mkdir ", dir, "/vocab"));
  }
  for (int f = 0; f < m->num_sparse(); ++f) {
    const auto& s = v.sorted[f];
    std::string path = dir + "/" + VocabFileName(m->sparse[f].name);
    AUGUR_RETURN_IF_ERROR(WriteFileSynced(
        path, std::string(reinterpret_cast<const char*>(s.data()), s.size() * sizeof(uint32_t))));
    m->sparse[f].table_rows = s.size() + 1;
    m->sparse[f].has_vocab = true;
  }
  m->min_count = v.min_count;
  return FsyncPath(dir + "/vocab");
}

}  // namespace

absl::StatusOr<Vocabulary> LoadVocabulary(const std::string& dir) {
  AUGUR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(dir + "/" + kManifestFile));
  auto m = Manifest::FromJson(text);
  if (!m.ok()) {
    return absl::DataLossError(absl::StrCat(dir, "/", kManifestFile, ": ", m.status().message()));
  }
  if (m->sparse_transform != SparseTransform::kVocab) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " has no vocabulary (it was not prepared with --min-count)"));
  }
  Vocabulary v;
  v.min_count = m->min_count;
  const int ns = m->num_sparse();
  v.sorted.resize(ns);
  v.index.resize(ns);
  for (int f = 0; f < ns; ++f) {
    v.names.push_back(m->sparse[f].name);
    std::string path = dir + "/" + VocabFileName(m->sparse[f].name);
    AUGUR_ASSIGN_OR_RETURN(std::string bytes, ReadSmallFile(path));
    if (bytes.size() % 4 != 0 || bytes.size() / 4 + 1 != m->sparse[f].table_rows) {
      return absl::DataLossError(absl::StrCat(path, ": size does not match the manifest"));
    }
    auto& s = v.sorted[f];
    s.resize(bytes.size() / 4);
    std::memcpy(s.data(), bytes.data(), bytes.size());
    if (!std::is_sorted(s.begin(), s.end()) || std::adjacent_find(s.begin(), s.end()) != s.end()) {
      return absl::DataLossError(absl::StrCat(path, ": values are not strictly ascending"));
    }
    v.index[f].reserve(s.size());
    for (size_t j = 0; j < s.size(); ++j) v.index[f][s[j]] = static_cast<uint32_t>(j + 1);
  }
  return v;
}

absl::Status WriteVocabulary(const std::string& dir, const Vocabulary& vocab, Manifest* m) {
  return WriteVocabFiles(dir, vocab, m);
}

absl::Status BuildAndApplyVocabulary(
    const std::string& dir,
    const std::vector<absl::flat_hash_map<uint32_t, uint32_t>>& counts,
    uint64_t min_count, Manifest* m) {
  Vocabulary v;
  v.min_count = min_count;
  const int ns = m->num_sparse();
  v.sorted.resize(ns);
  for (int f = 0; f < ns; ++f) {
    for (const auto& [value, count] : counts[f]) {
      if (count >= min_count) v.sorted[f].push_back(value);
    }
    std::sort(v.sorted[f].begin(), v.sorted[f].end());
  }
  AUGUR_RETURN_IF_ERROR(WriteVocabFiles(dir, v, m));
  return ParallelFor(ns, [&](int f) -> absl::Status {
    absl::flat_hash_map<uint32_t, uint32_t> index;
    index.reserve(v.sorted[f].size());
    for (size_t j = 0; j < v.sorted[f].size(); ++j) index[v.sorted[f][j]] = static_cast<uint32_t>(j + 1);
    const size_t n = m->sparse[f].ids;
    if (n == 0) {  // an empty file cannot be mapped; nothing to remap
      m->columns[1 + m->num_dense() + f].crc32 = 0;
      return absl::OkStatus();
    }
    AUGUR_ASSIGN_OR_RETURN(auto file, MappedFile::Open(SparsePath(dir, *m, f), /*writable=*/true));
    uint32_t* ids = reinterpret_cast<uint32_t*>(file->mutable_data());
    for (size_t i = 0; i < n; ++i) {
      auto it = index.find(ids[i]);
      ids[i] = it == index.end() ? 0 : it->second;
    }
    m->columns[1 + m->num_dense() + f].crc32 = Crc32(ids, n * 4);
    return absl::OkStatus();
  });
}

absl::Status CountCardinalities(const std::string& dir, Manifest* m) {
  return ParallelFor(m->num_sparse(), [&](int f) -> absl::Status {
    const size_t n = m->sparse[f].ids;
    if (n == 0) {
      m->sparse[f].cardinality = 0;
      return absl::OkStatus();
    }
    AUGUR_ASSIGN_OR_RETURN(auto file, MappedFile::Open(SparsePath(dir, *m, f), /*writable=*/false));
    const uint32_t* ids = reinterpret_cast<const uint32_t*>(file->data());
    const uint64_t rows = m->sparse[f].table_rows;
    uint64_t distinct = 0;
    if (rows <= (uint64_t{1} << 30)) {
      std::vector<uint64_t> bits((rows + 63) / 64, 0);
      for (size_t i = 0; i < n; ++i) {
        uint64_t& word = bits[ids[i] >> 6];
        uint64_t bit = uint64_t{1} << (ids[i] & 63);
        distinct += (word & bit) == 0;
        word |= bit;
      }
    } else {
      absl::flat_hash_set<uint32_t> seen;
      for (size_t i = 0; i < n; ++i) seen.insert(ids[i]);
      distinct = seen.size();
    }
    m->sparse[f].cardinality = distinct;
    return absl::OkStatus();
  });
}

}  // namespace augur::data
