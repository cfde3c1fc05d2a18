// ShardServer: serves a shard's job namespaces (ShardJobs, shard_jobs.h) over gRPC
// (augur.shard.v1.ShardService). The service is a thin adapter — convert, call the job's core,
// map the status — and runs the cores on its own worker pool, so gRPC's threads never block on
// RocksDB or wait for another RPC.
//
// Ownership: the jobs (or core) and the metrics registry are borrowed and must outlive the
// server.
// Thread-safety: port() and InProcessChannel() may be called from any thread; Shutdown() once.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "absl/status/statusor.h"

namespace grpc {
class ServerCredentials;
}

namespace augur {
class MetricsRegistry;
}

namespace augur::shard {

class ShardCore;
class ShardJobs;

struct ShardServerOptions {
  // "host:port"; port 0 picks a free port (see port()). Empty: no network listener, only
  // InProcessChannel() (tests).
  std::string listen = "127.0.0.1:7000";
  int worker_threads = 8;  // runs the core; bounds concurrent RocksDB work
  // Test only (0: off): answers every call no sooner than its request and answer would have
  // taken over one link of this many bytes per second that all calls share, so tests and
  // benchmarks without a shaped network see a slow link's timing (deadlines included).
  double emulated_link_bytes_per_s = 0;
  // Credentials of the listening port (common/grpc_security.h); null: plaintext.
  std::shared_ptr<grpc::ServerCredentials> credentials;
};

class ShardServer {
 public:
  // UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<ShardServer>> Start(ShardJobs* jobs,
                                                            MetricsRegistry* metrics,
                                                            const ShardServerOptions& options);
  // Serves `core` as the default namespace; job namespaces live in memory (ShardJobs::ForCore).
  static absl::StatusOr<std::unique_ptr<ShardServer>> Start(ShardCore* core,
                                                            MetricsRegistry* metrics,
                                                            const ShardServerOptions& options);
  virtual ~ShardServer() = default;

  virtual int port() const = 0;  // the bound port, 0 without a listener
  virtual std::shared_ptr<grpc::Channel> InProcessChannel() = 0;
  // Stops accepting calls, finishes in-flight ones, joins the worker pool. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace augur::shard
