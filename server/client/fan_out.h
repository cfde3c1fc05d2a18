// Internal to ShardClient: one RPC per shard in parallel over gRPC's callback API, with
// ABORTED retries scheduled on a timer thread (never by sleeping on a gRPC thread).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/support/async_unary_call.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_status.h"
#include "proto/shard.grpc.pb.h"
#include "server/client/shard_client.h"

namespace augur::shard {

// Runs closures at a given time on one thread. Stop() runs what is left with cancelled = true.
class DelayQueue {
 public:
  using Task = std::function<void(bool cancelled)>;
  DelayQueue();
  ~DelayQueue();
  void RunAt(std::chrono::steady_clock::time_point when, Task task) ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Loop();
  absl::Mutex mu_;
  std::multimap<std::chrono::steady_clock::time_point, Task> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool changed_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

struct ShardClient::Shared {
  ShardClientOptions options;
  std::vector<std::string> endpoints;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::ShardService::Stub>> stubs;
  DelayQueue delays;
  // Completions of every RPC of this client, run by cq_thread. The classic async API with a
  // queue we own, rather than the callback API: gRPC 1.51 runs client callbacks on a shared
  // "alternative" queue that polls with sleeps and whose teardown raced in our tests.
  grpc::CompletionQueue cq;
  std::thread cq_thread;
  // Operations not yet destroyed. ~ShardClient waits for zero before it releases the channels,
  // so the last channel reference is never dropped on a gRPC callback thread (gRPC asserts
  // when it is torn down from inside one of its own callbacks).
  absl::Mutex mu;
  int inflight ABSL_GUARDED_BY(mu) = 0;
};

// A completion-queue tag: the reader and status of one unary RPC attempt. The client's CQ
// thread runs it once the RPC finished and deletes it.
class AsyncTag {
 public:
  virtual ~AsyncTag() = default;
  virtual void Run() = 0;
};

template <typename Resp>
class UnaryAttempt final : public AsyncTag {
 public:
  explicit UnaryAttempt(std::function<void(grpc::Status)> done) : done_(std::move(done)) {}
  void Run() override {
    reader.reset();  // lives in the call's arena, which `done_` may free with the context
    done_(status);
  }
  std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> reader;
  grpc::Status status;

 private:
  std::function<void(grpc::Status)> done_;
};

// One parallel call: requests[i] goes to shard i (nullopt: shard i is skipped). When every
// shard answered, done(statuses, responses) runs once, on the thread of the last answer.
template <typename Req, typename Resp>
class FanOut : public std::enable_shared_from_this<FanOut<Req, Resp>> {
 public:
  using Invoke = std::function<std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>>(
      v1::ShardService::Stub*, grpc::ClientContext*, const Req&, grpc::CompletionQueue*)>;
  using Done = std::function<void(std::vector<absl::Status>&, std::vector<Resp>&)>;

  FanOut(ShardClient::Shared* shared, Invoke invoke, bool retry_aborted, Done done)
      : shared_(shared), invoke_(std::move(invoke)), retry_aborted_(retry_aborted),
        done_(std::move(done)) {
    absl::MutexLock lock(&shared_->mu);
    ++shared_->inflight;
  }
  ~FanOut() {
    absl::MutexLock lock(&shared_->mu);
    --shared_->inflight;
  }

  void Start(std::vector<std::optional<Req>> requests) {
    size_t n = requests.size();
    requests_ = std::move(requests);
    // Every shard request names the client's job (its namespace on the shard).
    for (auto& r : requests_)
      if (r) r->set_job(shared_->options.job);
    responses_.resize(n);
    statuses_.resize(n);
    contexts_.resize(n);
    backoff_.assign(n, shared_->options.initial_backoff);
    version_deadline_ = std::chrono::steady_clock::now() + shared_->options.version_wait;
    size_t active = 0;
    for (auto& r : requests_) active += r.has_value();
    remaining_.store(active);
    if (active == 0) return done_(statuses_, responses_);
    for (size_t i = 0; i < n; ++i)
      if (requests_[i]) Send(i);
  }

 private:
  void Send(size_t shard) {
    contexts_[shard] = std::make_unique<grpc::ClientContext>();
    contexts_[shard]->set_deadline(std::chrono::system_clock::now() +
                                   shared_->options.rpc_deadline);
    responses_[shard].Clear();
    auto self = this->shared_from_this();
    auto* attempt =
        new UnaryAttempt<Resp>([self, shard](grpc::Status s) { self->OnDone(shard, s); });
    attempt->reader = invoke_(shared_->stubs[shard].get(), contexts_[shard].get(),
                              *requests_[shard], &shared_->cq);
    attempt->reader->Finish(&responses_[shard], &attempt->status, attempt);
  }

  void OnDone(size_t shard, const grpc::Status& s) {
    if (retry_aborted_ && s.error_code() == grpc::StatusCode::ABORTED) {
      auto when = std::chrono::steady_clock::now() + backoff_[shard];
      if (when < version_deadline_) {
        backoff_[shard] = std::min(backoff_[shard] * 2, shared_->options.max_backoff);
        auto self = this->shared_from_this();
        shared_->delays.RunAt(when, [self, shard](bool cancelled) {
          if (!cancelled) return self->Send(shard);
          self->Finish(shard, absl::CancelledError("shard client destroyed during a retry"));
        });
        return;
      }
    }
    absl::Status st = FromGrpcStatus(s);
    if (!st.ok())
      st = absl::Status(st.code(), "shard " + std::to_string(shard) + " (" +
                                       shared_->endpoints[shard] + "): " +
                                       std::string(st.message()));
    Finish(shard, st);
  }

  void Finish(size_t shard, absl::Status st) {
    statuses_[shard] = std::move(st);
    if (remaining_.fetch_sub(1) == 1) done_(statuses_, responses_);
  }

  ShardClient::Shared* const shared_;  // outlives every FanOut (see Shared::inflight)
  Invoke invoke_;
  bool retry_aborted_;
  Done done_;
  // Slot i is touched only by the one in-flight attempt of shard i; the atomic countdown
  // orders every slot's last write before done_ reads them.
  std::vector<std::optional<Req>> requests_;
  std::vector<Resp> responses_;
  std::vector<absl::Status> statuses_;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts_;
  std::vector<std::chrono::microseconds> backoff_;
  std::chrono::steady_clock::time_point version_deadline_;
  std::atomic<size_t> remaining_{0};
};

// The first failing shard's status, or OK.
inline absl::Status FirstError(const std::vector<absl::Status>& statuses) {
  for (const auto& s : statuses)
    if (!s.ok()) return s;
  return absl::OkStatus();
}

}  // namespace augur::shard
