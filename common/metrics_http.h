// Serves a MetricsRegistry as Prometheus text on `GET /metrics` (and `GET /healthz` → "ok") from
// a background thread, using cpp-httplib. Binds to loopback unless told otherwise. With the
// process's TransportSecurity it serves HTTPS and, with a token, answers /metrics only to
// "Authorization: Bearer <token>" (401 otherwise; /healthz stays open for liveness probes).
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/transport_security.h"

namespace httplib {
class Server;
}

namespace augur {

class MetricsRegistry;

class MetricsHttpServer {
 public:
  // The registry must outlive the server.
  explicit MetricsHttpServer(const MetricsRegistry* registry);
  ~MetricsHttpServer();  // stops the server
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // `listen` is "host:port"; port 0 picks a free port. Returns the bound port, or
  // UNAVAILABLE when the address cannot be bound, INVALID_ARGUMENT when it does not parse or
  // the security settings are inconsistent or their files unusable (LoadTransportSecurity),
  // NOT_FOUND for unreadable files.
  absl::StatusOr<int> Start(const std::string& listen, const TransportSecurity& security = {});
  void Stop();

 private:
  const MetricsRegistry* registry_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

// Splits "host:port" (port may be 0). INVALID_ARGUMENT when malformed.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& hostport);

// Fetches http://host:port/path (https, verified against the CA, when the loaded client side
// speaks TLS; with its token as a bearer token) with a timeout; the body, or UNAVAILABLE with
// the reason (UNAUTHENTICATED for HTTP 401). Load the security once per client, not per GET.
absl::StatusOr<std::string> HttpGet(const std::string& hostport, const std::string& path,
                                    double timeout_s = 2.0, const LoadedSecurity& security = {});

}  // namespace augur
