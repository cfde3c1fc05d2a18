// ShardClient: split a batch by ShardOf, one request per shard through FanOut, reassemble the
// answers in the caller's row order. Protobuf conversion goes through server/shard_convert.h.
#include "server/client/shard_client.h"

#include <grpcpp/create_channel.h>

#include <map>

#include "common/limits.h"
#include "common/status.h"
#include "server/client/fan_out.h"
#include "server/shard_convert.h"

namespace augur::shard {
namespace {

template <typename T>
std::future<T> Ready(T value) {
  std::promise<T> p;
  p.set_value(std::move(value));
  return p.get_future();
}

// Where each row of a per-shard request came from in the caller's request.
struct Origin {
  size_t block;              // caller's block index
  std::vector<size_t> rows;  // caller's row index for each row of the per-shard block
};

struct Split {
  std::vector<std::vector<RowBlock>> blocks;  // [shard] -> per-shard blocks
  std::vector<std::vector<Origin>> origins;   // parallel to blocks
};

// Splits rows (and their `per_row` values and optional versions) by owning shard, at most
// max_rows[b] rows of caller block b per shard block (so each fits one request).
Split SplitByShard(const std::vector<RowBlock>& blocks, uint32_t n,
                   const std::vector<size_t>& per_row, const std::vector<size_t>& max_rows) {
  Split sp;
  sp.blocks.resize(n);
  sp.origins.resize(n);
  for (size_t b = 0; b < blocks.size(); ++b) {
    const RowBlock& in = blocks[b];
    std::vector<int> slot(n, -1);
    for (size_t i = 0; i < in.rows.size(); ++i) {
      uint32_t s = ShardOf(in.table_id, in.rows[i], n);
      if (slot[s] >= 0 && sp.blocks[s][slot[s]].rows.size() >= max_rows[b]) slot[s] = -1;
      if (slot[s] < 0) {
        slot[s] = static_cast<int>(sp.blocks[s].size());
        sp.blocks[s].push_back(RowBlock{in.table_id, {}, {}, {}});
        sp.origins[s].push_back(Origin{b, {}});
      }
      RowBlock& out = sp.blocks[s][slot[s]];
      out.rows.push_back(in.rows[i]);
      auto v = in.values.begin() + i * per_row[b];
      out.values.insert(out.values.end(), v, v + per_row[b]);
      if (!in.versions.empty()) out.versions.push_back(in.versions[i]);
      sp.origins[s][slot[s]].rows.push_back(i);
    }
  }
  return sp;
}

// Rows of one request block such that a request stays near max_rpc_bytes.
size_t RowsPerBlock(size_t max_rpc_bytes, size_t floats_per_row) {
  return std::max<size_t>(1, max_rpc_bytes / ShardRowBytes(floats_per_row));
}

// Groups each shard's blocks, in order, into requests of about max_rpc_bytes (`bytes_of`:
// what one block moves); `fill(request, block)` adds a block to a request.
template <typename Chunk, typename Fill>
std::vector<std::vector<Chunk>> Chunks(const Split& sp, size_t max_rpc_bytes,
                                       const std::function<size_t(const RowBlock&)>& bytes_of,
                                       const Fill& fill) {
  std::vector<std::vector<Chunk>> out(sp.blocks.size());
  for (size_t s = 0; s < sp.blocks.size(); ++s) {
    for (const RowBlock& b : sp.blocks[s]) {
      size_t bytes = bytes_of(b);
      if (out[s].empty() || out[s].back().bytes + bytes > max_rpc_bytes) out[s].emplace_back();
      fill(out[s].back().request, b);
      out[s].back().bytes += bytes;
    }
  }
  return out;
}

// Floats per row of each block; INVALID_ARGUMENT when values or versions do not fit the rows.
absl::StatusOr<std::vector<size_t>> PerRowFloats(const std::vector<RowBlock>& blocks,
                                                 bool values_allowed, bool versions_required) {
  std::vector<size_t> per_row;
  for (const auto& b : blocks) {
    size_t n = b.rows.size();
    const std::string where = "table " + std::to_string(b.table_id) + ": ";
    if (!values_allowed && !b.values.empty())
      return absl::InvalidArgumentError(where + "lookup blocks carry no values");
    if (n == 0 ? !b.values.empty() : b.values.size() % n != 0)
      return absl::InvalidArgumentError(where + std::to_string(b.values.size()) +
                                        " floats do not split into " + std::to_string(n) +
                                        " rows");
    if (b.versions.size() != n && (versions_required || !b.versions.empty()))
      return absl::InvalidArgumentError(where + std::to_string(b.versions.size()) +
                                        " versions for " + std::to_string(n) + " rows");
    per_row.push_back(n == 0 ? 0 : b.values.size() / n);
  }
  return per_row;
}

// Copies shard answers back into the caller's order. INTERNAL when a shard's answer does not
// match its request (a protocol bug, not bad input).
absl::Status Reassemble(const std::vector<RowBlock>& request, const Split& sp,
                        std::vector<v1::LookupResponse>& responses,
                        std::vector<RowBlock>& out) {
  out.resize(request.size());
  std::vector<size_t> per_row(request.size(), SIZE_MAX);
  for (size_t b = 0; b < request.size(); ++b) {
    out[b].table_id = request[b].table_id;
    out[b].rows = request[b].rows;
    out[b].versions.assign(request[b].rows.size(), 0);
  }
  for (size_t s = 0; s < sp.blocks.size(); ++s) {
    if (sp.blocks[s].empty()) continue;
    if (responses[s].blocks_size() != static_cast<int>(sp.blocks[s].size()))
      return absl::InternalError("shard " + std::to_string(s) + " answered the wrong blocks");
    for (size_t k = 0; k < sp.blocks[s].size(); ++k) {
      AUGUR_ASSIGN_OR_RETURN(RowBlock got, FromProto(responses[s].blocks(k)));
      const Origin& o = sp.origins[s][k];
      size_t n = o.rows.size();
      if (got.rows.size() != n || got.versions.size() != n || got.values.size() % n != 0)
        return absl::InternalError("shard " + std::to_string(s) + " answered a ragged block");
      size_t f = got.values.size() / n;
      if (per_row[o.block] == SIZE_MAX) {
        per_row[o.block] = f;
        out[o.block].values.resize(request[o.block].rows.size() * f);
      } else if (per_row[o.block] != f) {
        return absl::InternalError("shards disagree on the row size of a table");
      }
      for (size_t i = 0; i < n; ++i) {
        std::copy_n(got.values.begin() + i * f, f, out[o.block].values.begin() + o.rows[i] * f);
        out[o.block].versions[o.rows[i]] = got.versions[i];
      }
    }
  }
  return absl::OkStatus();
}

template <typename Req, typename Resp>
using InvokeFn = typename FanOut<Req, Resp>::Invoke;

#define AUGUR_SHARD_INVOKE(Method, Req, Resp)                                                   \
  InvokeFn<Req, Resp>([](v1::ShardService::Stub* stub, grpc::ClientContext* ctx, const Req& r, \
                         grpc::CompletionQueue* cq) { return stub->Async##Method(ctx, r, cq); })

}  // namespace

DelayQueue::DelayQueue() : thread_([this] { Loop(); }) {}

DelayQueue::~DelayQueue() { Stop(); }

void DelayQueue::RunAt(std::chrono::steady_clock::time_point when, Task task) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      tasks_.emplace(when, std::move(task));
      changed_ = true;  // wakes Loop so an earlier deadline shortens its wait
      return;
    }
  }
  task(/*cancelled=*/true);
}

