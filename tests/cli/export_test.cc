// `augur export`: a tiny job trained in-process, exported, and read back by an independent numpy
// implementation of the DLRM forward pass (dlrm_numpy.py), which must agree with the C++ model's
// Predict on the same weights and rows within 1e-4.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "cli/model_export.h"
#include "cli/npy.h"
#include "cli/oracle_client.h"
#include "common/data/dataset.h"
#include "common/job/job_spec.h"
#include "server/client/shard_client.h"
#include "tests/cli/cli_test_util.h"
#include "tests/worker/local_cluster.h"
#include "worker/model/dense_compute.h"
#include "worker/runtime/trainer.h"

using namespace augur;

namespace {

constexpr int kSamples = 6;  // from the first trained batch: all their rows were written

// A python3 that can import numpy, or "" (then the numpy half is skipped).
std::string PythonWithNumpy() {
  for (const char* py : {"python3", "/usr/bin/python3"})
    if (std::system((std::string(py) + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0)
      return py;
  return "";
}

struct Trained {
  testing::ScratchDir dir{"cli-export"};
  std::unique_ptr<testing::LocalCluster> cluster;
  std::string train;
  cli::TrainedModel model;
};

// TinyJobYaml's model with the DCNv2 interaction instead of dot.
std::string DcnJobYaml(const std::string& train) {
  std::string y = testing::TinyJobYaml(train, 12);
  const std::string dot_model = "top: [8, 1]}";
  const size_t at = y.find(dot_model);
  REQUIRE(at != std::string::npos);
  return y.replace(at, dot_model.size(),
                   "top: [8, 1], interaction: dcn, cross_layers: 2, cross_rank: 3}");
}

// The Avazu sample through its built-in schema: 23 one-hot features, no dense feature.
std::string PrepareTinyAvazu(const std::string& shared, const std::string& dir) {
  data::PrepOptions p;
  p.inputs = {shared + "/avazu/wideresdnn_train.csv"};
  p.out_dir = dir + "/train";
  p.schema = "avazu";
  p.writer.transform = data::SparseTransform::kMod;
  p.writer.max_rows = testing::kTinyRows;
  REQUIRE(data::PrepareDataset(p).ok());
  return p.out_dir;
}

void Train(const std::string& shared, Trained* t, bool dcn = false, bool avazu = false) {
  auto c = testing::LocalCluster::Start(2);
  REQUIRE(c.ok());
  t->cluster = std::move(*c);
  t->train = avazu ? PrepareTinyAvazu(shared, t->dir.path())
                   : testing::PrepareTinyCriteo(shared, t->dir.path());
  auto spec = job::ParseJobSpec(dcn ? DcnJobYaml(t->train) : testing::TinyJobYaml(t->train, 12));
  REQUIRE(spec.ok());
  auto st = t->cluster->RunJob(*spec, t->dir.path() + "/out");
  REQUIRE(st.ok());
  REQUIRE(std::string(oracle::JobStateName(st->state)) == "SUCCEEDED");
  cli::OracleClient oracle(t->cluster->oracle_endpoint());
  auto m = oracle.GetModel(st->job_id);
  REQUIRE(m.ok());
  t->model = *m;
}

// The C++ model's probabilities for the first kSamples samples: the exported job's dense weights
// and the rows the shards hold (with optimizer state, as the slot array stores them).
std::vector<float> CxxPredict(const Trained& t, const data::Dataset& ds) {
  auto spec = job::ParseJobSpec(t.model.job_yaml);
  REQUIRE(spec.ok());
  auto config = worker::ModelConfigOf(*spec);
  REQUIRE(config.ok());
  model::DenseComputeOptions o;
  o.model = *config;
  o.capacity = kSamples * config->num_sparse;
  o.embedding_optimizer = spec->training.embedding_optimizer;
  o.dense_optimizer = spec->training.dense_optimizer;
  auto compute = model::CreateDenseCompute(o);
  REQUIRE(compute.ok());
  REQUIRE((*compute)->SetDenseWeights(t.model.dense).ok());
  auto shards = t.cluster->ConnectShards(t.model.job_id);
  REQUIRE(shards.ok());
  const int F = config->num_sparse, D = config->num_dense;
  std::vector<shard::RowBlock> req(F);
  for (int f = 0; f < F; ++f) {
    req[f].table_id = f;
    for (int b = 0; b < kSamples; ++b) req[f].rows.push_back(ds.sparse_column(f)[b]);
  }
  auto rows = (*shards)->Lookup(req, /*with_state=*/true).get();
  REQUIRE(rows.ok());
  // Slot f*kSamples+b holds feature f's row of sample b.
  std::vector<model::SlotIndex> slots;
  std::vector<float> records;
  std::vector<int64_t> offsets;
  for (int f = 0; f < F; ++f) {
    for (int b = 0; b < kSamples; ++b) {
      offsets.push_back(f * kSamples + b);
      slots.push_back(static_cast<model::SlotIndex>(f * kSamples + b));
    }
    offsets.push_back((f + 1) * kSamples);
    records.insert(records.end(), (*rows)[f].values.begin(), (*rows)[f].values.end());
  }
  REQUIRE((*compute)->WriteSlots(slots, records).ok());
  std::vector<float> dense(kSamples * D), labels(kSamples, 0), probs(kSamples);
  for (int b = 0; b < kSamples; ++b)
    for (int j = 0; j < D; ++j) dense[b * D + j] = ds.dense_column(j)[b];
  model::Minibatch mb;
  mb.batch_size = kSamples;
  mb.global_batch_size = kSamples;
  mb.dense = dense;
  mb.labels = labels;
  mb.offsets = offsets;
  mb.slots = slots;
  REQUIRE((*compute)->Predict(mb, absl::MakeSpan(probs)).ok());
  return probs;
}

// The same samples as .npy for the python reader.
void WriteSamples(const data::Dataset& ds, int num_dense, int num_sparse, const std::string& dir) {
  std::vector<float> dense;
  std::vector<uint64_t> sparse;
  for (int b = 0; b < kSamples; ++b) {
    for (int j = 0; j < num_dense; ++j) dense.push_back(ds.dense_column(j)[b]);
    for (int f = 0; f < num_sparse; ++f) sparse.push_back(ds.sparse_column(f)[b]);
  }
  std::filesystem::create_directories(dir);
  REQUIRE(cli::WriteNpy(dir + "/dense.npy", std::span<const float>(dense), {kSamples, num_dense}).ok());
  REQUIRE(cli::WriteNpy(dir + "/sparse.npy", std::span<const uint64_t>(sparse), {kSamples, num_sparse}).ok());
}

// `augur export` of the trained job into `out`, through the job's shards.
cli::ExportSummary Export(const Trained& t, const std::string& out) {
  auto shards = t.cluster->ConnectShards(t.model.job_id);
  REQUIRE(shards.ok());
  auto summary = cli::ExportModel(t.model, shards->get(), out);
  REQUIRE(summary.ok());
  return *summary;
}

// dlrm_numpy.py on the export in `out` against CxxPredict; skipped without numpy.
void CheckNumpyAgrees(const Trained& t, const std::string& out) {
  auto ds = data::Dataset::Open(t.train);
  REQUIRE(ds.ok());
  std::vector<float> cxx = CxxPredict(t, **ds);
  std::string py = PythonWithNumpy();
  if (py.empty()) {
    WARN("skipped the numpy half: no python3 with numpy (deploy/install-deps.sh installs it)");
    return;
  }
  WriteSamples(**ds, (*ds)->num_dense(), (*ds)->num_sparse(), t.dir.path() + "/samples");
  auto r = testing::RunCommand(py + " " AUGUR_CLI_TEST_DIR "/dlrm_numpy.py " + out + " " +
                               t.dir.path() + "/samples");
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  std::istringstream lines(r.out);
  std::vector<double> numpy_probs;
  for (double p; lines >> p;) numpy_probs.push_back(p);
  REQUIRE(numpy_probs.size() == cxx.size());
  for (size_t i = 0; i < cxx.size(); ++i) {
    INFO("sample " << i << ": C++ " << cxx[i] << " numpy " << numpy_probs[i]);
    CHECK(std::abs(numpy_probs[i] - cxx[i]) < 1e-4);
  }
}

}  // namespace

TEST_CASE("an exported model read by numpy predicts what the C++ model predicts") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Trained t;
  Train(shared, &t);
  const std::string out = t.dir.path() + "/export";
  const cli::ExportSummary summary = Export(t, out);
  CHECK(summary.layers == 4);
  CHECK(summary.tables == 26);
  CHECK(summary.rows > 0);
  CHECK(std::filesystem::exists(out + "/bottom_0_weight.npy"));
  CHECK(std::filesystem::exists(out + "/top_1_bias.npy"));
  CHECK(std::filesystem::exists(out + "/emb_C1_ids.npy"));
  CHECK(std::filesystem::exists(out + "/manifest.json"));
  CHECK_FALSE(std::filesystem::exists(out + "/cross_0_v.npy"));
  const std::string manifest = testing::ReadText(out + "/manifest.json");
  CHECK(manifest.find("interaction_kind") == std::string::npos);  // the classic manifest
  CheckNumpyAgrees(t, out);
}

TEST_CASE("an exported dcn model read by numpy predicts what the C++ model predicts") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Trained t;
  Train(shared, &t, /*dcn=*/true);
  const std::string out = t.dir.path() + "/export";
  const cli::ExportSummary summary = Export(t, out);
  CHECK(summary.layers == 6);  // bottom 2, cross 2, top 2
  for (const char* f : {"cross_0_v.npy", "cross_0_w.npy", "cross_0_bias.npy", "cross_1_v.npy",
                        "cross_1_w.npy", "cross_1_bias.npy", "top_1_bias.npy"}) {
    INFO(f);
    CHECK(std::filesystem::exists(out + "/" + f));
  }
  CHECK_FALSE(std::filesystem::exists(out + "/cross_2_v.npy"));
  const std::string manifest = testing::ReadText(out + "/manifest.json");
  CHECK(manifest.find("\"interaction_kind\": \"dcn\"") != std::string::npos);
  CHECK(manifest.find("\"cross_rank\": 3") != std::string::npos);
  CheckNumpyAgrees(t, out);
}

