// shard_bench: how much of RocksDB's MultiGet throughput survives the gRPC path.
//
// Loads one table (default 1M rows x dim 64, sgd) into an ssd-profile store in a temp dir,
// then measures in the same run, with the same concurrency and batch size:
//   (a) rocksdb_multiget: ShardStore::ReadRows (one MultiGet per batch) in-process;
//   (b) shard_rpc: ShardClient::Lookup against an augur-shard server (ShardServer over the
//       same store) on a loopback TCP port, one client (own connection) per thread.
// Prints one JSON line per measurement and a final summary line with ratio = b / a.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "server/client/shard_client.h"
#include "server/shard_core.h"
#include "server/shard_server.h"
#include "server/shard_store.h"

namespace {

using augur::shard::RowBlock;

struct Flags {
  uint64_t rows = 1'000'000;
  uint32_t dim = 64;
  size_t batch = 4096;
  int clients = 4;
  double seconds = 3.0;
  int repeats = 3;
  size_t block_cache_mb = 256;
  bool json = false;
};

// Runs `clients` threads calling op(thread, rng) for `seconds`; returns rows per second.
template <typename Op>
double Measure(const Flags& f, Op op) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> rows{0};
  std::vector<std::thread> threads;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < f.clients; ++t)
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(1234 + t);
      while (!stop.load(std::memory_order_relaxed)) rows += op(t, rng);
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(f.seconds));
  stop = true;
  for (auto& th : threads) th.join();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(rows.load()) / s;
}

std::vector<uint64_t> RandomRows(const Flags& f, std::mt19937_64& rng) {
  std::vector<uint64_t> r(f.batch);
  for (auto& x : r) x = rng() % f.rows;
  return r;
}

void Load(augur::shard::ShardStore& store, const Flags& f) {
  const size_t chunk = 16384;
  std::vector<float> rec(f.dim);
  for (uint64_t begin = 0; begin < f.rows; begin += chunk) {
    augur::shard::StoreBatch b;
    for (uint64_t r = begin; r < std::min<uint64_t>(f.rows, begin + chunk); ++r) {
      for (uint32_t j = 0; j < f.dim; ++j) rec[j] = static_cast<float>(r) + 0.001f * j;
      b.PutRow(1, r, rec, 1);
    }
    if (auto s = store.Commit(b); !s.ok()) throw std::runtime_error(s.ToString());
  }
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"shard_bench: RocksDB MultiGet vs augur-shard Lookup over loopback gRPC"};
  app.add_option("--rows", f.rows)->capture_default_str();
  app.add_option("--dim", f.dim)->capture_default_str();
  app.add_option("--batch", f.batch)->capture_default_str();
  app.add_option("--clients", f.clients)->capture_default_str();
  app.add_option("--seconds", f.seconds, "per measurement")->capture_default_str();
  app.add_option("--repeats", f.repeats, "alternating a/b rounds; medians reported")
      ->capture_default_str();
  app.add_option("--block-cache-mb", f.block_cache_mb)->capture_default_str();
  app.add_flag("--json", f.json, "JSON lines only (the default output is JSON lines anyway)");
  CLI11_PARSE(app, argc, argv);
  augur::InitLogging("shard_bench", "warn");

  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("augur-shard-bench-" + std::to_string(getpid()));
  augur::shard::StoreOptions so;
  so.profile = augur::shard::StoreProfile::kSsd;
  so.path = (dir / "db").string();
  so.block_cache_mb = f.block_cache_mb;
  int rc = 0;
  {
    auto store = augur::shard::ShardStore::Open(so);
    if (!store.ok()) {
      fprintf(stderr, "%s\n", store.status().ToString().c_str());
      return 1;
    }
    augur::shard::ShardCoreOptions co;
    co.max_request_rows = std::max<uint64_t>(f.batch, 1);
    auto core = *augur::shard::ShardCore::Open(std::move(store).value(), co);
    augur::TableSpec spec;
    spec.id = 1;
    spec.name = "bench";
    spec.rows = f.rows;
    spec.dim = f.dim;
    if (auto c = core->CreateTable(spec); !c.ok()) {
      fprintf(stderr, "%s\n", c.status().ToString().c_str());
      return 1;
    }
    // Rows go straight into the store (as write-backs would), so lookups hit RocksDB rather
    // than lazy init.
    auto t0 = std::chrono::steady_clock::now();
    Load(*core->store(), f);
    if (auto s = core->store()->FlushAndCompact(); !s.ok()) {
      fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    printf("%s\n", nlohmann::json{{"phase", "load"}, {"rows", f.rows}, {"dim", f.dim},
                                  {"seconds", load_s}}.dump().c_str());
    auto server = *augur::shard::ShardServer::Start(core.get(), nullptr,
                                                    {"127.0.0.1:0", std::max(f.clients, 2)});
    std::string endpoint = "127.0.0.1:" + std::to_string(server->port());
    std::vector<std::unique_ptr<augur::shard::ShardClient>> clients;
    for (int t = 0; t < f.clients; ++t)
      clients.push_back(*augur::shard::ShardClient::Connect({endpoint}));

    auto multiget = [&](int, std::mt19937_64& rng) -> uint64_t {
      auto rows = RandomRows(f, rng);
      std::vector<float> rec(rows.size() * f.dim);
      std::vector<int64_t> ver(rows.size());
      std::vector<uint8_t> found;
      auto s = core->store()->ReadRows(1, rows, f.dim, rec, ver, found);
      return s.ok() ? rows.size() : 0;
    };
    auto rpc = [&](int t, std::mt19937_64& rng) -> uint64_t {
      auto r = clients[t]->Lookup({RowBlock{1, RandomRows(f, rng), {}, {}}}).get();
      return r.ok() ? f.batch : 0;
    };
    Measure(f, multiget);  // warm the block cache before either side is timed
    std::vector<double> a, b;
    for (int i = 0; i < f.repeats; ++i) {
      a.push_back(Measure(f, multiget));
      printf("%s\n", nlohmann::json{{"phase", "rocksdb_multiget"}, {"round", i},
                                    {"rows_per_s", a.back()}}.dump().c_str());
      b.push_back(Measure(f, rpc));
      printf("%s\n", nlohmann::json{{"phase", "shard_rpc"}, {"round", i},
                                    {"rows_per_s", b.back()}}.dump().c_str());
      fflush(stdout);
    }
    double ma = Median(a), mb = Median(b);
    printf("%s\n", nlohmann::json{{"rows", f.rows}, {"dim", f.dim}, {"batch", f.batch},
                                  {"clients", f.clients}, {"repeats", f.repeats},
                                  {"hardware_threads", std::thread::hardware_concurrency()},
                                  {"rocksdb_multiget_rows_per_s", ma},
                                  {"shard_rpc_rows_per_s", mb}, {"ratio", mb / ma}}
                           .dump()
                           .c_str());
    clients.clear();
    server->Shutdown();
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}
