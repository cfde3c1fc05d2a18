// Hostile requests to a real oracle over loopback gRPC (issue 15, items 5-12): each is refused
// with a clear status naming the field, nothing it knows changes, nothing wedges.
#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <thread>

#include "common/data/prep.h"
#include "common/limits.h"
#include "oracle_cacher/job_host.h"
#include "proto/oracle.grpc.pb.h"
#include "tests/support/test_paths.h"
#include "tests/worker/local_cluster.h"
#include "worker/model/job_model.h"

using namespace augur;
namespace pb = ::augur::oracle::v1;

namespace {

constexpr int kBatch = 16;

// A cluster (one shard) and a raw oracle stub that sends whatever a test builds.
struct Oracle {
  testing::ScratchDir dir{"oracle-hostile"};
  std::unique_ptr<testing::LocalCluster> cluster;
  std::unique_ptr<pb::OracleService::Stub> stub;
  std::string dataset;
  std::map<int, std::string> tokens;  // worker index -> its registration token

  explicit Oracle(const std::string& shared, absl::Duration worker_timeout = absl::Seconds(60)) {
    cluster = *testing::LocalCluster::Start(1, 4, worker_timeout);
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(-1);
    args.SetMaxReceiveMessageSize(-1);
    stub = pb::OracleService::NewStub(grpc::CreateCustomChannel(
        cluster->oracle_endpoint(), grpc::InsecureChannelCredentials(), args));
    dataset = testing::PrepareCriteoSample(shared, "wideresdnn_train.tsv", 200,
                                           dir.path() + "/train");
  }
  job::JobSpec Spec(int workers, int64_t iterations = 50) {
    auto s = job::ParseJobSpec("data: {train: " + dataset + "}\n" +
                               "model: {preset: custom, dim: 8, bottom: [16, 8], top: [16, 1]}\n"
                               "training: {batch_size: " + std::to_string(kBatch) +
                               ", iterations: " + std::to_string(iterations) + "}\n"
                               "cache: {capacity: 2000, lookahead: 10, prefetch_distance: 2}\n");
    REQUIRE(s.ok());
    s->cluster.workers = workers;
    return *s;
  }
  // Submits a job and waits until its runner exists (workers may register).
  std::string Start(const job::JobSpec& spec) {
    auto id = cluster->Submit(spec);
    REQUIRE(id.ok());
    for (int i = 0; i < 200 && cluster->host()->Running() == nullptr; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(cluster->host()->Running() != nullptr);
    return *id;
  }
  std::unique_ptr<grpc::ClientContext> Ctx(int seconds = 10) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    return ctx;
  }
  grpc::Status Register(int index, int* got = nullptr) {
    pb::RegisterWorkerRequest req;
    req.set_worker_index(index);
    pb::RegisterWorkerResponse resp;
    auto st = stub->RegisterWorker(Ctx().get(), req, &resp);
    if (got) *got = resp.worker_index();
    if (st.ok()) tokens[resp.worker_index()] = resp.worker_token();
    return st;
  }
  grpc::Status Report(const pb::ProgressReport& r, pb::ProgressAck* ack = nullptr) {
    pb::ProgressAck local;
    return stub->ReportProgress(Ctx().get(), r, ack ? ack : &local);
  }
  // A report as worker `worker` would send it (with its token when it registered).
  pb::ProgressReport Progress(const std::string& job, int worker, int64_t completed,
                              int64_t samples) {
    pb::ProgressReport r;
    r.set_job_id(job);
    r.set_worker_index(worker);
    r.set_completed(completed);
    r.set_samples(samples);
    if (tokens.count(worker)) r.set_worker_token(tokens[worker]);
    return r;
  }
  // Opens worker `worker`'s plan stream on `ctx` (with its token) and reads its first batch;
  // ctx->TryCancel() then breaks it, as the kernel does for a worker killed with SIGKILL.
  std::unique_ptr<grpc::ClientReader<pb::PlanBatch>> OpenPlanStream(grpc::ClientContext* ctx,
                                                                   const std::string& job,
                                                                   int worker) {
    pb::StreamPlanRequest req;
    req.set_job_id(job);
    req.set_worker_index(worker);
    req.set_worker_token(tokens[worker]);
    auto reader = stub->StreamPlan(ctx, req);
    pb::PlanBatch batch;
    REQUIRE(reader->Read(&batch));
    return reader;
  }
  oracle::JobStatus Status(const std::string& id) {
    auto s = cluster->host()->Status(id);
    REQUIRE(s.ok());
    return *s;
  }
  oracle::JobState WaitFinal(const std::string& id, int seconds = 20) {
    for (int i = 0; i < seconds * 50; ++i) {
      auto st = Status(id).state;
      if (oracle::IsFinal(st)) return st;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Status(id).state;
  }
};


bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("oversized texts are refused, and listing jobs keeps working") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  std::string id = o.Start(o.Spec(2));
  {
    pb::SubmitJobRequest req;
    req.set_job_yaml("name: " + std::string(50 << 20, 'n') + "\ndata: {train: x}\n");
    pb::SubmitJobResponse resp;
    auto st = o.stub->SubmitJob(o.Ctx(30).get(), req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(Contains(st.error_message(), "job_yaml"));
  }
  {
    pb::SubmitJobRequest req;  // small enough as YAML, but the name is over its limit
    req.set_job_yaml("name: " + std::string(kMaxNameBytes + 1, 'n') + "\ndata: {train: x}\n");
    pb::SubmitJobResponse resp;
    auto st = o.stub->SubmitJob(o.Ctx().get(), req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(Contains(st.error_message(), "name"));
  }
  {
    pb::CancelJobRequest req;
    req.set_job_id(id);
    req.set_reason(std::string(5 << 20, 'r'));
    pb::CancelJobResponse resp;
    CHECK(o.stub->CancelJob(o.Ctx().get(), req, &resp).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
  }
  REQUIRE(o.Register(0).ok());
  pb::ProgressReport r = o.Progress(id, 0, 0, 0);
  r.set_error(std::string(5 << 20, 'e'));
  CHECK(o.Report(r).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  {
    pb::JobStatusRequest req;
    req.set_job_id(std::string(8 << 10, 'j'));
    pb::JobStatusResponse resp;
    auto st = o.stub->JobStatus(o.Ctx().get(), req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(st.error_message().size() < 256);
  }
  pb::ListJobsResponse list;
  REQUIRE(o.stub->ListJobs(o.Ctx().get(), pb::ListJobsRequest(), &list).ok());
  REQUIRE(list.jobs_size() == 1);
  CHECK(list.jobs(0).state() == "PENDING");
  CHECK(list.jobs(0).reason().empty());
}

TEST_CASE("progress reports are believed only as far as they are checked") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  std::string id = o.Start(o.Spec(2));
  REQUIRE(o.Register(0).ok());
  auto refused = [&](pb::ProgressReport r, grpc::StatusCode code) {
    auto st = o.Report(r);
    INFO(st.error_message());
    CHECK(st.error_code() == code);
  };
  // A report for worker 0 without its token is refused.
  pb::ProgressReport forged = o.Progress(id, 0, 0, 0);
  forged.set_worker_token("guess");
  forged.set_error("forged");
  refused(forged, grpc::StatusCode::PERMISSION_DENIED);
  // Worker 1 never registered: its error does not fail the job.
  pb::ProgressReport foreign = o.Progress(id, 1, 0, 0);
  foreign.set_error("I am not here");
  refused(foreign, grpc::StatusCode::FAILED_PRECONDITION);
  refused(o.Progress(id, 7, 0, 0), grpc::StatusCode::INVALID_ARGUMENT);
  pb::ProgressReport done = o.Progress(id, 0, 0, 0);
  done.set_done(true);
  refused(done, grpc::StatusCode::INVALID_ARGUMENT);  // done at 0 of 50
  refused(o.Progress(id, 0, int64_t{1} << 62, 0), grpc::StatusCode::INVALID_ARGUMENT);
  refused(o.Progress(id, 0, 1, -5), grpc::StatusCode::INVALID_ARGUMENT);
  refused(o.Progress(id, 0, 1, 10 * kBatch), grpc::StatusCode::INVALID_ARGUMENT);
  pb::ProgressReport hits = o.Progress(id, 0, 1, kBatch);
  hits.set_cache_misses(-3);
  refused(hits, grpc::StatusCode::INVALID_ARGUMENT);
  pb::ProgressReport stall = o.Progress(id, 0, 1, kBatch);
  stall.set_stall_seconds(std::numeric_limits<double>::quiet_NaN());
  refused(stall, grpc::StatusCode::INVALID_ARGUMENT);
  pb::ProgressReport eval = o.Progress(id, 0, 1, kBatch);
  eval.set_has_eval(true);
  eval.set_eval_auc(1.5);
  refused(eval, grpc::StatusCode::INVALID_ARGUMENT);
  pb::ProgressReport window = o.Progress(id, 0, 1, kBatch);
  window.set_window_samples(2 * kBatch);  // a window longer than the iterations done
  refused(window, grpc::StatusCode::INVALID_ARGUMENT);
  window.set_window_samples(kBatch);
  window.set_window_loss_sum(-1);
  refused(window, grpc::StatusCode::INVALID_ARGUMENT);
  // Nothing of the above was counted.
  auto s = o.Status(id);
  CHECK(s.state == oracle::JobState::kPending);
  CHECK(s.iteration == 0);
  CHECK(s.samples_per_s == 0);

  pb::ProgressReport good = o.Progress(id, 0, 3, 3 * kBatch);
  good.set_loss_sum(3 * kBatch * 0.5);
  good.set_cache_hits(10);
  good.set_cache_misses(10);
  REQUIRE(o.Report(good).ok());
  refused(o.Progress(id, 0, 2, 0), grpc::StatusCode::INVALID_ARGUMENT);  // backwards
  s = o.Status(id);
  CHECK(s.hit_ratio == 0.5);
  CHECK(s.loss == 0.5);
  // With loss windows the status shows their mean, whatever the last report covered: one
  // iteration at loss 0.9 reported alone, inside a window of 4 iterations averaging 0.6.
  pb::ProgressReport windowed = o.Progress(id, 0, 4, kBatch);
  windowed.set_loss_sum(kBatch * 0.9);
  windowed.set_window_samples(4 * kBatch);
  windowed.set_window_loss_sum(4 * kBatch * 0.6);
  REQUIRE(o.Report(windowed).ok());
  CHECK(o.Status(id).loss == Approx(0.6));

  // A non-finite loss is a diverged job: it fails at once, naming the worker.
  pb::ProgressReport nan = o.Progress(id, 0, 5, kBatch);
  nan.set_loss_sum(std::numeric_limits<double>::quiet_NaN());
  pb::ProgressAck ack;
  REQUIRE(o.Report(nan, &ack).ok());
  CHECK(ack.cancel());
  s = o.Status(id);
  CHECK(s.state == oracle::JobState::kFailed);
  CHECK(Contains(s.reason, "worker 0"));
  CHECK(Contains(s.reason, "not finite"));
  CHECK(std::isfinite(s.loss));
}

TEST_CASE("a worker index below -1 is refused and takes no slot") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  o.Start(o.Spec(1));
  CHECK(o.Register(-2).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(o.Register(INT_MIN).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  int got = -1;
  REQUIRE(o.Register(-1, &got).ok());
  CHECK(got == 0);
}

TEST_CASE("a model upload must fit the job's model and arrive while the job runs") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  job::JobSpec spec = o.Spec(2);
  std::string id = o.Start(spec);
  REQUIRE(o.Register(0).ok());
  std::string token = o.tokens[0];
  auto put = [&](size_t floats, float value = 0.25f) {
    pb::PutModelRequest req;
    req.set_job_id(id);
    req.set_worker_index(0);
    req.set_worker_token(token);
    std::vector<float> w(floats, value);
    req.set_dense(std::string(reinterpret_cast<const char*>(w.data()), w.size() * 4));
    pb::PutModelResponse resp;
    return o.stub->PutModel(o.Ctx().get(), req, &resp);
  };
  const size_t want = static_cast<size_t>(*worker::DenseWeightCountOf(spec));
  token = "forged";
  CHECK(put(want).error_code() == grpc::StatusCode::PERMISSION_DENIED);
  token = o.tokens[0];
  CHECK(put(1).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(put(0).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(put(want + 1).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(put(want, std::numeric_limits<float>::infinity()).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(o.cluster->host()->GetModel(id).status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(put(want).ok());
  REQUIRE(o.cluster->host()->Cancel(id, "test").ok());
  REQUIRE(o.WaitFinal(id) == oracle::JobState::kCancelled);
  CHECK(put(want, 1.0f).ok() == false);  // the job is over
  auto model = o.cluster->host()->GetModel(id);
  REQUIRE(model.ok());
  CHECK(model->second == std::vector<float>(want, 0.25f));
}

TEST_CASE("a rendezvous wait ends when its caller gives up or its job ends") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  // Twenty callers wait 60 s for a key that never comes, but give up after 300 ms.
  std::vector<std::thread> callers;
  for (int i = 0; i < 20; ++i)
    callers.emplace_back([&] {
      pb::StoreGetRequest req;
      req.set_key("nobody/key");
      req.set_timeout_ms(60000);
      pb::StoreGetResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
      CHECK(o.stub->StoreGet(&ctx, req, &resp).error_code() ==
            grpc::StatusCode::DEADLINE_EXCEEDED);
    });
  for (auto& t : callers) t.join();
  // The host frees their threads as soon as it sees them gone.
  auto t0 = std::chrono::steady_clock::now();
  auto gone = o.cluster->host()->StoreGet("nobody/else", absl::Seconds(60), [] { return true; });
  CHECK(gone.status().code() == absl::StatusCode::kCancelled);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));

  // A key of a job that ends: the waiter is told so, and the job's keys are gone.
  std::string id = o.Start(o.Spec(2));
  REQUIRE(o.cluster->host()->StoreSet(id + "/gloo/rank0", "addr").ok());
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(o.cluster->host()->Cancel(id, "test").ok());
  });
  auto waited = o.cluster->host()->StoreGet(id + "/gloo/rank1", absl::Seconds(60));
  canceller.join();
  CHECK(waited.status().code() == absl::StatusCode::kAborted);
  REQUIRE(o.WaitFinal(id) == oracle::JobState::kCancelled);
  CHECK(o.cluster->host()->StoreGet(id + "/gloo/rank0", absl::Milliseconds(1)).status().code() ==
        absl::StatusCode::kAborted);
  CHECK(o.cluster->host()->StoreSet(id + "/gloo/rank0", "x").code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(o.cluster->host()->StoreSet("k", std::string(kMaxBoardValueBytes + 1, 'v')).code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a dataset that is not a regular file fails its job and the queue moves on") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  std::string fifo = o.dir.path() + "/stream.tsv";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  std::string urandom = o.dir.path() + "/random.tsv";
  std::filesystem::create_symlink("/dev/urandom", urandom);
  for (const std::string& path : {fifo, urandom}) {
    job::JobSpec bad = o.Spec(1);
    bad.data.train = path;
    auto id = o.cluster->Submit(bad);
    REQUIRE(id.ok());
    REQUIRE(o.WaitFinal(*id) == oracle::JobState::kFailed);
    INFO(o.Status(*id).reason);
    CHECK(Contains(o.Status(*id).reason, "nor a regular file"));
  }
  // The next job starts.
  std::string next = o.Start(o.Spec(1));
  CHECK(o.Status(next).state == oracle::JobState::kPending);
}

TEST_CASE("a converted dataset is removed when its job ends") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  job::JobSpec spec = o.Spec(1);
  spec.data.train = shared + "/criteo-kaggle/wideresdnn_train.tsv";
  spec.data.max_rows = 200;
  std::string id = o.Start(spec);
  std::string converted;
  for (auto& e : o.cluster->host()->Events(id))
    if (auto at = e.rfind(" to "); Contains(e, "converted") && at != std::string::npos)
      converted = e.substr(at + 4);
  REQUIRE(!converted.empty());
  CHECK(std::filesystem::exists(converted));
  REQUIRE(o.cluster->host()->Cancel(id, "test").ok());
  REQUIRE(o.WaitFinal(id) == oracle::JobState::kCancelled);
  for (int i = 0; i < 100 && std::filesystem::exists(converted); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(std::filesystem::exists(converted));
}

TEST_CASE("a worker that registers and goes silent fails a pending job, naming it") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared, absl::Seconds(1));
  std::string id = o.Start(o.Spec(2));
  REQUIRE(o.Register(0).ok());
  REQUIRE(o.WaitFinal(id, 20) == oracle::JobState::kFailed);
  INFO(o.Status(id).reason);
  CHECK(Contains(o.Status(id).reason, "worker 0"));
}

// Item 12: when a worker dies, its peers' collectives fail at once and they report errors; the
// job must blame the dead worker (its plan stream broke), not the survivor that spoke first.
TEST_CASE("a peer's error followed by a broken plan stream names the worker that went away") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  std::string id = o.Start(o.Spec(2));
  REQUIRE(o.Register(0).ok());
  REQUIRE(o.Register(1).ok());
  grpc::ClientContext ctx;
  auto reader = o.OpenPlanStream(&ctx, id, 1);
  // The survivor's all-reduce breaks first and it reports; worker 1's stream breaks after.
  pb::ProgressReport err = o.Progress(id, 0, 0, 0);
  err.set_error("gloo all-reduce failed: Connection reset by peer");
  REQUIRE(o.Report(err).ok());
  CHECK(o.Status(id).state == oracle::JobState::kRunning);  // held for kPeerLossGrace
  ctx.TryCancel();
  (void)reader->Finish();
  REQUIRE(o.WaitFinal(id, 10) == oracle::JobState::kFailed);
  const std::string reason = o.Status(id).reason;
  INFO(reason);
  CHECK(reason.rfind("worker 1 went away", 0) == 0);
  CHECK(Contains(reason, "then worker 0: gloo all-reduce failed"));
}

TEST_CASE("a worker's error with no peer lost fails the job after the grace, naming it") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  std::string id = o.Start(o.Spec(2));
  REQUIRE(o.Register(0).ok());
  REQUIRE(o.Register(1).ok());
  pb::ProgressReport err = o.Progress(id, 1, 0, 0);
  err.set_error("reading the dataset: disk on fire");
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(o.Report(err).ok());
  REQUIRE(o.WaitFinal(id, 10) == oracle::JobState::kFailed);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string reason = o.Status(id).reason;
  INFO(reason);
  CHECK(reason == "worker 1: reading the dataset: disk on fire");
  CHECK(took >= absl::ToDoubleSeconds(oracle::kPeerLossGrace));
}

TEST_CASE("a worker whose plan stream breaks fails the job at once, naming it") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  std::string id = o.Start(o.Spec(1));
  REQUIRE(o.Register(0).ok());
  grpc::ClientContext ctx;
  auto reader = o.OpenPlanStream(&ctx, id, 0);
  ctx.TryCancel();  // what the kernel does for a worker killed with SIGKILL
  (void)reader->Finish();
  REQUIRE(o.WaitFinal(id, 10) == oracle::JobState::kFailed);
  INFO(o.Status(id).reason);
  CHECK(Contains(o.Status(id).reason, "worker 0 went away"));
}

TEST_CASE("a delete names an ended job, and a checkpoint report is worker 0's at its iteration") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  auto spec = o.Spec(2);
  spec.checkpoint.every = 5;
  spec.checkpoint.dir = o.dir.path() + "/ckpt";
  std::string id = o.Start(spec);
  auto del = [&](const std::string& job) {
    pb::DeleteJobRequest req;
    req.set_job_id(job);
    pb::DeleteJobResponse resp;
    return o.stub->DeleteJob(o.Ctx(70).get(), req, &resp);
  };
  auto big = del(std::string(8 << 10, 'j'));
  CHECK(big.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(big.error_message().size() < 256);
  CHECK(del("job-99").error_code() == grpc::StatusCode::NOT_FOUND);
  auto running = del(id);
  CHECK(running.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(Contains(running.error_message(), "cancel it first"));

  REQUIRE(o.Register(0).ok());
  REQUIRE(o.Register(1).ok());
  auto refused = [&](pb::ProgressReport r) {
    auto st = o.Report(r);
    INFO(st.error_message());
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  };
  pb::ProgressReport from1 = o.Progress(id, 1, 5, 5 * kBatch);
  from1.set_checkpoint(5);
  refused(from1);  // only worker 0 checkpoints
  pb::ProgressReport off = o.Progress(id, 0, 6, 6 * kBatch);
  off.set_checkpoint(6);
  refused(off);  // not a multiple of checkpoint.every
  pb::ProgressReport ahead = o.Progress(id, 0, 5, 5 * kBatch);
  ahead.set_checkpoint(10);
  refused(ahead);  // not the iteration it completed
  CHECK(o.Status(id).checkpoints.empty());
  pb::ProgressReport good = o.Progress(id, 0, 5, 5 * kBatch);
  good.set_checkpoint(5);
  REQUIRE(o.Report(good).ok());
  CHECK(o.Status(id).checkpoints == std::vector<int64_t>{5});

  // Cancelled: it ends once both workers reported done, and then it can be deleted.
  REQUIRE(o.cluster->host()->Cancel(id, "test").ok());
  for (int w : {0, 1}) {
    pb::ProgressReport done = o.Progress(id, w, w == 0 ? 5 : 0, 0);
    done.set_done(true);
    REQUIRE(o.Report(done).ok());
  }
  REQUIRE(oracle::IsFinal(o.WaitFinal(id)));
  REQUIRE(o.cluster->host()->WaitIdle(absl::Seconds(10)));
  REQUIRE(del(id).ok());
  CHECK(del(id).error_code() == grpc::StatusCode::NOT_FOUND);
}

// Status RPCs read a snapshot of a running job (item 13: polls must not compete with training
// for the runner's lock): progress counters may lag by up to kStatusMaxAge, but a change of
// state, reason, registrations or checkpoints shows in the very next call.
TEST_CASE("status polls read a snapshot whose progress is at most kStatusMaxAge old") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  auto spec = o.Spec(1);
  spec.checkpoint.every = 4;
  spec.checkpoint.dir = o.dir.path() + "/ckpt";
  std::string id = o.Start(spec);
  auto rpc_status = [&] {
    pb::JobStatusRequest req;
    req.set_job_id(id);
    pb::JobStatusResponse resp;
    REQUIRE(o.stub->JobStatus(o.Ctx().get(), req, &resp).ok());
    return resp;
  };
  CHECK(rpc_status().state() == "PENDING");
  REQUIRE(o.Register(0).ok());
  CHECK(rpc_status().state() == "RUNNING");  // registration: current at once

  REQUIRE(o.Report(o.Progress(id, 0, 3, 3 * kBatch)).ok());
  // The counters arrive within kStatusMaxAge (polled well past it: a loaded machine).
  int64_t seen = 0;
  for (int i = 0; i < 100 && seen != 3; ++i) {
    seen = rpc_status().iteration();
    if (seen != 3) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(seen == 3);
  CHECK(o.Status(id).iteration == 3);  // the host's own reads are always current

  pb::ProgressReport ckpt = o.Progress(id, 0, 4, kBatch);
  ckpt.set_checkpoint(4);
  REQUIRE(o.Report(ckpt).ok());
  auto after = rpc_status();
  REQUIRE(after.checkpoints_size() == 1);  // no waiting: a checkpoint is a change of state
  CHECK(after.checkpoints(0) == 4);
  CHECK(after.iteration() == 4);  // and the snapshot taken for it carries the new counters

  pb::CancelJobRequest cancel;
  cancel.set_job_id(id);
  cancel.set_reason("snapshot test");
  pb::CancelJobResponse cancelled;
  REQUIRE(o.stub->CancelJob(o.Ctx().get(), cancel, &cancelled).ok());
  pb::ProgressReport last = o.Progress(id, 0, 5, kBatch);
  last.set_done(true);
  REQUIRE(o.Report(last).ok());
  auto final_status = rpc_status();
  CHECK(final_status.state() == "CANCELLED");
  CHECK(Contains(final_status.reason(), "snapshot test"));
}

// Item 13: pollers in tight loops are paced to kMaxStatusReadsPerSecond in all, so they cannot
// take the CPU from training; each waits its turn and none is refused at this load.
TEST_CASE("status reads from many pollers are paced, not refused") {
  AUGUR_SHARED_DATA_OR_SKIP(shared);
  Oracle o(shared);
  std::string id = o.Start(o.Spec(1));
  constexpr int kThreads = 8, kEach = 75;  // 600 reads: >= 1.2 s at 500/s
  std::atomic<int> ok{0}, failed{0};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pollers;
  for (int t = 0; t < kThreads; ++t)
    pollers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        grpc::Status st;
        if ((t + i) % 2 == 0) {
          pb::JobStatusRequest req;
          req.set_job_id(id);
          pb::JobStatusResponse resp;
          st = o.stub->JobStatus(o.Ctx().get(), req, &resp);
        } else {
          pb::ListJobsResponse resp;
          st = o.stub->ListJobs(o.Ctx().get(), pb::ListJobsRequest(), &resp);
        }
        (st.ok() ? ok : failed)++;
      }
    });
  for (auto& p : pollers) p.join();
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(ok == kThreads * kEach);
  CHECK(failed == 0);
  // The pace: 600 reads cannot finish faster than 599 turns of 1/kMaxStatusReadsPerSecond.
  CHECK(took >= (kThreads * kEach - 1) / static_cast<double>(kMaxStatusReadsPerSecond));
}