TEST_CASE("an exported model without dense features (Avazu) read by numpy predicts the same") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Trained t;
  Train(shared, &t, /*dcn=*/false, /*avazu=*/true);
  const std::string out = t.dir.path() + "/export";
  const cli::ExportSummary summary = Export(t, out);
  CHECK(summary.layers == 2);  // the top MLP only: no dense features, no bottom MLP
  CHECK(summary.tables == 23);
  CHECK(std::filesystem::exists(out + "/emb_hour_weekday_ids.npy"));
  CHECK_FALSE(std::filesystem::exists(out + "/bottom_0_weight.npy"));
  const std::string manifest = testing::ReadText(out + "/manifest.json");
  CHECK(manifest.find("\"num_dense\": 0") != std::string::npos);
  CheckNumpyAgrees(t, out);
}

TEST_CASE("an export lists exactly the embedding rows the shards stored") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Trained t;
  Train(shared, &t);
  Export(t, t.dir.path() + "/export");
  // Every stored row (version > 0) of table 0 and nothing else.
  auto all = t.cluster->ReadAllRows(1, testing::kTinyRows);
  REQUIRE(all.ok());
  std::vector<uint64_t> written;
  for (size_t i = 0; i < (*all)[0].rows.size(); ++i)
    if ((*all)[0].versions[i] > 0) written.push_back((*all)[0].rows[i]);
  auto shards = t.cluster->ConnectShards(t.model.job_id);
  REQUIRE(shards.ok());
  auto scanned = (*shards)->ScanRows(0).get();
  REQUIRE(scanned.ok());
  CHECK(scanned->rows == written);
  std::string ids = testing::ReadText(t.dir.path() + "/export/emb_C1_ids.npy");
  REQUIRE(ids.size() >= 10);
  size_t header = 10 + (static_cast<uint8_t>(ids[8]) | static_cast<uint8_t>(ids[9]) << 8);
  CHECK(ids.size() == header + 8 * written.size());
}

TEST_CASE("every job and top command and export answer --help") {
  for (const char* c : {"export --help", "top --help"}) {
    INFO(c);
    auto r = testing::RunAugur(c);
    CHECK(r.code == 0);
    CHECK(r.out.find("Usage:") != std::string::npos);
  }
}
