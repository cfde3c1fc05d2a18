// The guard of the whole design: the cache is invisible to the math. The same job trained under
// every cache policy, capacity (one far too small), lookahead, prefetch distance and shard count
// must end with bit-identical dense weights and embedding rows (values, optimizer state and
// versions) for one and for two workers, and within 1e-5 relative for three.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "common/data/prep.h"
#include "tests/support/test_paths.h"
#include "tests/worker/local_cluster.h"

using namespace augur;

namespace {

constexpr uint64_t kRows = 300;  // every table: hash mod 300, so rows recur across batches

struct Outcome {
  std::vector<char> dense;
  std::vector<shard::RowBlock> rows;
  oracle::JobStatus status;
};

struct Config {
  std::string policy;
  int64_t capacity;
  int lookahead, distance, shards;
  int eval_every = 0;  // > 0: evaluate on the dev split every so many iterations
  int checkpoint_every = 0;  // > 0: checkpoint shards and dense weights every so many
  int planner_threads = 1;   // > 1: the planner split over threads (key-space partitions)
};

std::string Describe(const Config& c) {
  return c.policy + " capacity " + std::to_string(c.capacity) + " L " + std::to_string(c.lookahead) +
         " d " + std::to_string(c.distance) + " shards " + std::to_string(c.shards) + " eval_every " +
         std::to_string(c.eval_every) + " planner_threads " + std::to_string(c.planner_threads);
}

job::JobSpec Spec(const std::string& dataset, int workers, const Config& c) {
  auto s = job::ParseJobSpec(R"(
name: equivalence
seed: 3
model: {preset: custom, dim: 8, bottom: [16, 8], top: [16, 1]}
training:
  batch_size: 32
  iterations: 14
  dense_optimizer: {kind: sgd, lr: 0.05}
  embedding_optimizer: {kind: adagrad, lr: 0.05}
data: {train: )" + dataset + "}\n");
  REQUIRE(s.ok());
  s->cluster.workers = workers;
  s->cache.policy = c.policy;
  s->cache.capacity = c.capacity;
  s->cache.lookahead = c.lookahead;
  s->cache.prefetch_distance = c.distance;
  if (c.checkpoint_every > 0) {
    s->checkpoint.every = c.checkpoint_every;
    s->checkpoint.dir = dataset + "-checkpoints";
  }
  if (c.eval_every > 0) {
    s->data.eval = dataset + "-dev";
    s->training.eval_every = c.eval_every;
  }
  return *s;
}

Outcome Train(const std::string& dataset, int workers, const Config& c,
              const testing::ScratchDir& out, int tables = 26) {
  auto cluster = testing::LocalCluster::Start(c.shards, 0, absl::Seconds(60), c.planner_threads);
  REQUIRE(cluster.ok());
  std::vector<absl::Status> results;
  auto status = (*cluster)->RunJob(Spec(dataset, workers, c), out.path(), &results);
  REQUIRE(status.ok());
  for (auto& r : results) {
    INFO(r.ToString());
    CHECK(r.ok());
  }
  REQUIRE(oracle::JobStateName(status->state) == std::string("SUCCEEDED"));
  Outcome o;
  o.status = *status;
  std::ifstream in(out.path() + "/" + status->job_id + "/dense.f32", std::ios::binary);
  o.dense.assign(std::istreambuf_iterator<char>(in), {});
  REQUIRE(!o.dense.empty());
  auto rows = (*cluster)->ReadAllRows(tables, kRows);
  REQUIRE(rows.ok());
  o.rows = std::move(*rows);
  return o;
}

std::string PrepareCriteo(const std::string& shared, const testing::ScratchDir& dir) {
  std::string train = dir.path() + "/train";
  testing::PrepareCriteoSample(shared, "wideresdnn_train.tsv", kRows, train);
  // The held-out split, for configurations that evaluate mid-training.
  testing::PrepareCriteoSample(shared, "wideresdnn_dev.tsv", kRows, train + "-dev");
  return train;
}

// The Criteo sample rewritten with multi-hot columns and prepared through a schema: C1..C18
// stay one-hot, four bags gather other categoricals (missing values dropped, so bag sizes vary
// from 0 to 8 and some bags are empty; the third bag pools by its mean). 22 sparse features,
// hashed mod kRows.
constexpr int kMultiHotTables = 22;
std::string PrepareMultiHot(const std::string& shared, const testing::ScratchDir& dir) {
  std::ifstream in(shared + "/criteo-kaggle/wideresdnn_train.tsv");
  std::string line, text;
  const std::vector<std::vector<int>> bags = {{19, 20, 21}, {22}, {23, 24, 25, 26, 3, 4},
                                              {5, 6, 7, 8, 9, 10, 11, 12}};
  for (int n = 0; n < 1500 && std::getline(in, line); ++n) {
    std::vector<std::string> f;
    size_t start = 0;
    for (size_t i = 0; i <= line.size(); ++i) {
      if (i == line.size() || line[i] == '\t') {
        f.push_back(line.substr(start, i - start));
        start = i + 1;
      }
    }
    f.resize(40);
    std::string out = f[0];
    for (int j = 1; j <= 13 + 18; ++j) out += "\t" + f[j];
    for (const auto& bag : bags) {
      std::string list;
      for (int c : bag) {
        if (f[13 + c].empty()) continue;
        list += (list.empty() ? "" : ",") + f[13 + c];
      }
      out += "\t" + list;
    }
    text += out + "\n";
  }
  std::string schema = "separator: \"\\t\"\nheader: false\ncolumns:\n  - {name: label, type: label}\n";
  for (int j = 1; j <= 13; ++j) schema += "  - {name: I" + std::to_string(j) + ", type: dense}\n";
  for (int c = 1; c <= 18; ++c)
    schema += "  - {name: C" + std::to_string(c) + ", type: sparse, encoding: hex}\n";
  for (size_t b = 0; b < bags.size(); ++b)
    schema += "  - {name: B" + std::to_string(b + 1) +
              ", type: multi_hot, separator: ',', encoding: hex" +
              (b == 2 ? ", pooling: mean}\n" : "}\n");
  std::ofstream(dir.path() + "/multi.tsv") << text;
  std::ofstream(dir.path() + "/multi.yaml") << schema;
  data::PrepOptions o;
  o.inputs = {dir.path() + "/multi.tsv"};
  o.out_dir = dir.path() + "/multi";
  o.schema = dir.path() + "/multi.yaml";
  o.writer.transform = data::SparseTransform::kMod;
  o.writer.max_rows = kRows;
  auto r = data::PrepareDataset(o);
  REQUIRE(r.ok());
  REQUIRE(r->manifest.num_sparse() == kMultiHotTables);
  REQUIRE(r->manifest.sparse[21].max_bag > 4);
  REQUIRE(r->manifest.sparse[20].pooling == data::Pooling::kMean);
  return o.out_dir;
}

void CheckBitwise(const Outcome& a, const Outcome& b) {
  testing::CheckSameModel(a.dense, a.rows, b.dense, b.rows);
  // The status loss is the mean over each worker's last iterations, not over whatever its last
  // report covered: the same job shows the same loss whatever its speed or reporting cadence.
  CHECK(a.status.loss == b.status.loss);
  CHECK(a.status.loss > 0);
}

const std::vector<Config> kConfigs = {
    {"none", 4000, 1, 0, 1},        {"prefetch1", 4000, 1, 1, 3},
    {"oracle", 100000, 8, 2, 1},    {"oracle", 100000, 8, 2, 3},
    {"oracle", 900, 8, 2, 3},       // far too small: ~11% of the rows the job touches
    {"oracle", 3000, 3, 1, 1},      {"oracle", 100000, 1, 0, 3},
    {"oracle", 3000, 8, 2, 3, 5, 4},  // evaluating / checkpointing flush cached rows mid-way
    {"oracle", 3000, 8, 2, 2, 0, 0, 3},  // three planner threads, each with a third of the slots
};

void RunMatrix(int workers) {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("equiv");
  std::string dataset = PrepareCriteo(shared, dir);
  testing::ScratchDir base_out("equiv-out");
  Outcome base = Train(dataset, workers, kConfigs[0], base_out);
  CHECK(testing::TouchedRows(base.rows) > 1000);
  for (size_t i = 1; i < kConfigs.size(); ++i) {
    INFO(workers << " workers, " << Describe(kConfigs[i]) << " vs " << Describe(kConfigs[0]));
    testing::ScratchDir out("equiv-out");
    Outcome o = Train(dataset, workers, kConfigs[i], out);
    CheckBitwise(base, o);
  }
}

}  // namespace

