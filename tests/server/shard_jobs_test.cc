// ShardJobs: every job's tables in a store of its own — isolation of rows and applied
// iterations, dropping a job gives its disk space back, job names are checked before anything
// is created, and the namespaces survive a restart; and the same over gRPC through ShardClient.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
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

// Restore: a job rolls back to its checkpoint — rows written after it are gone, rows it held
// come back with their versions, the applied iteration is the checkpoint's — on disk and in
// memory, over gRPC on every shard of a client, and a bad dir changes nothing.
void CheckRestoreRollsBack(ShardJobs& jobs, const std::string& ckdir) {
  TableSpec spec = MakeSpec(0);
  auto c = jobs.GetOrCreate("job-1");
  REQUIRE(c.ok());
  REQUIRE((*c)->CreateTable(spec).ok());
  WriteRows(**c, spec, 5, 10.0f);  // rows 0..4 at version 1
  RowBlock g{0, {7}, std::vector<float>(spec.dim, 0.5f), {}};
  REQUIRE((*c)->ApplyGradients({g}, 3, 0, 1).ok());  // applied iteration 3
  REQUIRE((*c)->Checkpoint(ckdir).ok());
  const auto row2 = ReadRow(**c, 0, 2);
  const auto row7 = ReadRow(**c, 0, 7);
  // After the cut: rows change, a new row appears, iteration 4 is applied.
  RowBlock later;
  later.table_id = 0;
  for (uint64_t r : {2, 9}) {
    later.rows.push_back(r);
    later.versions.push_back(5);
    for (int i = 0; i < spec.RowFloats(); ++i) later.values.push_back(99.0f);
  }
  REQUIRE((*c)->Write({later}).ok());
  REQUIRE((*c)->ApplyGradients({g}, 4, 0, 1).ok());
  c->reset();

  // A dir that holds no checkpoint is NOT_FOUND and changes nothing.
  CHECK(jobs.Restore("job-1", ckdir + "-missing").code() == absl::StatusCode::kNotFound);
  CHECK(ReadRow(**jobs.Get("job-1"), 0, 9)[0] == 99.0f);
  CHECK(jobs.Restore("", ckdir).code() == absl::StatusCode::kInvalidArgument);

  REQUIRE(jobs.Restore("job-1", ckdir).ok());
  auto r = jobs.Get("job-1");
  REQUIRE(r.ok());
  CHECK(ReadRow(**r, 0, 2) == row2);
  CHECK(ReadRow(**r, 0, 7) == row7);
  CHECK(ReadRow(**r, 0, 9) == InitialRecord(spec, 9));  // written after the cut: gone
  CHECK((*r)->applied_iteration() == 3);
  auto v = (*r)->Lookup({RowBlock{0, {2, 9}, {}, {}}}, false);
  REQUIRE(v.ok());
  CHECK((*v)[0].versions == std::vector<int64_t>{1, 0});
  // Iteration 4 can be applied again: the resumed run redoes it.
  CHECK((*r)->ApplyGradients({g}, 4, 0, 1).ok());
}

