// libFuzzer target: every shard RPC handler (server/shard_handlers.h, what the gRPC service runs)
// fed hostile decoded requests. One input is a short sequence of requests built field by field
// from the fuzzer's bytes — jobs from a small set (so requests meet each other's tables) plus
// arbitrary names, table specs with any numbers, row blocks with ragged packed arrays, NaN and
// infinite floats, extreme iterations and worker counts — run against one memory-profile shard
// that lives across inputs (reset every 2000, so its memory stays bounded). Checkpoint and Restore
// are left out: they write and replace directories. A handler may refuse anything; it must not crash, and a Lookup it
// accepts answers one block per request block.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fuzzer/FuzzedDataProvider.h>
#include <memory>
#include <string>

#include "server/shard_handlers.h"
#include "server/shard_jobs.h"

namespace {

using namespace augur::shard;
namespace pb = augur::shard::v1;

std::unique_ptr<ShardJobs> NewShard() {
  ShardJobsOptions o;
  o.store.profile = StoreProfile::kMemory;
  o.store.path = "/augur-fuzz-shard";
  o.store.block_cache_mb = 4;
  o.write_buffer_mb = 8;
  o.max_jobs = 8;
  o.core.max_request_rows = 4096;
  auto jobs = ShardJobs::Open(o);
  if (!jobs.ok()) __builtin_trap();
  return std::move(*jobs);
}

std::string Job(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0: return "";
    case 1: return "job-a";
    case 2: return "job-b";
    case 3: return "job-c";
    default: return in.ConsumeRandomLengthString(160);
  }
}

float AnyFloat(FuzzedDataProvider& in) {
  if (in.ConsumeBool()) return in.ConsumeFloatingPointInRange<float>(-4.0f, 4.0f);
  uint32_t bits = in.ConsumeIntegral<uint32_t>();
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;  // NaN, inf, denormals, anything
}

template <typename T>
std::string Packed(FuzzedDataProvider& in, size_t n, T (*next)(FuzzedDataProvider&)) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    T v = next(in);
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  if (in.ConsumeIntegralInRange<int>(0, 15) == 0) out.push_back('x');  // ragged
  return out;
}

uint64_t Row(FuzzedDataProvider& in) {
  return in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 63) : in.ConsumeIntegral<uint64_t>();
}
int64_t Version(FuzzedDataProvider& in) {
  return in.ConsumeBool() ? in.ConsumeIntegralInRange<int64_t>(-1, 40) : in.ConsumeIntegral<int64_t>();
}

void AddBlocks(FuzzedDataProvider& in, google::protobuf::RepeatedPtrField<pb::RowBlock>* blocks,
               bool values, bool versions) {
  const int n = in.ConsumeIntegralInRange<int>(0, 3);
  for (int b = 0; b < n; ++b) {
    pb::RowBlock* block = blocks->Add();
    block->set_table_id(in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 3)
                                         : in.ConsumeIntegral<uint32_t>());
    const size_t rows = in.ConsumeIntegralInRange<size_t>(0, 16);
    block->set_rows(Packed<uint64_t>(in, rows, Row));
    if (values) {
      const size_t floats = rows * in.ConsumeIntegralInRange<size_t>(0, 12);
      block->set_values(Packed<float>(in, floats, AnyFloat));
    }
    if (versions || in.ConsumeIntegralInRange<int>(0, 7) == 0)
      block->set_versions(Packed<int64_t>(in, in.ConsumeBool() ? rows : rows + 1, Version));
  }
}

