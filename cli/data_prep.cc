// `augur data prep IN... --out DIR [--schema NAME|FILE]`: raw click logs (optionally .gz) ->
// binary dataset.
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "cli/data_options.h"
#include "common/data/prep.h"
#include "common/status.h"

namespace augur::cli {
namespace {

struct PrepFlags {
  std::vector<std::string> inputs;
  std::string out;
  std::string format = "tsv";
  std::string schema;
  std::string on_bad_line = "fail";
  uint64_t max_rows = 0;
  uint64_t min_count = 0;
  std::string vocab_from;
};

absl::Status RunPrep(const PrepFlags& f) {
  data::PrepOptions o;
  o.inputs = f.inputs;
  o.out_dir = f.out;
  o.schema = f.schema;
  o.format = f.format == "csv" ? data::InputFormat::kCsv : data::InputFormat::kTsv;
  o.on_bad_line = f.on_bad_line == "skip" ? data::BadLinePolicy::kSkip : data::BadLinePolicy::kFail;
  if (f.max_rows > 0) {
    o.writer.transform = data::SparseTransform::kMod;
    o.writer.max_rows = f.max_rows;
  } else if (f.min_count > 0 || !f.vocab_from.empty()) {
    o.writer.transform = data::SparseTransform::kVocab;
    o.writer.min_count = f.min_count;
    o.writer.vocab_from = f.vocab_from;
  }
  AUGUR_ASSIGN_OR_RETURN(data::PrepResult r, data::PrepareDataset(o));
  std::printf("wrote %s: %lld rows from %lld bytes\n", f.out.c_str(),
              static_cast<long long>(r.rows), static_cast<long long>(r.input_bytes));
  if (r.bad_lines > 0) {
    std::printf("skipped %lld bad lines (first: %s)\n", static_cast<long long>(r.bad_lines),
                r.first_bad_line.c_str());
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterPrepCommand(CLI::App* data, CommandAction* action) {
  auto flags = std::make_shared<PrepFlags>();
  CLI::App* cmd = data->add_subcommand(
      "prep", "convert raw click logs (Criteo TSV/CSV, or any delimited text with --schema; "
              "optionally .gz) into a binary dataset");
  cmd->add_option("inputs", flags->inputs, "input files, concatenated in order")->required();
  cmd->add_option("--out", flags->out, "output dataset directory (must not exist)")->required();
  auto* fmt = cmd->add_option("--format", flags->format,
                              "Criteo only: tsv (raw Kaggle/Terabyte) or csv (with header)")
                  ->check(CLI::IsMember({"tsv", "csv"}));
  cmd->add_option("--schema", flags->schema,
                  "criteo (default), avazu, or a schema YAML file naming the label, dense, "
                  "sparse and multi-hot columns (docs/schema.md)")
      ->excludes(fmt);
  cmd->add_option("--on-bad-line", flags->on_bad_line, "fail (default) or skip")
      ->check(CLI::IsMember({"fail", "skip"}));
  auto* mr = cmd->add_option("--max-rows", flags->max_rows,
                             "categorical id = hash mod M (table_rows = M)");
  auto* mc = cmd->add_option("--min-count", flags->min_count,
                             "keep ids seen >= K times as rows 1..n, others share row 0");
  auto* vf = cmd->add_option("--vocab-from", flags->vocab_from,
                             "map ids through the vocabulary of an existing --min-count dataset");
  mr->excludes(mc)->excludes(vf);
  mc->excludes(vf);
  cmd->callback([flags, action] { *action = [flags] { return RunPrep(*flags); }; });
}

}  // namespace augur::cli
