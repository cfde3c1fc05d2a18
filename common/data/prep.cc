#include "common/data/prep.h"

#include "absl/strings/str_cat.h"
#include "common/data/line_reader.h"
#include "common/status.h"

namespace augur::data {
namespace {

// Feeds one input file into the writer.
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
  while (reader->Next(&line)) {
    if (options.cancelled && reader->line_number() % 4096 == 0 && options.cancelled())
      return absl::CancelledError(absl::StrCat(path, ": conversion cancelled at line ",
                                               reader->line_number()));
    LineError e = ParseCriteoLine(line, layout, &row);
    if (!e.ok()) {
      std::string where = absl::StrCat(path, ":", reader->line_number(), ": ", e.ToString());
      if (options.on_bad_line == BadLinePolicy::kFail) return absl::InvalidArgumentError(where);
      if (result->bad_lines++ == 0) result->first_bad_line = where;
      continue;
    }
    AUGUR_RETURN_IF_ERROR(writer->AppendRow(row));
  }
  AUGUR_RETURN_IF_ERROR(reader->status());
  result->input_bytes += reader->bytes_read();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PrepResult> PrepareDataset(const PrepOptions& options) {
  if (options.inputs.empty()) return absl::InvalidArgumentError("no input files");
  AUGUR_ASSIGN_OR_RETURN(auto writer, DatasetWriter::Create(options.out_dir, options.writer));
  PrepResult result;
  std::string files;
  for (const auto& path : options.inputs) {
    AUGUR_RETURN_IF_ERROR(PrepFile(path, options, writer.get(), &result));
    absl::StrAppend(&files, files.empty() ? "" : ",", path);
  }
  writer->SetSource("kind", options.format == InputFormat::kTsv ? "criteo-tsv" : "criteo-csv");
  writer->SetSource("inputs", files);
  writer->SetSource("bad_lines_skipped", absl::StrCat(result.bad_lines));
  AUGUR_ASSIGN_OR_RETURN(result.manifest, writer->Finish());
  result.rows = result.manifest.rows;
  return result;
}

}  // namespace augur::data