void DelayQueue::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void DelayQueue::Loop() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    if (stopping_ && tasks_.empty()) return;
    auto now = std::chrono::steady_clock::now();
    if (!tasks_.empty() && (stopping_ || tasks_.begin()->first <= now)) {
      Task t = std::move(tasks_.begin()->second);
      tasks_.erase(tasks_.begin());
      bool cancelled = stopping_;
      mu_.Unlock();
      t(cancelled);
      mu_.Lock();
      continue;
    }
    absl::Duration wait = tasks_.empty()
                              ? absl::Seconds(1)
                              : absl::FromChrono(tasks_.begin()->first - now);
    changed_ = false;
    auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || changed_; };
    mu_.AwaitWithTimeout(absl::Condition(&wake), wait);
  }
}

ShardClient::ShardClient(std::unique_ptr<Shared> shared) : shared_(std::move(shared)) {}

ShardClient::~ShardClient() {
  // Pending retries complete as CANCELLED; then wait until every operation object is gone so
  // channels are released here, on the caller's thread.
  shared_->delays.Stop();
  {
    absl::MutexLock lock(&shared_->mu);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared_->mu) {
      return shared_->inflight == 0;
    };
    shared_->mu.Await(absl::Condition(&idle));
  }
  shared_->cq.Shutdown();
  shared_->cq_thread.join();
}

