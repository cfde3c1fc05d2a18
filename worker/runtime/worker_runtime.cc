#include "worker/runtime/worker_runtime.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <thread>

#include "absl/time/clock.h"
#include "common/status.h"
#include "worker/model/collective_factory.h"
#include "worker/runtime/oracle_connection.h"
#include "worker/runtime/trainer.h"

namespace augur::worker {

namespace {

using CollectiveResult = absl::StatusOr<std::unique_ptr<model::Collective>>;

// Creates the collective (the rendezvous with the other workers) on a thread of its own, and
// gives up on it when the job ends meanwhile (its plan stream closes: a peer died, or the job
// was cancelled), instead of waiting out the rendezvous timeout on a peer that is gone. An
// abandoned rendezvous ends by itself within wo.timeout; it owns what it uses (`store`, the
// factory), so nothing it touches goes away under it.
CollectiveResult MeetPeers(OracleConnection& oracle, model::WorkerCollectiveOptions wo,
                           std::shared_ptr<model::RendezvousStore> store,
                           CollectiveFactory make) {
  auto result = std::make_shared<std::promise<CollectiveResult>>();
  auto done = result->get_future();
  std::thread([result, wo, store, make = std::move(make)] {
    result->set_value(make ? make(wo) : model::NewWorkerCollective(wo));
  }).detach();
  while (done.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    absl::Status ended = oracle.StreamStatus();
    if (!ended.ok())
      return absl::Status(ended.code(), "the job ended while meeting the other workers: " +
                                            std::string(ended.message()));
  }
  return done.get();
}

}  // namespace

absl::Status RunOneJob(const WorkerOptions& o) {
  OracleConnection oracle(o.oracle, o.credentials);
  AUGUR_ASSIGN_OR_RETURN(JobAssignment a,
                         oracle.Register(o.worker_index, absl::Seconds(o.register_timeout_s)));
  // Plans stream from now on: a worker that dies during its start-up (opening data, meeting
  // the other workers) breaks its stream, and the oracle fails the job naming it within a
  // second instead of leaving the others waiting out the rendezvous timeout.
  oracle.StartPlanStream(a.job_id, a.worker_index, a.start_iteration);
  auto fail = [&](const absl::Status& st) {
    ProgressUpdate u;
    u.error = std::string(st.message());
    (void)oracle.Report(a.job_id, a.worker_index, u);
    return st;
  };
  auto spec = job::ParseJobSpec(a.job_yaml);
  if (!spec.ok()) return fail(spec.status());
  spdlog::info("worker {}: joined {} ({}), {} iterations, policy {}", a.worker_index, a.job_id,
               spec->name, a.iterations, spec->cache.policy);
  auto config = ModelConfigOf(*spec);
  if (!config.ok()) return fail(config.status());
  auto co = ComputeOptionsOf(*spec, *config, spec->cache.capacity, o.cuda_device);
  auto compute = o.make_compute ? o.make_compute(co) : model::CreateDenseCompute(co);
  if (!compute.ok()) return fail(compute.status());
  auto train = data::Dataset::Open(spec->data.train);
  if (!train.ok()) return fail(train.status());
  std::unique_ptr<data::Dataset> eval;
  if (!spec->data.eval.empty()) {
    auto e = data::Dataset::Open(spec->data.eval);
    if (!e.ok()) return fail(e.status());
    eval = std::move(*e);
  }
  shard::ShardClientOptions shard_options;
  shard_options.credentials = o.credentials;
  shard_options.job = a.job_id;  // the job's own tables on every shard
  auto shards = shard::ShardClient::Connect(spec->cluster.shards, shard_options);
  if (!shards.ok()) return fail(shards.status());
  // One worker: no all-reduce. More: Gloo between CPU workers, NCCL between CUDA workers (the
  // dense gradients stay on the device), both meeting through the oracle's rendezvous store.
  std::shared_ptr<model::RendezvousStore> store;
  if (spec->cluster.workers > 1) store = oracle.NewRendezvousStore();
  model::WorkerCollectiveOptions wo;
  wo.backend = spec->training.backend;
  wo.rank = a.worker_index;
  wo.size = spec->cluster.workers;
  wo.cuda_device = o.cuda_device;
  wo.store = store.get();
  wo.prefix = a.job_id;
  wo.hostname = o.collective_host;
  wo.timeout = absl::Seconds(60);
  spdlog::info("worker {}: all-reduce over {} ({} workers, backend {})", a.worker_index,
               model::CollectiveKindName(model::CollectiveKindFor(wo.backend, wo.size)), wo.size,
               wo.backend);
  auto collective = MeetPeers(oracle, wo, store, o.make_collective);
  if (!collective.ok()) return fail(collective.status());
  TrainerDeps d;
  d.assignment = a;
  d.spec = *spec;
  d.oracle = &oracle;
  d.shards = shards->get();
  d.compute = compute->get();
  d.collective = collective->get();
  d.train = train->get();
  d.eval = eval.get();
  d.metrics = o.metrics;
  d.cuda_device = o.cuda_device;
  if (!o.output_dir.empty()) d.output_dir = o.output_dir + "/" + a.job_id;
  std::atomic<bool> trained{false};
  std::thread watchdog;
  if (o.exit_when_stuck_s > 0)
    watchdog = std::thread([&oracle, &trained, &a, grace = absl::Seconds(o.exit_when_stuck_s)] {
      absl::Time broke = absl::InfiniteFuture();
      while (!trained.load()) {
        absl::SleepFor(absl::Milliseconds(100));
        absl::Status s = oracle.StreamStatus();
        if (s.ok()) continue;
        if (broke == absl::InfiniteFuture()) broke = absl::Now();
        if (absl::Now() - broke < grace || trained.load()) continue;
        spdlog::error("worker {}: {} ended {} ago ({}) and this worker is still blocked, most "
                      "likely in a collective with a peer that died; exiting for a clean restart",
                      a.worker_index, a.job_id, absl::FormatDuration(absl::Now() - broke),
                      s.ToString());
        spdlog::shutdown();
        std::_Exit(75);
      }
    });
  auto st = RunTrainer(d);
  trained = true;
  if (watchdog.joinable()) watchdog.join();
  if (st.ok()) spdlog::info("worker {}: {} done", a.worker_index, a.job_id);
  return st;
}

absl::Status RunWorker(const WorkerOptions& o) {
  while (true) {
    auto st = RunOneJob(o);
    if (o.exit_after_job) return st;
    if (st.code() == absl::StatusCode::kUnavailable && st.message().find("register") != std::string::npos)
      return absl::OkStatus();  // no job came within the registration timeout
    if (!st.ok() && st.code() != absl::StatusCode::kCancelled) {
      spdlog::warn("job ended with error: {}", st.ToString());
      absl::SleepFor(absl::Milliseconds(200));  // never a hot loop of failing jobs
    }
  }
}

}  // namespace augur::worker