TEST_CASE("One worker ends bit-identical under every cache policy, capacity and shard count") {
  RunMatrix(1);
}

TEST_CASE("Two workers end bit-identical under every cache policy, capacity and shard count") {
  RunMatrix(2);
}

// Multi-hot bags: every id of a bag is a row the planner, the fills and the row updates handle
// one by one, so the same invariant holds.
void RunMultiHotMatrix(int workers) {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("equiv-multi");
  std::string dataset = PrepareMultiHot(shared, dir);
  testing::ScratchDir base_out("equiv-out");
  Outcome base = Train(dataset, workers, kConfigs[0], base_out, kMultiHotTables);
  CHECK(testing::TouchedRows(base.rows) > 1000);
  const std::vector<Config> configs = {kConfigs[1], kConfigs[3], {"oracle", 1500, 8, 2, 3},
                                       kConfigs[8]};
  for (const Config& c : configs) {
    INFO(workers << " workers, multi-hot, " << Describe(c));
    testing::ScratchDir out("equiv-out");
    Outcome o = Train(dataset, workers, c, out, kMultiHotTables);
    CheckBitwise(base, o);
  }
}

TEST_CASE("Multi-hot bags: one worker ends bit-identical under every cache policy") {
  RunMultiHotMatrix(1);
}

TEST_CASE("Multi-hot bags: two workers end bit-identical under every cache policy") {
  RunMultiHotMatrix(2);
}

TEST_CASE("Three workers agree within 1e-5 relative across cache policies") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  testing::ScratchDir dir("equiv3");
  std::string dataset = PrepareCriteo(shared, dir);
  testing::ScratchDir o1("equiv3-out"), o2("equiv3-out"), o3("equiv3-out");
  Outcome none = Train(dataset, 3, kConfigs[0], o1);
  for (const Config& c : {kConfigs[1], kConfigs[4]}) {
    INFO(Describe(c));
    testing::ScratchDir out("equiv3-out");
    Outcome o = Train(dataset, 3, c, out);
    testing::CheckCloseModel(none.dense, none.rows, o.dense, o.rows, kRows, 1e-5);
  }
}
