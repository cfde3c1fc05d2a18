// `augur data gen --profile P --samples N --seed S [--zipf ALPHA] [--multi-hot mlperf|LIST]
// --out DIR`.
#include <chrono>
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/data_options.h"
#include "common/data/synthetic.h"
#include "common/status.h"

namespace augur::cli {
namespace {

struct GenFlags {
  std::string profile = "criteo-kaggle";
  int64_t samples = 0;
  uint64_t seed = 1;
  double zipf = -1;
  int threads = 0;
  std::string multi_hot;
  std::string out;
};

absl::Status RunGen(const GenFlags& f) {
  data::SyntheticOptions o;
  AUGUR_ASSIGN_OR_RETURN(o.profile, data::ParseSyntheticProfile(f.profile));
  o.samples = f.samples;
  o.seed = f.seed;
  o.zipf_alpha = f.zipf;
  o.threads = f.threads;
  AUGUR_ASSIGN_OR_RETURN(o.multi_hot, data::ParseMultiHot(f.multi_hot));
  auto t0 = std::chrono::steady_clock::now();
  AUGUR_ASSIGN_OR_RETURN(data::Manifest m, data::GenerateDataset(o, f.out));
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %s: %lld rows, profile %s, zipf %g, seed %llu in %.1f s\n", f.out.c_str(),
              static_cast<long long>(m.rows), f.profile.c_str(), o.alpha(),
              static_cast<unsigned long long>(f.seed), s);
  return absl::OkStatus();
}

}  // namespace

void RegisterGenCommand(CLI::App* data, CommandAction* action) {
  auto flags = std::make_shared<GenFlags>();
  CLI::App* cmd = data->add_subcommand(
      "gen", "generate a synthetic Criteo-like dataset (deterministic by seed)");
  cmd->add_option("--profile", flags->profile, "criteo-kaggle, criteo-1tb or uniform")
      ->check(CLI::IsMember({"criteo-kaggle", "criteo-1tb", "uniform"}));
  cmd->add_option("--samples", flags->samples, "number of samples")->required()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", flags->seed, "random seed (same seed, same bytes)");
  cmd->add_option("--zipf", flags->zipf,
                  "Zipf exponent of id popularity (default 1.05: the top 1% of a large table's "
                  "ids take ~80% of its accesses; 0 = uniform)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", flags->threads, "generator threads (default: one per core)");
  cmd->add_option("--multi-hot", flags->multi_hot,
                  "ids per sample and feature: mlperf (the MLPerf DLRMv2 sizes), none (default) "
                  "or 26 comma-separated sizes; features of size > 1 are stored multi-hot");
  cmd->add_option("--out", flags->out, "output dataset directory (must not exist)")->required();
  cmd->callback([flags, action] { *action = [flags] { return RunGen(*flags); }; });
}

}  // namespace augur::cli