void RunOne(ShardJobs& jobs, FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: {
      pb::CreateTableRequest req;
      req.set_job(Job(in));
      pb::TableSpec* t = req.mutable_table();
      t->set_id(in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 3) : in.ConsumeIntegral<uint32_t>());
      t->set_name(in.ConsumeBool() ? "C" + std::to_string(t->id()) : in.ConsumeRandomLengthString(300));
      t->set_rows(in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(1, 100) : in.ConsumeIntegral<uint64_t>());
      t->set_dim(in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(1, 8) : in.ConsumeIntegral<uint32_t>());
      t->set_init_lo(in.ConsumeBool() ? -0.1f : AnyFloat(in));
      t->set_init_hi(in.ConsumeBool() ? 0.1f : AnyFloat(in));
      t->set_seed(in.ConsumeIntegral<uint64_t>());
      pb::OptimizerSpec* o = t->mutable_optimizer();
      static const char* kKinds[] = {"sgd", "adagrad", "adam", "rowwise_adagrad", "momentum", ""};
      o->set_kind(kKinds[in.ConsumeIntegralInRange<int>(0, 5)]);
      o->set_lr(in.ConsumeBool() ? 0.1f : AnyFloat(in));
      o->set_eps(in.ConsumeBool() ? 1e-8f : AnyFloat(in));
      o->set_beta1(in.ConsumeBool() ? 0.9f : AnyFloat(in));
      o->set_beta2(in.ConsumeBool() ? 0.999f : AnyFloat(in));
      o->set_initial_accumulator(in.ConsumeBool() ? 0.0f : AnyFloat(in));
      pb::CreateTableResponse resp;
      (void)handlers::CreateTable(jobs, req, &resp);
      break;
    }
    case 1: {
      pb::ListTablesRequest req;
      req.set_job(Job(in));
      pb::ListTablesResponse resp;
      (void)handlers::ListTables(jobs, req, &resp);
      break;
    }
    case 2: {
      pb::DropTableRequest req;
      req.set_job(Job(in));
      req.set_table_id(in.ConsumeIntegralInRange<uint32_t>(0, 4));
      (void)handlers::DropTable(jobs, req);
      break;
    }
    case 3: {
      pb::LookupRequest req;
      req.set_job(Job(in));
      req.set_with_state(in.ConsumeBool());
      AddBlocks(in, req.mutable_blocks(), false, false);
      pb::LookupResponse resp;
      if (handlers::Lookup(jobs, req, &resp).ok() && resp.blocks_size() != req.blocks_size())
        __builtin_trap();
      break;
    }
    case 4: {
      pb::WriteRequest req;
      req.set_job(Job(in));
      AddBlocks(in, req.mutable_blocks(), true, true);
      (void)handlers::Write(jobs, req);
      break;
    }
    case 5: {
      pb::ApplyGradientsRequest req;
      req.set_job(Job(in));
      req.set_iteration(in.ConsumeBool() ? in.ConsumeIntegralInRange<int64_t>(0, 40)
                                         : in.ConsumeIntegral<int64_t>());
      req.set_num_workers(in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 3)
                                           : in.ConsumeIntegral<uint32_t>());
      req.set_worker(in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 3)
                                      : in.ConsumeIntegral<uint32_t>());
      AddBlocks(in, req.mutable_blocks(), true, false);
      pb::ApplyGradientsResponse resp;
      (void)handlers::ApplyGradients(jobs, req, &resp);
      break;
    }
    case 6: {
      pb::ScanRowsRequest req;
      req.set_job(Job(in));
      req.set_table_id(in.ConsumeIntegralInRange<uint32_t>(0, 4));
      req.set_start_row(Row(in));
      req.set_limit(in.ConsumeIntegral<uint64_t>());
      req.set_with_state(in.ConsumeBool());
      pb::ScanRowsResponse resp;
      (void)handlers::ScanRows(jobs, req, &resp);
      break;
    }
    default: {
      pb::DropJobRequest req;
      req.set_job(Job(in));
      pb::DropJobResponse resp;
      (void)handlers::DropJob(jobs, req, &resp);
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Never destroyed at exit (RocksDB's own statics may already be gone by then).
  static ShardJobs* jobs = nullptr;
  static int inputs = 0;
  if (!jobs || ++inputs % 2000 == 0) {
    delete jobs;
    jobs = NewShard().release();
  }
  FuzzedDataProvider in(data, size);
  for (int op = 0; op < 8 && in.remaining_bytes() > 0; ++op) RunOne(*jobs, in);
  return 0;
}
