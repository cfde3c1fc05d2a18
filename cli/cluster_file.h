// The cluster file deploy/local/up.sh (and deploy/netns) write for `augur ... --cluster FILE`:
//
//   run_dir: ./run/local
//   oracle: {grpc: "127.0.0.1:7100", metrics: "127.0.0.1:9100", pid: 123}
//   shards:
//     - {grpc: "127.0.0.1:7000", metrics: "127.0.0.1:9000", pid: 124}
//   workers:
//     - {index: 0, metrics: "127.0.0.1:9200", pid: 125}
//   security: {tls_ca: "/abs/ca.pem", token_file: "/abs/token"}     (only for a TLS cluster)
//
// Extra keys (netns adds `netns`, `log`) are ignored so the deploy side can grow the file.
// Errors: NOT_FOUND when the file cannot be read; INVALID_ARGUMENT naming the file and key when
// it is malformed or oracle.grpc is missing.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/transport_security.h"

namespace augur::cli {

struct ClusterProcess {
  std::string grpc;     // host:port ("" for workers)
  std::string metrics;  // host:port of its /metrics endpoint ("" when not exported)
  int index = -1;       // workers: their index; shards: their position in the file
  long pid = 0;
};

struct ClusterFile {
  std::string run_dir;
  ClusterProcess oracle;
  std::vector<ClusterProcess> shards, workers;
  TransportSecurity security;  // what a client needs: tls_ca_file, token_file
};

absl::StatusOr<ClusterFile> ParseClusterFile(const std::string& yaml_text, const std::string& path);
absl::StatusOr<ClusterFile> LoadClusterFile(const std::string& path);

// Where the job commands find the oracle: --cluster FILE wins over --oracle HOST:PORT.
struct Endpoints {
  std::string oracle = "127.0.0.1:7100";
  std::string cluster_file;  // "" when --cluster was not given
  TransportSecurity security;  // --tls-ca / --token-file, for the oracle and the shards
};
// The client security to use: --tls-ca / --token-file when given, else the cluster file's
// (`cluster` may be null: no cluster file).
TransportSecurity ClientSecurity(const Endpoints& e, const ClusterFile* cluster);

// Where the flags say the oracle is and how to reach the cluster, the cluster file read once.
struct ClusterAccess {
  std::string oracle;          // host:port
  TransportSecurity security;  // client side (ClientSecurity)
};
absl::StatusOr<ClusterAccess> ResolveEndpoints(const Endpoints& e);

}  // namespace augur::cli
