// Internal to ShardClient: one RPC per shard in parallel over gRPC's callback API, with
// ABORTED retries scheduled on a timer thread (never by sleeping on a gRPC thread).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
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

// Which way an operation's bulk travels over a shard's link: a Lookup's or a ScanRows page's
// answer comes from the shard; a Write's or ApplyGradients' request goes to it (and so do the
// small registry calls). Each direction has its own budget and queue: the two directions of a
// link are separate wires, so write-backs never hold fills back, nor fills write-backs.
enum class LinkDirection { kToShard = 0, kFromShard = 1 };

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

  // Flow control, one per shard (its link) and direction: bytes in flight, and the sends
  // waiting for room, in the order they were issued.
  struct Link {
    size_t bytes = 0;
    std::deque<std::pair<size_t, std::function<void()>>> waiting;
  };
  static constexpr int kDirections = 2;
  std::vector<std::array<Link, kDirections>> links ABSL_GUARDED_BY(mu);
  // Floats per answered row of a (table, with_state) lookup, learned from answers: sizes the
  // next lookups' requests.
  std::map<std::pair<uint32_t, bool>, size_t> row_floats ABSL_GUARDED_BY(mu);

  // Runs `send` once `bytes` fit into the budget of `shard`'s link in direction `dir`
  // (options.max_inflight_bytes; a send larger than the budget goes alone), after every send
  // issued before it in that direction. `send` may run on this thread or on the one that
  // releases room.
  void Admit(size_t shard, LinkDirection dir, size_t bytes, std::function<void()> send)
      ABSL_LOCKS_EXCLUDED(mu) {
    {
      absl::MutexLock lock(&mu);
      Link& l = links[shard][static_cast<int>(dir)];
      if (!l.waiting.empty() || !Fits(l, bytes)) {
        l.waiting.emplace_back(bytes, std::move(send));
        return;
      }
      l.bytes += bytes;
    }
    send();
  }
  // Gives back what an admitted send took, and sends what now fits. A send may release at
  // once (a skipped chunk): such a nested call only gives the room back, and the outermost
  // call on the thread sends what fits, so a long queue never recurses deeply.
  void Release(size_t shard, LinkDirection dir, size_t bytes) ABSL_LOCKS_EXCLUDED(mu) {
    static thread_local const Shared* releasing = nullptr;  // whose outermost Release runs here
    {
      absl::MutexLock lock(&mu);
      Link& l = links[shard][static_cast<int>(dir)];
      l.bytes -= std::min(l.bytes, bytes);
    }
    if (releasing == this) return;
    const Shared* outer = releasing;
    releasing = this;
    for (;;) {
      std::vector<std::function<void()>> ready;
      {
        absl::MutexLock lock(&mu);
        for (auto& both : links) {
          for (Link& l : both) {
            while (!l.waiting.empty() && Fits(l, l.waiting.front().first)) {
              l.bytes += l.waiting.front().first;
              ready.push_back(std::move(l.waiting.front().second));
              l.waiting.pop_front();
            }
          }
        }
      }
      if (ready.empty()) break;
      for (auto& send : ready) send();
    }
    releasing = outer;
  }

 private:
  bool Fits(const Link& l, size_t bytes) const {
    return l.bytes == 0 || l.bytes + bytes <= options.max_inflight_bytes;
  }
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

// One parallel call: each shard gets a list of requests (chunks of one operation; most
// operations send one), sent in order through the shard's link budget (Shared::Admit), several
// in flight when they fit. When every chunk of every shard answered, done(statuses, responses)
// runs once, on the thread of the last answer, with each shard's chunk answers merged in chunk
// order (protobuf MergeFrom: repeated fields concatenate) and its first error. After a chunk of
// a shard fails, that shard's later chunks are not sent.
template <typename Req, typename Resp>
class FanOut : public std::enable_shared_from_this<FanOut<Req, Resp>> {
 public:
  using Invoke = std::function<std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>>(
      v1::ShardService::Stub*, grpc::ClientContext*, const Req&, grpc::CompletionQueue*)>;
  using Done = std::function<void(std::vector<absl::Status>&, std::vector<Resp>&)>;
  // A request and the bytes it moves over the link (its request, or its expected answer for
  // an operation whose bulk comes from the shard).
  struct Chunk {
    Req request;
    size_t bytes = 0;
  };

  FanOut(ShardClient::Shared* shared, Invoke invoke, bool retry_aborted, Done done,
         LinkDirection dir = LinkDirection::kToShard)
      : shared_(shared), invoke_(std::move(invoke)), retry_aborted_(retry_aborted),
        done_(std::move(done)), dir_(dir) {
    absl::MutexLock lock(&shared_->mu);
    ++shared_->inflight;
  }
  ~FanOut() {
    absl::MutexLock lock(&shared_->mu);
    --shared_->inflight;
  }

  // requests[i] goes to shard i as one chunk (nullopt: shard i is skipped).
  void Start(std::vector<std::optional<Req>> requests) {
    std::vector<std::vector<Chunk>> chunks(requests.size());
    for (size_t s = 0; s < requests.size(); ++s)
      if (requests[s]) {
        size_t bytes = requests[s]->ByteSizeLong();
        chunks[s].push_back(Chunk{std::move(*requests[s]), bytes});
      }
    StartChunks(std::move(chunks));
  }

