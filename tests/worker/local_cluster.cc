#include "tests/worker/local_cluster.h"

#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

#include "common/data/prep.h"

#include "common/limits.h"
#include "common/metrics.h"
#include "oracle_cacher/job_host.h"
#include "oracle_cacher/oracle_service.h"
#include "oracle_cacher/shard_tables.h"
#include "server/client/shard_client.h"
#include "server/shard_core.h"
#include "server/shard_server.h"
#include "server/shard_store.h"
#include "worker/runtime/worker_runtime.h"

namespace augur::testing {

std::string PrepareCriteoSample(const std::string& shared, const std::string& file,
                                uint64_t max_rows, const std::string& out_dir) {
  data::PrepOptions p;
  p.inputs = {shared + "/criteo-kaggle/" + file};
  p.out_dir = out_dir;
  p.writer.transform = data::SparseTransform::kMod;
  p.writer.max_rows = max_rows;
  auto r = data::PrepareDataset(p);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return out_dir;
}

struct LocalCluster::Impl {
  MetricsRegistry metrics;
  std::vector<std::unique_ptr<shard::ShardCore>> cores;
  std::vector<std::unique_ptr<shard::ShardServer>> servers;
  std::vector<std::string> endpoints;
  std::unique_ptr<oracle::JobHost> host;
  std::unique_ptr<oracle::OracleServiceImpl> service;
  std::unique_ptr<grpc::Server> oracle_server;
  int oracle_port = 0;
  std::vector<std::thread> workers;
  std::vector<absl::Status> results;
  worker::ComputeFactory make_compute;
  worker::CollectiveFactory make_collective;
};

LocalCluster::LocalCluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LocalCluster::~LocalCluster() {
  JoinWorkers();
  if (impl_->oracle_server) impl_->oracle_server->Shutdown(std::chrono::system_clock::now());
  impl_->host.reset();
  for (auto& s : impl_->servers) s->Shutdown();
}

absl::StatusOr<std::unique_ptr<LocalCluster>> LocalCluster::Start(int shards, int writeback_horizon,
                                                                   absl::Duration worker_timeout,
                                                                   int planner_threads) {
  auto impl = std::make_unique<Impl>();
  for (int i = 0; i < shards; ++i) {
    shard::StoreOptions so;
    so.profile = shard::StoreProfile::kMemory;
    so.path = "/augur-test-shard-" + std::to_string(i);
    so.block_cache_mb = 8;
    auto store = shard::ShardStore::Open(so);
    if (!store.ok()) return store.status();
    shard::ShardCoreOptions co;
    co.shard_index = i;
    co.num_shards = shards;
    auto core = shard::ShardCore::Open(std::move(*store), co);
    if (!core.ok()) return core.status();
    shard::ShardServerOptions sv;
    sv.listen = "127.0.0.1:0";
    sv.worker_threads = 4;
    auto server = shard::ShardServer::Start(core->get(), &impl->metrics, sv);
    if (!server.ok()) return server.status();
    impl->endpoints.push_back("127.0.0.1:" + std::to_string((*server)->port()));
    impl->cores.push_back(std::move(*core));
    impl->servers.push_back(std::move(*server));
  }
  oracle::JobRunnerOptions ro;
  ro.writeback_horizon = writeback_horizon;
  ro.worker_timeout = worker_timeout;
  ro.planner_threads = planner_threads;
  ro.metrics = &impl->metrics;
  impl->host = std::make_unique<oracle::JobHost>(oracle::NewShardTables({}), ro, impl->endpoints);
  impl->service = std::make_unique<oracle::OracleServiceImpl>(impl->host.get());
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &impl->oracle_port);
  b.RegisterService(impl->service.get());
  b.SetMaxReceiveMessageSize(kOracleMaxMessageBytes);  // as augur-oracle sets them
  b.SetMaxSendMessageSize(kOracleMaxMessageBytes);
  impl->oracle_server = b.BuildAndStart();
  if (!impl->oracle_server) return absl::UnavailableError("oracle did not start");
  return std::unique_ptr<LocalCluster>(new LocalCluster(std::move(impl)));
}

const std::vector<std::string>& LocalCluster::shard_endpoints() const { return impl_->endpoints; }
const MetricsRegistry& LocalCluster::metrics() const { return impl_->metrics; }
std::string LocalCluster::oracle_endpoint() const {
  return "127.0.0.1:" + std::to_string(impl_->oracle_port);
}

absl::StatusOr<std::string> LocalCluster::Submit(job::JobSpec spec) {
  spec.cluster.shards = impl_->endpoints;
  return impl_->host->Submit(spec);
}

void LocalCluster::StartWorkers(int workers, const std::string& output_dir) {
  impl_->results.assign(workers, absl::OkStatus());
  for (int w = 0; w < workers; ++w)
    impl_->workers.emplace_back([this, w, output_dir] {
      worker::WorkerOptions o;
      o.oracle = oracle_endpoint();
      o.worker_index = w;
      o.output_dir = output_dir;
      o.register_timeout_s = 30;
      o.exit_after_job = true;
      o.make_compute = impl_->make_compute;
      o.make_collective = impl_->make_collective;
      impl_->results[w] = worker::RunOneJob(o);
    });
}

