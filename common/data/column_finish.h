// Whole-column passes that run when a dataset is finished, over the files already written to the
// writer's temporary directory: the frequency-threshold vocabulary (--min-count) and its remap,
// copying a vocabulary from another dataset (--vocab-from), and the distinct-id count per feature.
// Internal to the data library; DatasetWriter is the public entry point.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/data/manifest.h"

namespace augur::data {

// A frequency-threshold vocabulary: per feature, the kept raw values in ascending order; value
// sorted[f][j] maps to row j + 1, any other value to row 0.
struct Vocabulary {
  uint64_t min_count = 0;
  std::vector<std::string> names;                                // sparse feature names
  std::vector<std::vector<uint32_t>> sorted;                     // per feature
  std::vector<absl::flat_hash_map<uint32_t, uint32_t>> index;    // value -> row, per feature
};

// Reads the vocabulary of the dataset at `dir`. FAILED_PRECONDITION when that dataset was not
// built with --min-count; DATA_LOSS naming the file when a vocabulary file is damaged.
absl::StatusOr<Vocabulary> LoadVocabulary(const std::string& dir);

// Builds the vocabulary from `counts`, writes vocab/ under `dir`, rewrites the sparse columns in
// place through it and updates table_rows, has_vocab and the column CRCs in `m`.
absl::Status BuildAndApplyVocabulary(
    const std::string& dir, const std::vector<absl::flat_hash_map<uint32_t, uint32_t>>& counts,
    uint64_t min_count, Manifest* m);

// Writes an already-applied vocabulary (from --vocab-from) under `dir`; sets table_rows.
absl::Status WriteVocabulary(const std::string& dir, const Vocabulary& vocab, Manifest* m);

// Sets m->sparse[f].cardinality to the distinct ids of each sparse column file under `dir`
// (one thread per core; a bitmap when the table is at most 2^30 rows, a hash set otherwise).
absl::Status CountCardinalities(const std::string& dir, Manifest* m);

}  // namespace augur::data
