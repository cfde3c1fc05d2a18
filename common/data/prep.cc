#include "common/data/prep.h"

#include "absl/strings/str_cat.h"
#include "common/data/line_reader.h"
#include "common/data/schema.h"
#include "common/status.h"

namespace augur::data {
namespace {

// Runs `parse(line)` on the reader's lines (starting with `first` when it is not null): it
// returns "" when the line parsed and was appended, else the reason, which fails the file
// ("file:line: reason") or is counted and skipped, as the options say. A template, not a
// std::function: this is prep's hot loop.
template <typename Parse>
absl::Status FeedLines(const std::string& path, LineReader* reader, const std::string_view* first,
                       const PrepOptions& options, PrepResult* result, Parse parse) {
  std::string_view line;
  if (first != nullptr) line = *first;
  while (first != nullptr || reader->Next(&line)) {
    first = nullptr;
    if (options.cancelled && reader->line_number() % 4096 == 0 && options.cancelled())
      return absl::CancelledError(absl::StrCat(path, ": conversion cancelled at line ",
                                               reader->line_number()));
    AUGUR_ASSIGN_OR_RETURN(std::string why, parse(line));
    if (why.empty()) continue;
    std::string where = absl::StrCat(path, ":", reader->line_number(), ": ", why);
    if (options.on_bad_line == BadLinePolicy::kFail) return absl::InvalidArgumentError(where);
    if (result->bad_lines++ == 0) result->first_bad_line = where;
  }
  AUGUR_RETURN_IF_ERROR(reader->status());
  result->input_bytes += reader->bytes_read();
  return absl::OkStatus();
}

// Feeds one Criteo input file into the writer.
absl::Status PrepFile(const std::string& path, const PrepOptions& options, DatasetWriter* writer,
                      PrepResult* result) {
  AUGUR_ASSIGN_OR_RETURN(auto reader, LineReader::Open(path));
  CriteoLayout layout = CriteoLayout::Tsv();
  std::string_view line;
  if (options.format == InputFormat::kCsv) {
    if (!reader->Next(&line)) {
      AUGUR_RETURN_IF_ERROR(reader->status());
      return absl::InvalidArgumentError(absl::StrCat(path, ": empty file, expected a CSV header"));
    }
    auto l = CriteoLayout::FromCsvHeader(line);
    if (!l.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ":1: ", l.status().message()));
    layout = *l;
  }
  CriteoRow row;
  return FeedLines(path, reader.get(), nullptr, options, result,
                   [&](std::string_view l) -> absl::StatusOr<std::string> {
                     LineError e = ParseCriteoLine(l, layout, &row);
                     if (!e.ok()) return e.ToString();
                     AUGUR_RETURN_IF_ERROR(writer->AppendRow(row));
                     return std::string();
                   });
}

// Feeds one input file described by a schema into the writer.
absl::Status PrepSchemaFile(const std::string& path, const Schema& schema,
                            const PrepOptions& options, DatasetWriter* writer, PrepResult* result) {
  AUGUR_ASSIGN_OR_RETURN(auto reader, LineReader::Open(path));
  std::string_view line;
  if (!reader->Next(&line)) return reader->status();  // an empty file adds nothing
  BoundSchema bound = BindByPosition(schema);
  const bool header = LooksLikeHeader(schema, line);
  if (header) {
    auto b = BindByHeader(schema, line);
    if (!b.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ":1: ", b.status().message()));
    bound = *b;
  }
  RawRow row;
  return FeedLines(path, reader.get(), header ? nullptr : &line, options, result,
                   [&](std::string_view l) -> absl::StatusOr<std::string> {
                     absl::Status e = ParseSchemaLine(l, bound, &row);
                     if (!e.ok()) return std::string(e.message());
                     AUGUR_RETURN_IF_ERROR(writer->AppendRaw(row));
                     return std::string();
                   });
}

}  // namespace

absl::StatusOr<PrepResult> PrepareDataset(const PrepOptions& options) {
  if (options.inputs.empty()) return absl::InvalidArgumentError("no input files");
  const bool criteo = options.schema.empty() || options.schema == "criteo";
  Schema schema;
  DatasetWriterOptions wo = options.writer;
  if (!criteo) {
    AUGUR_ASSIGN_OR_RETURN(schema, LoadSchema(options.schema));
    wo.layout = schema.layout();
    wo.dense_transform = schema.DenseTransformText();
  }
  AUGUR_ASSIGN_OR_RETURN(auto writer, DatasetWriter::Create(options.out_dir, wo));
  PrepResult result;
  std::string files;
  for (const auto& path : options.inputs) {
    if (criteo) {
      AUGUR_RETURN_IF_ERROR(PrepFile(path, options, writer.get(), &result));
    } else {
      AUGUR_RETURN_IF_ERROR(PrepSchemaFile(path, schema, options, writer.get(), &result));
    }
    absl::StrAppend(&files, files.empty() ? "" : ",", path);
  }
  if (!criteo) {
    writer->SetSource("kind", "schema");
    writer->SetSource("schema", schema.name);
  } else {
    writer->SetSource("kind", options.format == InputFormat::kTsv ? "criteo-tsv" : "criteo-csv");
  }
  writer->SetSource("inputs", files);
  writer->SetSource("bad_lines_skipped", absl::StrCat(result.bad_lines));
  AUGUR_ASSIGN_OR_RETURN(result.manifest, writer->Finish());
  result.rows = result.manifest.rows;
  return result;
}

}  // namespace augur::data
