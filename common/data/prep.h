// `augur data prep`: raw click logs (Criteo TSV or CSV, or any delimited text a schema describes,
// optionally gzip) -> binary dataset directory.
//
// Inputs are read in order and concatenated. A bad line (wrong field count after padding,
// non-numeric integer, non-hex categorical, label not 0/1) either fails the whole run with
// "file:line: reason" (BadLinePolicy::kFail) or is counted and skipped (kSkip). Output is atomic
// (see DatasetWriter): after a failure, nothing exists under the output name.
// Thread-safety: PrepareDataset is reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/data/dataset_writer.h"

namespace augur::data {

enum class InputFormat { kTsv, kCsv };
enum class BadLinePolicy { kFail, kSkip };

struct PrepOptions {
  std::vector<std::string> inputs;
  std::string out_dir;
  // Empty or "criteo": the Criteo layout with its own parser (`format` says TSV or CSV with a
  // header). Otherwise a built-in schema name ("avazu") or a schema file (schema.h); `format`
  // is then unused.
  std::string schema;
  InputFormat format = InputFormat::kTsv;
  BadLinePolicy on_bad_line = BadLinePolicy::kFail;
  DatasetWriterOptions writer;  // categorical mapping: hash (default), mod, vocab
  // Polled every few thousand lines; when it returns true the run stops with CANCELLED and
  // leaves no output (the oracle cancels a job's conversion with it).
  std::function<bool()> cancelled;
};

struct PrepResult {
  Manifest manifest;
  int64_t rows = 0;
  int64_t bad_lines = 0;         // skipped (kSkip only)
  std::string first_bad_line;    // "file:line: reason" of the first skipped line
  int64_t input_bytes = 0;       // uncompressed bytes read
};

// INVALID_ARGUMENT "file:line: reason" (with the column for a schema) for a bad line under kFail
// or a bad header; INVALID_ARGUMENT / NOT_FOUND for a bad or missing schema; errors of
// opening/reading an input (NOT_FOUND...) and of the writer pass through; CANCELLED when
// options.cancelled said so.
absl::StatusOr<PrepResult> PrepareDataset(const PrepOptions& options);

}  // namespace augur::data
