// ShardClient::ScanRows: pages through every shard's stored rows of one table. Each round sends
// one ScanRows to every shard that has more; the next round starts from the completion of the
// previous one, so no thread ever blocks on a page.
#include <algorithm>
#include <numeric>

#include "common/limits.h"
#include "common/status.h"
#include "server/client/fan_out.h"
#include "server/client/shard_client.h"
#include "server/shard_convert.h"

namespace augur::shard {
namespace {

using Req = v1::ScanRowsRequest;
using Resp = v1::ScanRowsResponse;
using Result = absl::StatusOr<RowBlock>;

struct ScanState {
  ShardClient::Shared* shared;
  uint32_t table_id;
  bool with_state;
  uint32_t page_rows;
  std::vector<uint64_t> next;  // per shard: where its next page starts
  std::vector<bool> done;
  std::vector<RowBlock> got;   // per shard, in its row order
  std::promise<Result> promise;
};

// Every shard owns distinct rows, so merging is a sort of the concatenation by row id.
RowBlock Merge(std::vector<RowBlock>& parts, uint32_t table_id) {
  RowBlock all;
  all.table_id = table_id;
  for (auto& p : parts) {
    all.rows.insert(all.rows.end(), p.rows.begin(), p.rows.end());
    all.values.insert(all.values.end(), p.values.begin(), p.values.end());
    all.versions.insert(all.versions.end(), p.versions.begin(), p.versions.end());
  }
  const size_t n = all.rows.size();
  if (n == 0) return all;
  const size_t width = all.values.size() / n;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return all.rows[a] < all.rows[b]; });
  RowBlock sorted;
  sorted.table_id = table_id;
  sorted.rows.reserve(n);
  sorted.values.reserve(all.values.size());
  sorted.versions.reserve(n);
  for (size_t i : order) {
    sorted.rows.push_back(all.rows[i]);
    sorted.values.insert(sorted.values.end(), all.values.begin() + i * width,
                         all.values.begin() + (i + 1) * width);
    sorted.versions.push_back(all.versions[i]);
  }
  return sorted;
}

void Round(std::shared_ptr<ScanState> st) {
  using Fan = FanOut<Req, Resp>;
  std::vector<std::vector<Fan::Chunk>> reqs(st->next.size());
  for (size_t s = 0; s < reqs.size(); ++s) {
    if (st->done[s]) continue;
    Req r;
    r.set_table_id(st->table_id);
    r.set_start_row(st->next[s]);
    r.set_limit(st->page_rows);
    r.set_with_state(st->with_state);
    // A page's answer may hold up to kShardMaxScanPageBytes: it takes that much of the link.
    reqs[s].push_back(Fan::Chunk{r, kShardMaxScanPageBytes});
  }
  auto fan = std::make_shared<Fan>(
      st->shared,
      [](v1::ShardService::Stub* stub, grpc::ClientContext* ctx, const Req& r,
         grpc::CompletionQueue* cq) { return stub->AsyncScanRows(ctx, r, cq); },
      false,
      [st](std::vector<absl::Status>& statuses, std::vector<Resp>& resps) {
        if (auto e = FirstError(statuses); !e.ok()) return st->promise.set_value(e);
        bool all_done = true;
        for (size_t s = 0; s < resps.size(); ++s) {
          if (st->done[s]) continue;
          auto block = FromProto(resps[s].block());
          if (!block.ok()) return st->promise.set_value(block.status());
          RowBlock& g = st->got[s];
          g.rows.insert(g.rows.end(), block->rows.begin(), block->rows.end());
          g.values.insert(g.values.end(), block->values.begin(), block->values.end());
          g.versions.insert(g.versions.end(), block->versions.begin(), block->versions.end());
          st->next[s] = resps[s].next_row();
          st->done[s] = !resps[s].more();
          all_done = all_done && st->done[s];
        }
        if (all_done) return st->promise.set_value(Merge(st->got, st->table_id));
        Round(st);
      },
      LinkDirection::kFromShard);
  fan->StartChunks(std::move(reqs));
}

}  // namespace

std::future<absl::StatusOr<RowBlock>> ShardClient::ScanRows(uint32_t table_id, bool with_state,
                                                            uint32_t page_rows) {
  auto st = std::make_shared<ScanState>();
  st->shared = shared_.get();
  st->table_id = table_id;
  st->with_state = with_state;
  st->page_rows = std::max<uint32_t>(page_rows, 1);
  const size_t n = shared_->stubs.size();
  st->next.assign(n, 0);
  st->done.assign(n, false);
  st->got.resize(n);
  auto future = st->promise.get_future();
  Round(st);
  return future;
}

}  // namespace augur::shard
