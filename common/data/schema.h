// Schemas for delimited text: which column of a click log is the label, which are dense and
// which categorical (one id, or a multi-hot list), and how each value becomes a number.
// `augur data prep --schema NAME|FILE.yaml` reads any CTR log with one; docs/schema.md is the
// user guide and the example lives in deploy/jobs/schema-example.yaml.
//
// A schema file (YAML):
//
//   separator: ","        # one character; "\t" for TSV (default ",")
//   header: auto          # true: the first line of every file names the columns (matched by
//                         # name; header columns the schema does not list are ignored);
//                         # false: no header, the schema lists every column in file order;
//                         # auto: a first line holding the label column's name is a header
//   columns:              # in file order (that order matters only without a header)
//     - {name: id, type: ignore}
//     - {name: click, type: label}                # exactly one; values 0 or 1
//     - {name: price, type: dense, transform: log1p}   # log1p (default): log(1 + max(x, 0));
//                                                  # none; clip: clamp to [min, max]
//     - {name: site, type: sparse}                 # encoding: string (default, hashed), hex
//                                                  # (up to 8 hex digits, the value itself), int
//                                                  # (decimal, hashed), yymmddhh (see below)
//     - {name: tags, type: multi_hot, separator: "|", pooling: sum}   # a list in one field
//
// Values: an empty dense field is 0 (before the transform's clamp); an empty sparse field is the
// missing id 0 (a value that hashes to 0 shares it, as Criteo's 00000000 does); an empty
// multi-hot field is an empty bag, and empty list elements are skipped. `yymmddhh` (Avazu's
// `hour`, e.g. 14102100) becomes two sparse features, <name>_hour (hour of day) and
// <name>_weekday (day of the week of the 20YY-MM-DD date). Quoted CSV fields are not
// supported: a quote is an ordinary character. Feature names are those of the columns (the
// yymmddhh pair as said), 1..64 characters of [A-Za-z0-9_-].
//
// Built-in schemas: "criteo" (the Criteo TSV: label, I1..I13 log1p, C1..C26 hex; prep keeps its
// dedicated fast parser for it) and "avazu" (id ignored, click the label, hour as yymmddhh, the
// 21 other columns categorical strings: 23 sparse features, no dense feature).
// Thread-safety: parsing is pure; a BoundSchema is immutable after Bind.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/data/dataset_writer.h"
#include "common/data/manifest.h"

namespace augur::data {

enum class ColumnType { kIgnore, kLabel, kDense, kSparse, kMultiHot };
enum class DenseTransformKind { kLog1p, kNone, kClip };
enum class Encoding { kString, kHex, kInt, kYymmddhh };
enum class HeaderMode { kTrue, kFalse, kAuto };

struct SchemaColumn {
  std::string name;
  ColumnType type = ColumnType::kIgnore;
  DenseTransformKind transform = DenseTransformKind::kLog1p;
  double clip_min = 0, clip_max = 0;  // kClip
  Encoding encoding = Encoding::kString;
  char list_separator = '|';           // kMultiHot
  Pooling pooling = Pooling::kSum;     // kMultiHot
};

struct Schema {
  std::string name = "custom";  // built-in name, or the file it came from
  char separator = ',';
  HeaderMode header = HeaderMode::kAuto;
  std::vector<SchemaColumn> columns;

  // The features a dataset of this schema holds (dense in column order, then sparse in column
  // order, a yymmddhh column giving two).
  FeatureLayout layout() const;
  // A one-line description recorded in the manifest as the dense transform.
  std::string DenseTransformText() const;
};

// "criteo" or "avazu"; NOT_FOUND otherwise.
absl::StatusOr<Schema> BuiltinSchema(std::string_view name);
bool IsBuiltinSchema(std::string_view name);
// Parses a schema file's text. INVALID_ARGUMENT with the key path ("columns[3].encoding: ...").
absl::StatusOr<Schema> ParseSchema(const std::string& yaml_text, const std::string& origin);
// A built-in name, else a YAML file (NOT_FOUND when it cannot be read).
absl::StatusOr<Schema> LoadSchema(const std::string& name_or_path);

// A schema bound to one file's physical columns.
struct BoundSchema {
  const Schema* schema = nullptr;
  int num_fields = 0;                 // physical fields per line
  std::vector<int> physical;          // per schema column: its field index, -1 when absent
};

// Binds by a header line (names matched exactly, CR stripped): INVALID_ARGUMENT naming a schema
// column the header lacks or a header name that appears twice.
absl::StatusOr<BoundSchema> BindByHeader(const Schema& schema, std::string_view header);
// Binds without a header: the schema's columns are the line's fields, in order.
BoundSchema BindByPosition(const Schema& schema);
// Whether `first_line` is a header under HeaderMode::kAuto / kTrue / kFalse.
bool LooksLikeHeader(const Schema& schema, std::string_view first_line);

// Parses one line into `row` (sized to the layout; vectors reused). On error returns
// "<column>: <reason>" (the caller prefixes file:line).
absl::Status ParseSchemaLine(std::string_view line, const BoundSchema& bound, RawRow* row);

// The 32-bit hash of a categorical string (FNV-1a 64 folded, then mixed): stable across builds
// and machines, so two preps of one file agree.
uint32_t HashCategorical(std::string_view value);

}  // namespace augur::data
