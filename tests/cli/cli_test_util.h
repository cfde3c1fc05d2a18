// Shared helpers of the CLI tests: run the built `augur` binary and capture stdout and stderr
// apart, write files, and make the tiny Criteo dataset and job spec the cluster tests train on.
#pragma once

#include <sys/wait.h>

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "common/data/prep.h"
#include "tests/support/test_paths.h"

namespace augur::testing {

struct CliRun {
  int code = -1;
  std::string out, err;
};

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Runs a shell command and waits for it.
inline CliRun RunCommand(const std::string& command) {
  static std::atomic<int> counter{0};
  std::string err_file = "/tmp/augur-cli-test-stderr-" + std::to_string(getpid()) + "-" +
                         std::to_string(counter++);
  std::string cmd = command + " 2>" + err_file;
  FILE* p = popen(cmd.c_str(), "r");
  CliRun r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = ReadText(err_file);
  std::remove(err_file.c_str());
  return r;
}

// Runs `augur ARGS` (a shell fragment) and waits for it.
inline CliRun RunAugur(const std::string& args) { return RunCommand(BinDir() + "/augur " + args); }

inline int CountLines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Every table of the tiny dataset: Criteo hash mod this, so rows recur across batches.
inline constexpr uint64_t kTinyRows = 200;

// The shared Criteo sample as a dataset directory under `dir`.
inline std::string PrepareTinyCriteo(const std::string& shared, const std::string& dir) {
  data::PrepOptions p;
  p.inputs = {shared + "/criteo-kaggle/wideresdnn_train.tsv"};
  p.out_dir = dir + "/train";
  p.writer.transform = data::SparseTransform::kMod;
  p.writer.max_rows = kTinyRows;
  auto r = data::PrepareDataset(p);
  REQUIRE(r.ok());
  return p.out_dir;
}

// A small custom model that trains in well under a second per few iterations.
inline std::string TinyJobYaml(const std::string& train, int64_t iterations, int workers = 1,
                               const std::string& eval = "") {
  return "name: tiny\nseed: 5\n"
         "model: {preset: custom, dim: 4, bottom: [8, 4], top: [8, 1]}\n"
         "data: {train: " + train + (eval.empty() ? "" : ", eval: " + eval) + "}\n"
         "training:\n  batch_size: 32\n  iterations: " + std::to_string(iterations) + "\n"
         "  dense_optimizer: {kind: sgd, lr: 0.05}\n"
         "  embedding_optimizer: {kind: adagrad, lr: 0.05}\n"
         "cache: {policy: oracle, capacity: 20000, lookahead: 8, prefetch_distance: 2}\n"
         "cluster: {workers: " + std::to_string(workers) + "}\n";
}

}  // namespace augur::testing