TEST_CASE("restoring a job's checkpoint rolls back every row written after it (disk)") {
  augur::testing::ScratchDir dir("jobs-restore-disk");
  auto jobs = OpenJobs(DiskOptions(dir.path()));
  CheckRestoreRollsBack(*jobs, dir.path() + "/ck");
  // No leftovers beside the job's store.
  int entries = 0;
  for (auto& e : fs::directory_iterator(dir.path() + "/data/jobs")) {
    INFO(e.path().string());
    CHECK(e.path().filename() == "job-1");
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("restoring a job's checkpoint rolls back every row written after it (memory)") {
  augur::testing::ScratchDir dir("jobs-restore-mem");
  auto core = testing::OpenMemoryCore();
  auto jobs = ShardJobs::ForCore(core.get());
  CheckRestoreRollsBack(*jobs, dir.path() + "/ck");
}

TEST_CASE("a checkpoint replaces an earlier one only when asked and only a checkpoint") {
  augur::testing::ScratchDir dir("jobs-ck-replace");
  auto jobs = OpenJobs(DiskOptions(dir.path()));
  TableSpec spec = MakeSpec(0);
  auto c = jobs->GetOrCreate("job-1");
  REQUIRE(c.ok());
  REQUIRE((*c)->CreateTable(spec).ok());
  const std::string ck = dir.path() + "/ck";
  REQUIRE((*c)->Checkpoint(ck).ok());
  WriteRows(**c, spec, 3, 20.0f);
  CHECK((*c)->Checkpoint(ck).code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE((*c)->Checkpoint(ck, /*replace=*/true).ok());
  CHECK_FALSE(fs::exists(ck + ".new"));
  // The replacement holds the rows written in between.
  c->reset();
  WriteRows(**jobs->Get("job-1"), spec, 3, 40.0f);
  REQUIRE(jobs->Restore("job-1", ck).ok());
  CHECK(ReadRow(**jobs->Get("job-1"), 0, 1)[0] == 21.0f);
  // A copy a killed shard left half-written does not stop the next checkpoint.
  fs::create_directories(dir.path() + "/ck2.tmp");
  std::ofstream(dir.path() + "/ck2.tmp/000007.sst") << "half";
  REQUIRE((*jobs->Get("job-1"))->Checkpoint(dir.path() + "/ck2").ok());
  CHECK_FALSE(fs::exists(dir.path() + "/ck2.tmp"));
  CHECK(fs::exists(dir.path() + "/ck2/CURRENT"));
  // A directory that is not a checkpoint is never replaced.
  fs::create_directories(dir.path() + "/precious/sub");
  CHECK((*jobs->Get("job-1"))->Checkpoint(dir.path() + "/precious", true).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(fs::exists(dir.path() + "/precious/sub"));
}

TEST_CASE("over gRPC a client restores every shard of a job from its checkpoint") {
  augur::testing::ScratchDir dir("jobs-restore-grpc");
  std::vector<std::unique_ptr<ShardJobs>> jobs;
  std::vector<std::unique_ptr<ShardServer>> servers;
  std::vector<std::string> eps;
  for (uint32_t s = 0; s < 2; ++s) {
    auto o = DiskOptions(dir.path() + "/s" + std::to_string(s));
    o.core.shard_index = s;
    o.core.num_shards = 2;
    jobs.push_back(OpenJobs(o));
    auto server = ShardServer::Start(jobs.back().get(), nullptr, {"127.0.0.1:0", 2});
    REQUIRE(server.ok());
    eps.push_back("127.0.0.1:" + std::to_string((*server)->port()));
    servers.push_back(std::move(*server));
  }
  ShardClientOptions o;
  o.job = "job-1";
  auto client = ShardClient::Connect(eps, o);
  REQUIRE(client.ok());
  TableSpec spec = MakeSpec(0);
  REQUIRE((*client)->CreateTable(spec).get().ok());
  RowBlock b{0, {}, {}, {}};
  for (uint64_t r = 0; r < 10; ++r) {
    b.rows.push_back(r);
    b.versions.push_back(1);
    for (int i = 0; i < spec.RowFloats(); ++i) b.values.push_back(1.0f);
  }
  REQUIRE((*client)->Write({b}).get().ok());
  const std::string ck = dir.path() + "/ck/iter-1";
  REQUIRE((*client)->Checkpoint(ck).get().ok());
  for (auto& v : b.versions) v = 2;
  for (auto& v : b.values) v = 2.0f;
  REQUIRE((*client)->Write({b}).get().ok());
  REQUIRE((*client)->Restore(ck).get().ok());
  auto got = (*client)->Lookup({RowBlock{0, b.rows, {}, {}}}, true).get();
  REQUIRE(got.ok());
  for (float v : (*got)[0].values) CHECK(v == 1.0f);
  for (int64_t v : (*got)[0].versions) CHECK(v == 1);
  CHECK((*client)->Restore(dir.path() + "/nowhere").get().code() == absl::StatusCode::kNotFound);
  for (auto& s : servers) s->Shutdown();
}

}  // namespace augur::shard
