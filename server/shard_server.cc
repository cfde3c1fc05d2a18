#include "server/shard_server.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "common/limits.h"
#include "server/shard_jobs.h"
#include "server/shard_service.h"

namespace augur::shard {
namespace {

class GrpcShardServer final : public ShardServer {
 public:
  GrpcShardServer(ShardJobs* jobs, std::unique_ptr<ShardJobs> owned, MetricsRegistry* metrics,
                  const ShardServerOptions& o)
      : owned_(std::move(owned)), pool_(o.worker_threads),
        service_(jobs, metrics, &pool_, o.emulated_link_bytes_per_s) {}
  ~GrpcShardServer() override { Shutdown(); }

  absl::Status Start(const std::string& listen,
                     std::shared_ptr<grpc::ServerCredentials> credentials) {
    grpc::ServerBuilder builder;
    // Batches of rows exceed gRPC's 4 MiB default. The limit is the largest request a shard
    // buffers at once (docs/limits.md); a bigger one is refused by gRPC (RESOURCE_EXHAUSTED)
    // before the shard allocates anything for it.
    builder.SetMaxReceiveMessageSize(kShardMaxMessageBytes);
    builder.SetMaxSendMessageSize(kShardMaxMessageBytes);
    if (!listen.empty()) {
      // Two servers must never share a port silently (gRPC sets SO_REUSEPORT by default).
      builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
      builder.AddListeningPort(
          listen, credentials ? credentials : grpc::InsecureServerCredentials(), &port_);
    }
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    if (!server_ || (!listen.empty() && port_ == 0))
      return absl::UnavailableError("cannot listen on " + listen +
                                    " (address in use or not local)");
    return absl::OkStatus();
  }

  int port() const override { return port_; }
  std::shared_ptr<grpc::Channel> InProcessChannel() override {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kShardMaxMessageBytes);
    args.SetMaxSendMessageSize(kShardMaxMessageBytes);
    return server_->InProcessChannel(args);
  }
  void Shutdown() override {
    if (!server_ || down_) return;
    down_ = true;
    // In-flight calls finish on the pool; the pool stops only after gRPC let go of them.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    pool_.Stop();
  }

 private:
  std::unique_ptr<ShardJobs> owned_;  // destroyed after the pool that runs requests on it
  WorkerPool pool_;
  ShardServiceImpl service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool down_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ShardServer>> ShardServer::Start(
    ShardCore* core, MetricsRegistry* metrics, const ShardServerOptions& options) {
  auto jobs = ShardJobs::ForCore(core);
  ShardJobs* borrowed = jobs.get();
  auto server = std::make_unique<GrpcShardServer>(borrowed, std::move(jobs), metrics,
                                                  options);
  absl::Status s = server->Start(options.listen, options.credentials);
  if (!s.ok()) return s;
  return std::unique_ptr<ShardServer>(std::move(server));
}

absl::StatusOr<std::unique_ptr<ShardServer>> ShardServer::Start(
    ShardJobs* jobs, MetricsRegistry* metrics, const ShardServerOptions& options) {
  auto server = std::make_unique<GrpcShardServer>(jobs, nullptr, metrics, options);
  absl::Status s = server->Start(options.listen, options.credentials);
  if (!s.ok()) return s;
  return std::unique_ptr<ShardServer>(std::move(server));
}

}  // namespace augur::shard