void LocalCluster::SetWorkerFactories(worker::ComputeFactory compute,
                                      worker::CollectiveFactory collective) {
  impl_->make_compute = std::move(compute);
  impl_->make_collective = std::move(collective);
}

std::vector<absl::Status> LocalCluster::JoinWorkers() {
  for (auto& t : impl_->workers) t.join();
  impl_->workers.clear();
  return impl_->results;
}

oracle::JobHost* LocalCluster::host() { return impl_->host.get(); }

bool LocalCluster::WaitForIteration(int64_t iterations, absl::Duration timeout) {
  absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    auto s = impl_->host->Status("");
    if (s.ok() && s->iteration >= iterations) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

void LocalCluster::StopShard(int index) { impl_->servers[index]->Shutdown(); }

void LocalCluster::StopOracle() {
  impl_->oracle_server->Shutdown(std::chrono::system_clock::now());
}

absl::StatusOr<oracle::JobStatus> LocalCluster::RunJob(job::JobSpec spec, const std::string& output_dir,
                                                       std::vector<absl::Status>* worker_results) {
  int workers = spec.cluster.workers;
  auto id = Submit(std::move(spec));
  if (!id.ok()) return id.status();
  StartWorkers(workers, output_dir);
  auto results = JoinWorkers();
  if (!impl_->host->WaitIdle(absl::Seconds(30)))
    return absl::DeadlineExceededError("job did not end");
  if (worker_results) *worker_results = results;
  return impl_->host->Status(*id);
}

absl::StatusOr<std::unique_ptr<shard::ShardClient>> LocalCluster::ConnectShards(
    const std::string& job) {
  shard::ShardClientOptions o;
  o.job = job;
  if (o.job.empty()) {
    auto last = impl_->host->Status("");
    if (!last.ok()) return last.status();
    o.job = last->job_id;
  }
  return shard::ShardClient::Connect(impl_->endpoints, o);
}

absl::StatusOr<std::vector<shard::RowBlock>> LocalCluster::ReadAllRows(int tables, uint64_t rows,
                                                                       const std::string& job) {
  auto client = ConnectShards(job);
  if (!client.ok()) return client.status();
  std::vector<shard::RowBlock> req(tables);
  for (int t = 0; t < tables; ++t) {
    req[t].table_id = t;
    for (uint64_t r = 0; r < rows; ++r) req[t].rows.push_back(r);
  }
  return (*client)->Lookup(std::move(req), /*with_state=*/true).get();
}

void CheckSameModel(const std::vector<char>& dense_a, const std::vector<shard::RowBlock>& rows_a,
                    const std::vector<char>& dense_b, const std::vector<shard::RowBlock>& rows_b) {
  CHECK(dense_a == dense_b);
  REQUIRE(rows_a.size() == rows_b.size());
  for (size_t t = 0; t < rows_a.size(); ++t) {
    INFO("table " << t);
    CHECK(rows_a[t].versions == rows_b[t].versions);
    REQUIRE(rows_a[t].values.size() == rows_b[t].values.size());
    CHECK(std::memcmp(rows_a[t].values.data(), rows_b[t].values.data(),
                      rows_a[t].values.size() * sizeof(float)) == 0);
  }
}

double MaxRelDiff(const std::vector<float>& a, const std::vector<float>& b, size_t width) {
  double m = 0;
  for (size_t r = 0; r + width <= a.size(); r += width) {
    double diff = 0, scale = 1e-12;
    for (size_t i = r; i < r + width; ++i) {
      diff = std::max(diff, std::abs(double(a[i]) - b[i]));
      scale = std::max(scale, std::abs(double(a[i])));
    }
    m = std::max(m, diff / scale);
  }
  return m;
}

void CheckCloseModel(const std::vector<char>& dense_a, const std::vector<shard::RowBlock>& rows_a,
                     const std::vector<char>& dense_b, const std::vector<shard::RowBlock>& rows_b,
                     uint64_t rows, double tolerance) {
  REQUIRE(dense_a.size() == dense_b.size());
  std::vector<float> a(dense_a.size() / sizeof(float)), b(dense_b.size() / sizeof(float));
  std::memcpy(a.data(), dense_a.data(), dense_a.size());
  std::memcpy(b.data(), dense_b.data(), dense_b.size());
  CHECK(MaxRelDiff(a, b, a.size()) < tolerance);
  REQUIRE(rows_a.size() == rows_b.size());
  for (size_t t = 0; t < rows_a.size(); ++t) {
    INFO("table " << t);
    CHECK(rows_a[t].versions == rows_b[t].versions);
    REQUIRE(rows_a[t].values.size() == rows_b[t].values.size());
    CHECK(MaxRelDiff(rows_a[t].values, rows_b[t].values, rows_a[t].values.size() / rows) <
          tolerance);
  }
}

int64_t TouchedRows(const std::vector<shard::RowBlock>& rows) {
  int64_t n = 0;
  for (const auto& b : rows)
    for (auto v : b.versions) n += v > 0;
  return n;
}

}  // namespace augur::testing
