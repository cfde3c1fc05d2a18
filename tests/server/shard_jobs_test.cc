// ShardJobs: every job's tables in a store of its own — isolation of rows and applied
// iterations, dropping a job gives its disk space back, job names are checked before anything
// is created, and the namespaces survive a restart; and the same over gRPC through ShardClient.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "server/client/shard_client.h"
#include "server/shard_jobs.h"
#include "server/shard_server.h"
#include "tests/server/shard_test_util.h"
#include "tests/support/test_paths.h"

namespace augur::shard {
namespace {

namespace fs = std::filesystem;
using testing::InitialRecord;
using testing::MakeSpec;

ShardJobsOptions DiskOptions(const std::string& dir) {
  ShardJobsOptions o;
  o.store.profile = StoreProfile::kSsd;
  o.store.path = dir + "/data";
  o.store.block_cache_mb = 8;
  o.write_buffer_mb = 8;
  return o;
}

std::unique_ptr<ShardJobs> OpenJobs(const ShardJobsOptions& o) {
  auto j = ShardJobs::Open(o);
  INFO(j.status().ToString());
  REQUIRE(j.ok());
  return std::move(j).value();
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  return n;
}

// Writes rows [0, n) of `spec` with value `v` at version 1.
void WriteRows(ShardCore& core, const TableSpec& spec, uint64_t n, float v) {
  RowBlock b;
  b.table_id = spec.id;
  for (uint64_t r = 0; r < n; ++r) {
    b.rows.push_back(r);
    b.versions.push_back(1);
    for (int i = 0; i < spec.RowFloats(); ++i) b.values.push_back(v + static_cast<float>(r % 7));
  }
  REQUIRE(core.Write({b}).ok());
}

std::vector<float> ReadRow(ShardCore& core, uint32_t table, uint64_t row) {
  auto got = core.Lookup({RowBlock{table, {row}, {}, {}}}, /*with_state=*/true);
  REQUIRE(got.ok());
  return (*got)[0].values;
}

}  // namespace

TEST_CASE("two jobs with the same table id and different specs each hold their own rows") {
  augur::testing::ScratchDir dir("jobs-isolation");
  auto jobs = OpenJobs(DiskOptions(dir.path()));
  TableSpec a = MakeSpec(0), b = MakeSpec(0);
  b.seed = 7;  // what failed before: "table id 0 already holds 't0' with a different spec"
  auto ja = jobs->GetOrCreate("job-1");
  auto jb = jobs->GetOrCreate("job-2");
  REQUIRE(ja.ok());
  REQUIRE(jb.ok());
  REQUIRE((*ja)->CreateTable(a).ok());
  REQUIRE((*jb)->CreateTable(b).ok());
  WriteRows(**ja, a, 10, 100.0f);
  // job-2 still reads its own deterministic init, and job-1 its written rows.
  CHECK(ReadRow(**jb, 0, 3) == InitialRecord(b, 3));
  CHECK(ReadRow(**ja, 0, 3)[0] == 103.0f);
  // The default namespace holds neither.
  CHECK(jobs->default_core()->ListTables().empty());
}

TEST_CASE("each job has its own applied iteration on the parameter-server path") {
  auto core = testing::OpenMemoryCore();
  auto jobs = ShardJobs::ForCore(core.get());
  TableSpec spec = MakeSpec(0);
  for (const char* job : {"job-1", "job-2"}) {
    INFO(job);
    auto c = jobs->GetOrCreate(job);
    REQUIRE(c.ok());
    REQUIRE((*c)->CreateTable(spec).ok());
    RowBlock g{0, {1}, std::vector<float>(spec.dim, 0.5f), {}};
    auto applied = (*c)->ApplyGradients({g}, 0, 0, 1);
    INFO(applied.status().ToString());
    CHECK(applied.ok());  // job-2's iteration 0 is not "already applied" by job-1
  }
}

TEST_CASE("dropping a job removes its store and gives its disk space back") {
  augur::testing::ScratchDir dir("jobs-drop");
  auto o = DiskOptions(dir.path());
  auto jobs = OpenJobs(o);
  const std::string data = o.store.path;
  const uint64_t before = DirBytes(data);
  TableSpec spec = MakeSpec(0, 1 << 20, 16, OptimizerKind::kAdagrad);
  {
    auto c = jobs->GetOrCreate("job-1");
    REQUIRE(c.ok());
    REQUIRE((*c)->CreateTable(spec).ok());
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> noise(-1.0f, 1.0f);
    for (int part = 0; part < 4; ++part) {
      RowBlock b;
      b.table_id = 0;
      for (uint64_t r = part * 20000; r < (part + 1) * 20000u; ++r) {
        b.rows.push_back(r);
        b.versions.push_back(1);
        // Random values: RocksDB compresses blocks, and the size is what this test measures.
        for (int i = 0; i < spec.RowFloats(); ++i) b.values.push_back(noise(rng));
      }
      REQUIRE((*c)->Write({b}).ok());
    }
    REQUIRE((*c)->store()->FlushAndCompact().ok());
  }
  const uint64_t with_job = DirBytes(data);
  // 80,000 rows x 17 random floats (value, row-wise Adagrad state) and a version: ~6 MB.
  CHECK(with_job - before > 5u << 20);
  CHECK(fs::exists(data + "/jobs/job-1"));
  auto dropped = jobs->Drop("job-1");
  REQUIRE(dropped.ok());
  CHECK(*dropped);
  CHECK_FALSE(fs::exists(data + "/jobs/job-1"));
  const uint64_t after = DirBytes(data);
  CHECK(after < before + (1u << 20));
  WARN("data dir: " << before << " bytes, " << with_job << " with job-1, " << after
                    << " after dropping it");
  // Gone: the next request naming it finds nothing; a drop again is a no-op.
  CHECK(jobs->Get("job-1").status().code() == absl::StatusCode::kNotFound);
  CHECK(*jobs->Drop("job-1") == false);
}

TEST_CASE("a job created again after a drop starts from its deterministic init") {
  auto core = testing::OpenMemoryCore();
  auto jobs = ShardJobs::ForCore(core.get());
  TableSpec spec = MakeSpec(0);
  auto c = jobs->GetOrCreate("job-1");
  REQUIRE(c.ok());
  REQUIRE((*c)->CreateTable(spec).ok());
  WriteRows(**c, spec, 5, 50.0f);
  c->reset();
  REQUIRE(*jobs->Drop("job-1"));
  auto again = jobs->GetOrCreate("job-1");
  REQUIRE(again.ok());
  CHECK((*again)->ListTables().empty());
  REQUIRE((*again)->CreateTable(spec).ok());
  CHECK(ReadRow(**again, 0, 2) == InitialRecord(spec, 2));
}

TEST_CASE("a restarted shard serves the tables its jobs had") {
  augur::testing::ScratchDir dir("jobs-restart");
  auto o = DiskOptions(dir.path());
  TableSpec spec = MakeSpec(3);
  {
    auto jobs = OpenJobs(o);
    auto c = jobs->GetOrCreate("job-9");
    REQUIRE(c.ok());
    REQUIRE((*c)->CreateTable(spec).ok());
    WriteRows(**c, spec, 4, 9.0f);
  }
  auto jobs = OpenJobs(o);
  auto c = jobs->Get("job-9");  // opened on demand from its directory
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  REQUIRE((*c)->ListTables().size() == 1);
  CHECK(ReadRow(**c, 3, 2)[0] == 11.0f);
}

TEST_CASE("a job name that is not a plain directory name is refused and creates nothing") {
  augur::testing::ScratchDir dir("jobs-names");
  auto o = DiskOptions(dir.path());
  auto jobs = OpenJobs(o);
  for (std::string bad : {std::string("../escape"), std::string("a/b"), std::string(".hidden"),
                          std::string("-x"), std::string(129, 'j'), std::string("job\n1"),
                          std::string("job 1")}) {
    INFO(bad);
    auto c = jobs->GetOrCreate(bad);
    CHECK(c.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(c.status().message().size() < 200);  // quotes at most 64 bytes of it
    CHECK(jobs->Drop(bad).status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK_FALSE(fs::exists(o.store.path + "/jobs"));
  CHECK(jobs->Drop("").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a shard holds at most max_jobs job namespaces") {
  auto o = ShardJobsOptions();
  o.store.path = "/jobs-limit";
  o.max_jobs = 2;
  auto jobs = OpenJobs(o);
  REQUIRE(jobs->GetOrCreate("a").ok());
  REQUIRE(jobs->GetOrCreate("b").ok());
  CHECK(jobs->GetOrCreate("c").status().code() == absl::StatusCode::kResourceExhausted);
  REQUIRE(jobs->Drop("a").ok());
  CHECK(jobs->GetOrCreate("c").ok());
}

TEST_CASE("the max_jobs bound counts job stores on disk that a restart has not opened yet") {
  augur::testing::ScratchDir dir("jobs-limit-disk");
  auto o = DiskOptions(dir.path());
  o.max_jobs = 2;
  {
    auto jobs = OpenJobs(o);
    REQUIRE(jobs->GetOrCreate("a").ok());
    REQUIRE(jobs->GetOrCreate("b").ok());
  }
  auto jobs = OpenJobs(o);  // nothing open yet, two stores on disk
  CHECK(jobs->GetOrCreate("c").status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(jobs->Get("a").ok());  // an existing job still opens
  REQUIRE(*jobs->Drop("b"));
  CHECK(jobs->GetOrCreate("c").ok());
}

TEST_CASE("over gRPC every request addresses the job the client names, and DropJob deletes it") {
  augur::testing::ScratchDir dir("jobs-grpc");
  auto jobs = OpenJobs(DiskOptions(dir.path()));
  auto server = ShardServer::Start(jobs.get(), nullptr, {"127.0.0.1:0", 2});
  REQUIRE(server.ok());
  const std::string ep = "127.0.0.1:" + std::to_string((*server)->port());
  ShardClientOptions oa, ob;
  oa.job = "job-1";
  ob.job = "job-2";
  auto a = ShardClient::Connect({ep}, oa);
  auto b = ShardClient::Connect({ep}, ob);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  TableSpec sa = MakeSpec(0), sb = MakeSpec(0);
  sb.seed = 99;
  REQUIRE((*a)->CreateTable(sa).get().ok());
  REQUIRE((*b)->CreateTable(sb).get().ok());
  std::vector<float> rec(sa.RowFloats(), 4.0f);
  REQUIRE((*a)->Write({RowBlock{0, {1}, rec, {1}}}).get().ok());
  auto rb = (*b)->Lookup({RowBlock{0, {1}, {}, {}}}, true).get();
  REQUIRE(rb.ok());
  CHECK((*rb)[0].values == InitialRecord(sb, 1));
  CHECK((*rb)[0].versions[0] == 0);

  auto dropped = (*a)->DropJob().get();
  REQUIRE(dropped.ok());
  CHECK(*dropped);
  auto tables = (*a)->ListTables().get();
  REQUIRE(tables.ok());
  CHECK(tables->empty());
  CHECK((*a)->Lookup({RowBlock{0, {1}, {}, {}}}).get().status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(*(*a)->DropJob().get() == false);
  // job-2 is untouched; the default namespace cannot be dropped; a bad name is refused.
  CHECK((*b)->ListTables().get()->size() == 1);
  auto def = ShardClient::Connect({ep});
  CHECK((*def)->DropJob().get().status().code() == absl::StatusCode::kInvalidArgument);
  ShardClientOptions bad;
  bad.job = "../../etc";
  auto evil = ShardClient::Connect({ep}, bad);
  CHECK((*evil)->CreateTable(sa).get().status().code() == absl::StatusCode::kInvalidArgument);
  // A refused spec creates no namespace.
  ShardClientOptions oc;
  oc.job = "job-3";
  auto c = ShardClient::Connect({ep}, oc);
  TableSpec broken = MakeSpec(0);
  broken.dim = 0;
  CHECK((*c)->CreateTable(broken).get().status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(fs::exists(dir.path() + "/data/jobs/job-3"));
  (*server)->Shutdown();
}

}  // namespace augur::shard