absl::StatusOr<std::unique_ptr<ShardClient>> ShardClient::FromChannels(
    std::vector<std::shared_ptr<grpc::Channel>> channels, const ShardClientOptions& options) {
  if (channels.empty()) return absl::InvalidArgumentError("a shard client needs >= 1 shard");
  auto shared = std::make_unique<Shared>();
  shared->options = options;
  for (size_t i = 0; i < channels.size(); ++i) {
    shared->stubs.push_back(v1::ShardService::NewStub(channels[i]));
    if (shared->endpoints.size() <= i) shared->endpoints.push_back("channel " + std::to_string(i));
  }
  shared->channels = std::move(channels);
  {
    absl::MutexLock lock(&shared->mu);
    shared->links.resize(shared->stubs.size());
  }
  shared->cq_thread = std::thread([cq = &shared->cq] {
    void* tag = nullptr;
    bool ok = false;
    while (cq->Next(&tag, &ok)) {
      auto* t = static_cast<AsyncTag*>(tag);
      t->Run();  // unary Finish always delivers its status, ok or not
      delete t;
    }
  });
  return std::unique_ptr<ShardClient>(new ShardClient(std::move(shared)));
}

absl::StatusOr<std::unique_ptr<ShardClient>> ShardClient::Connect(
    const std::vector<std::string>& endpoints, const ShardClientOptions& options) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (const auto& e : endpoints) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kShardMaxMessageBytes);
    args.SetMaxSendMessageSize(kShardMaxMessageBytes);
    // Own connections per client: concurrent clients in one process do not share one socket.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channels.push_back(grpc::CreateCustomChannel(
        e, options.credentials ? options.credentials : grpc::InsecureChannelCredentials(), args));
  }
  AUGUR_ASSIGN_OR_RETURN(auto client, FromChannels(std::move(channels), options));
  client->shared_->endpoints = endpoints;
  return client;
}

uint32_t ShardClient::num_shards() const { return static_cast<uint32_t>(shared_->stubs.size()); }

std::future<absl::StatusOr<std::vector<RowBlock>>> ShardClient::Lookup(
    std::vector<RowBlock> blocks, bool with_state, size_t row_floats) {
  using Result = absl::StatusOr<std::vector<RowBlock>>;
  using Fan = FanOut<v1::LookupRequest, v1::LookupResponse>;
  auto per_row = PerRowFloats(blocks, /*values_allowed=*/false, /*versions_required=*/false);
  if (!per_row.ok()) return Ready<Result>(per_row.status());
  // Each answered row moves its floats: the requests are sized by them.
  const size_t max_bytes = shared_->options.max_rpc_bytes;
  std::map<uint32_t, size_t> floats_of_table;  // what one answered row of each table holds
  {
    absl::MutexLock lock(&shared_->mu);
    for (const auto& b : blocks) {
      size_t f = row_floats;
      if (f == 0) {
        auto learned = shared_->row_floats.find({b.table_id, with_state});
        f = learned == shared_->row_floats.end() ? 128 : learned->second;
      }
      floats_of_table[b.table_id] = f;
    }
  }
  std::vector<size_t> max_rows;
  for (const auto& b : blocks)
    max_rows.push_back(RowsPerBlock(max_bytes, floats_of_table[b.table_id]));
  auto split = std::make_shared<Split>(SplitByShard(blocks, num_shards(), *per_row, max_rows));
  auto chunks = Chunks<Fan::Chunk>(
      *split, max_bytes,
      [&](const RowBlock& b) {
        return b.rows.size() * ShardRowBytes(floats_of_table[b.table_id]);
      },
      [with_state](v1::LookupRequest& r, const RowBlock& b) {
        r.set_with_state(with_state);
        ToProto(b, r.add_blocks());
      });
  auto promise = std::make_shared<std::promise<Result>>();
  auto future = promise->get_future();
  auto request = std::make_shared<std::vector<RowBlock>>(std::move(blocks));
  Shared* shared = shared_.get();
  auto fan = std::make_shared<Fan>(
      shared, AUGUR_SHARD_INVOKE(Lookup, v1::LookupRequest, v1::LookupResponse),
      /*retry_aborted=*/true,
      [promise, split, request, shared, with_state](std::vector<absl::Status>& st,
                                                    std::vector<v1::LookupResponse>& resp) {
        absl::Status s = FirstError(st);
        std::vector<RowBlock> out;
        if (s.ok()) s = Reassemble(*request, *split, resp, out);
        if (!s.ok()) return promise->set_value(s);
        {
          absl::MutexLock lock(&shared->mu);
          for (const auto& b : out)
            if (!b.rows.empty())
              shared->row_floats[{b.table_id, with_state}] = b.values.size() / b.rows.size();
        }
        promise->set_value(std::move(out));
      },
      LinkDirection::kFromShard);
  fan->StartChunks(std::move(chunks));
  return future;
}