  void StartChunks(std::vector<std::vector<Chunk>> chunks) {
    const size_t n = chunks.size();
    chunks_ = std::move(chunks);
    // Every shard request names the client's job (its namespace on the shard).
    size_t total = 0;
    for (auto& shard : chunks_)
      for (auto& c : shard) c.request.set_job(shared_->options.job), ++total;
    responses_.resize(n);
    statuses_.resize(n);
    chunk_responses_.resize(n);
    failed_.reset(new std::atomic<bool>[n]);
    for (size_t s = 0; s < n; ++s) {
      chunk_responses_[s].resize(chunks_[s].size());
      failed_[s] = false;
    }
    version_deadline_ = std::chrono::steady_clock::now() + shared_->options.version_wait;
    remaining_.store(total);
    if (total == 0) return done_(statuses_, responses_);
    for (size_t s = 0; s < n; ++s)
      for (size_t k = 0; k < chunks_[s].size(); ++k)
        Admit(s, k, shared_->options.initial_backoff);
  }

 private:
  // One attempt of chunk k of `shard`: its context, answer and status live here until it ends.
  struct Attempt {
    grpc::ClientContext context;
    std::chrono::microseconds backoff;
  };

  void Admit(size_t shard, size_t k, std::chrono::microseconds backoff) {
    auto self = this->shared_from_this();
    shared_->Admit(shard, dir_, chunks_[shard][k].bytes,
                   [self, shard, k, backoff] { self->Send(shard, k, backoff); });
  }

  void Send(size_t shard, size_t k, std::chrono::microseconds backoff) {
    if (failed_[shard].load()) {  // an earlier chunk of this shard failed: skip the rest
      shared_->Release(shard, dir_, chunks_[shard][k].bytes);
      return Finish(shard, k, absl::OkStatus());
    }
    auto attempt = std::make_shared<Attempt>();
    attempt->backoff = backoff;
    attempt->context.set_deadline(std::chrono::system_clock::now() +
                                  shared_->options.rpc_deadline);
    Resp* out = &chunk_responses_[shard][k];
    out->Clear();
    auto self = this->shared_from_this();
    auto* tag = new UnaryAttempt<Resp>(
        [self, shard, k, attempt](grpc::Status s) { self->OnDone(shard, k, *attempt, s); });
    tag->reader = invoke_(shared_->stubs[shard].get(), &attempt->context,
                          chunks_[shard][k].request, &shared_->cq);
    tag->reader->Finish(out, &tag->status, tag);
  }

  void OnDone(size_t shard, size_t k, Attempt& attempt, const grpc::Status& s) {
    shared_->Release(shard, dir_, chunks_[shard][k].bytes);
    if (retry_aborted_ && s.error_code() == grpc::StatusCode::ABORTED) {
      auto when = std::chrono::steady_clock::now() + attempt.backoff;
      if (when < version_deadline_) {
        auto next = std::min(attempt.backoff * 2, shared_->options.max_backoff);
        auto self = this->shared_from_this();
        // The retry waits its turn on the link again: the write it waits for may be behind it.
        shared_->delays.RunAt(when, [self, shard, k, next](bool cancelled) {
          if (!cancelled) return self->Admit(shard, k, next);
          self->Finish(shard, k, absl::CancelledError("shard client destroyed during a retry"));
        });
        return;
      }
    }
    absl::Status st = FromGrpcStatus(s);
    if (!st.ok())
      st = absl::Status(st.code(), "shard " + std::to_string(shard) + " (" +
                                       shared_->endpoints[shard] + "): " +
                                       std::string(st.message()));
    Finish(shard, k, st);
  }

  void Finish(size_t shard, size_t k, absl::Status st) {
    if (!st.ok()) {
      absl::MutexLock lock(&mu_);
      if (statuses_[shard].ok()) statuses_[shard] = std::move(st);
      failed_[shard] = true;
    }
    (void)k;
    if (remaining_.fetch_sub(1) != 1) return;
    for (size_t s = 0; s < chunk_responses_.size(); ++s) {
      auto& parts = chunk_responses_[s];
      if (parts.empty() || !statuses_[s].ok()) continue;
      responses_[s].Swap(&parts[0]);
      for (size_t i = 1; i < parts.size(); ++i) responses_[s].MergeFrom(parts[i]);
      parts.clear();
    }
    done_(statuses_, responses_);
  }

  ShardClient::Shared* const shared_;  // outlives every FanOut (see Shared::inflight)
  Invoke invoke_;
  bool retry_aborted_;
  Done done_;
  const LinkDirection dir_;
  // chunks_ is fixed after StartChunks; chunk_responses_[s][k] is touched only by the one
  // in-flight attempt of that chunk; the atomic countdown orders every slot's last write
  // before the merge reads them.
  std::vector<std::vector<Chunk>> chunks_;
  std::vector<std::vector<Resp>> chunk_responses_;
  std::vector<Resp> responses_;
  absl::Mutex mu_;
  std::vector<absl::Status> statuses_;  // written under mu_; read after the countdown
  std::unique_ptr<std::atomic<bool>[]> failed_;
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