std::future<absl::Status> ShardClient::Write(std::vector<RowBlock> blocks) {
  using Fan = FanOut<v1::WriteRequest, v1::WriteResponse>;
  auto per_row = PerRowFloats(blocks, /*values_allowed=*/true, /*versions_required=*/true);
  if (!per_row.ok()) return Ready<absl::Status>(per_row.status());
  const size_t max_bytes = shared_->options.max_rpc_bytes;
  std::vector<size_t> max_rows;
  for (size_t f : *per_row) max_rows.push_back(RowsPerBlock(max_bytes, f));
  Split split = SplitByShard(blocks, num_shards(), *per_row, max_rows);
  auto chunks = Chunks<Fan::Chunk>(
      split, max_bytes,
      [](const RowBlock& b) {
        return b.values.size() * sizeof(float) + b.rows.size() * ShardRowBytes(0);
      },
      [](v1::WriteRequest& r, const RowBlock& b) { ToProto(b, r.add_blocks()); });
  auto promise = std::make_shared<std::promise<absl::Status>>();
  auto future = promise->get_future();
  auto fan = std::make_shared<Fan>(
      shared_.get(), AUGUR_SHARD_INVOKE(Write, v1::WriteRequest, v1::WriteResponse), false,
      [promise](std::vector<absl::Status>& st, std::vector<v1::WriteResponse>&) {
        promise->set_value(FirstError(st));
      });
  fan->StartChunks(std::move(chunks));
  return future;
}

std::future<absl::StatusOr<bool>> ShardClient::ApplyGradients(std::vector<RowBlock> blocks,
                                                              int64_t iteration,
                                                              uint32_t worker,
                                                              uint32_t num_workers) {
  using Result = absl::StatusOr<bool>;
  auto per_row = PerRowFloats(blocks, /*values_allowed=*/true, /*versions_required=*/false);
  if (!per_row.ok()) return Ready<Result>(per_row.status());
  // One request per shard, however large: a shard counts one push per worker and iteration.
  Split split = SplitByShard(blocks, num_shards(), *per_row,
                             std::vector<size_t>(blocks.size(), SIZE_MAX));
  std::vector<std::optional<v1::ApplyGradientsRequest>> reqs(num_shards());
  for (uint32_t s = 0; s < num_shards(); ++s) {
    reqs[s].emplace();  // every shard, even with no rows: it counts the worker's push
    reqs[s]->set_iteration(iteration);
    reqs[s]->set_worker(worker);
    reqs[s]->set_num_workers(num_workers);
    for (const auto& b : split.blocks[s]) ToProto(b, reqs[s]->add_blocks());
  }
  auto promise = std::make_shared<std::promise<Result>>();
  auto future = promise->get_future();
  auto fan = std::make_shared<FanOut<v1::ApplyGradientsRequest, v1::ApplyGradientsResponse>>(
      shared_.get(),
      AUGUR_SHARD_INVOKE(ApplyGradients, v1::ApplyGradientsRequest, v1::ApplyGradientsResponse),
      false,
      [promise](std::vector<absl::Status>& st, std::vector<v1::ApplyGradientsResponse>& resp) {
        absl::Status s = FirstError(st);
        if (!s.ok()) return promise->set_value(s);
        bool all = true;
        for (const auto& r : resp) all = all && r.applied();
        promise->set_value(all);
      });
  fan->Start(std::move(reqs));
  return future;
}

}  // namespace augur::shard
